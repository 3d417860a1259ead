"""``codex exec --json``: one JSON object per line, in the peer's current exec schema.

thread.started, turn.started, item.started / item.updated / item.completed (agent_message,
reasoning, command_execution, file_change, todo_list, mcp_tool_call, tool_call, error, and ours:
context_compaction), turn.completed with usage, turn.failed. ``usage`` is the peer's (tokens of
this process's turns); ``context`` is ours: the window, the tokens the conversation holds and
the compaction threshold after the turn. Keys are written in a fixed order so the output diffs cleanly.

``mcp_tool_call`` has the peer's fields (server, tool, arguments, result with content and
structured_content, error with message, status). ``tool_call`` is the same shape for a
plugin's tool (ours; the peer has no plugin tools): plugin, tool, arguments, result with the
output the model read, error with its message, status in_progress / completed / failed.
"""

from __future__ import annotations

import json
import shlex
from typing import Any, TextIO

from codex import events as ev


class JsonRenderer:
    """Turns engine events into exec JSONL lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._next_item = 0
        self._commands: dict[str, dict[str, Any]] = {}
        self._patches: dict[str, dict[str, Any]] = {}
        self._mcp: dict[str, dict[str, Any]] = {}
        self._tools: dict[str, dict[str, Any]] = {}
        self._todo: dict[str, Any] | None = None
        self.usage: dict[str, int] = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
        self.context: dict[str, int | None] | None = None

    def _line(self, payload: dict[str, Any]) -> None:
        self.out.write(json.dumps(payload, ensure_ascii=False) + "\n")
        self.out.flush()

    def _item_id(self) -> str:
        item_id = f"item_{self._next_item}"
        self._next_item += 1
        return item_id

    def _item(self, kind: str, item: dict[str, Any]) -> None:
        self._line({"type": kind, "item": item})

    def handle(self, event: ev.Event) -> None:
        msg = event.msg
        if type(msg) in ev.STREAMED_PIECES:
            return  # the peer's schema has whole items only; skip the checks below per delta
        if isinstance(msg, ev.SessionConfigured):
            self._line({"type": "thread.started", "thread_id": msg.session_id})
        elif isinstance(msg, ev.TaskStarted):
            self._line({"type": "turn.started"})
        elif isinstance(msg, ev.AgentMessage):
            self._item("item.completed", {"id": self._item_id(), "type": "agent_message", "text": msg.message})
        elif isinstance(msg, ev.AgentReasoning):
            self._item("item.completed", {"id": self._item_id(), "type": "reasoning", "text": msg.text})
        elif isinstance(msg, ev.ExecCommandBegin):
            item: dict[str, Any] = {
                "id": self._item_id(),
                "type": "command_execution",
                "command": shlex.join(msg.command),
                "aggregated_output": "",
                "exit_code": None,
                "status": "in_progress",
            }
            self._commands[msg.call_id] = item
            self._item("item.started", item)
        elif isinstance(msg, ev.ExecCommandEnd):
            started = self._commands.pop(msg.call_id, {})
            if started:
                started.update(
                    aggregated_output=msg.aggregated_output,
                    exit_code=msg.exit_code,
                    status="completed" if msg.exit_code == 0 else "failed",
                )
                self._item("item.completed", started)
        elif isinstance(msg, ev.PatchApplyBegin):
            changes = [{"path": path, "kind": change["kind"]} for path, change in msg.changes.items()]
            self._patches[msg.call_id] = {"id": self._item_id(), "type": "file_change", "changes": changes}
        elif isinstance(msg, ev.PatchApplyEnd):
            change = self._patches.pop(msg.call_id, {})
            if change:
                change["status"] = "completed" if msg.success else "failed"
                self._item("item.completed", change)
        elif isinstance(msg, ev.PlanUpdate):
            items = [{"text": s["step"], "completed": s["status"] == "completed"} for s in msg.plan]
            if self._todo is None:
                self._todo = {"id": self._item_id(), "type": "todo_list", "items": items}
                self._item("item.started", self._todo)
            else:
                self._todo["items"] = items
                self._item("item.updated", self._todo)
        elif isinstance(msg, ev.McpToolCallBegin):
            item = {
                "id": self._item_id(),
                "type": "mcp_tool_call",
                "server": msg.server,
                "tool": msg.tool,
                "arguments": msg.arguments,
                "result": None,
                "error": None,
                "status": "in_progress",
            }
            self._mcp[msg.call_id] = item
            self._item("item.started", item)
        elif isinstance(msg, ev.McpToolCallEnd):
            call = self._mcp.pop(msg.call_id, {})
            if call:
                answer = msg.result if isinstance(msg.result, dict) else {}
                if "error" in answer and "content" not in answer:
                    call["error"] = {"message": str(answer["error"])}
                else:
                    call["result"] = {
                        "content": answer.get("content", []),
                        "structured_content": answer.get("structuredContent"),
                    }
                call["status"] = "completed" if msg.success else "failed"
                self._item("item.completed", call)
        elif isinstance(msg, ev.ToolCallBegin):
            item = {
                "id": self._item_id(),
                "type": "tool_call",
                "plugin": msg.plugin,
                "tool": msg.tool,
                "arguments": msg.arguments,
                "result": None,
                "error": None,
                "status": "in_progress",
            }
            self._tools[msg.call_id] = item
            self._item("item.started", item)
        elif isinstance(msg, ev.ToolCallEnd):
            call = self._tools.pop(msg.call_id, {})
            if call:
                if msg.success:
                    call["result"] = {"output": msg.output}
                else:
                    call["error"] = {"message": msg.output}
                call["status"] = "completed" if msg.success else "failed"
                self._item("item.completed", call)
        elif isinstance(msg, ev.StreamError | ev.BackgroundEvent) and msg.message.startswith(("warning", "stream")):
            self._item("item.completed", {"id": self._item_id(), "type": "error", "message": msg.message})
        elif isinstance(msg, ev.TokenCount):
            self.usage = {
                "input_tokens": msg.total.input_tokens,
                "cached_input_tokens": msg.total.cached_input_tokens,
                "output_tokens": msg.total.output_tokens,
            }
            self.context = {
                "model_context_window": msg.model_context_window,
                "context_tokens": msg.context_tokens,
                "auto_compact_token_limit": msg.auto_compact_token_limit,
            }
        elif isinstance(msg, ev.ContextCompacted):
            self._item("item.completed", {
                "id": self._item_id(),
                "type": "context_compaction",
                "reason": msg.reason,
                "tokens_before": msg.tokens_before,
                "tokens_after": msg.tokens_after,
                "summary": msg.summary,
            })
        elif isinstance(msg, ev.TaskComplete):
            self._finish_todo()
            completed: dict[str, Any] = {"type": "turn.completed", "usage": self.usage}
            if self.context is not None:
                completed["context"] = self.context
            self._line(completed)
        elif isinstance(msg, ev.Error):
            self._finish_todo()
            self._line({"type": "turn.failed", "error": {"message": msg.message}})
        elif isinstance(msg, ev.TurnAborted):
            self._finish_todo()
            self._line({"type": "turn.failed", "error": {"message": f"turn {msg.reason}"}})

    def _finish_todo(self) -> None:
        if self._todo is not None:
            self._item("item.completed", self._todo)
            self._todo = None
