"""``codex exec`` for people: the answer on stdout, the transcript on stderr.

The transcript (header, reasoning, commands with exit status and duration, patches as diffs, the
plan as a checklist, tokens) goes to stderr so ``codex exec ... > answer.txt`` keeps only the answer.

It reads like the peer's, top to bottom, so a log of stderr alone is complete: the header, the
prompt (``user``), each model response's items followed by its token count, and last the answer
(``codex``). The session reports a response's tokens before the items of that response, so the
count is held until they are printed; likewise a message is held until it is known whether it is
the final answer. When stdout and stderr are the same terminal the answer is printed once.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TextIO

from codex import events as ev

_STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
}
OUTPUT_PREVIEW_LINES = 5


class HumanRenderer:
    """Writes a readable transcript of the session's events."""

    def __init__(
        self, out: TextIO, err: TextIO, color: bool, prompt: str | None = None, image_names: Sequence[str] = ()
    ) -> None:
        self.out, self.err, self.color = out, err, color
        self.prompt = prompt
        self.image_names = list(image_names)  # attached with the prompt (-i), shown under it
        self.final_message: str | None = None
        self._reasoning_open = False
        self._held_tokens: ev.TokenCount | None = None  # printed after the items of its response
        self._held_message: str | None = None  # printed when the next item shows it was not the answer

    def style(self, text: str, *names: str) -> str:
        if not self.color or not names:
            return text
        codes = ";".join(_STYLES[n] for n in names)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def _say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def handle(self, event: ev.Event) -> None:
        msg = event.msg
        if type(msg) in ev.STREAMED_PIECES:  # shown as the whole items they add up to
            self._release_message()
            return
        if isinstance(msg, ev.TokenCount):
            self._release_message()
            self._release_tokens()
            self._held_tokens = msg
            return
        if isinstance(msg, ev.TaskComplete):
            self._finish(msg)
            return
        self._release_message()
        if isinstance(msg, ev.Error | ev.TurnAborted):
            self._release_tokens()
        if isinstance(msg, ev.SessionConfigured):
            rows = [
                ("workdir", msg.cwd),
                ("model", msg.model),
                ("provider", msg.provider),
                ("approval", msg.approval_policy),
                ("sandbox", f"{msg.sandbox} [{msg.sandbox_backend}]"),
                ("session id", msg.session_id),
            ]
            self._say(self.style("codex exec", "bold"))
            for key, value in rows:
                self._say(f"{self.style(key + ':', 'dim')} {value}")
            self._say("--------")
            if self.prompt is not None:
                self._say(self.style("user", "cyan", "bold"))
                self._say(self.prompt)
                for name in self.image_names:
                    self._say(self.style(f"[image: {name}]", "dim"))
        elif isinstance(msg, ev.AgentReasoning):
            self._say(self.style("thinking", "magenta", "bold"))
            self._say(self.style(msg.text, "dim"))
        elif isinstance(msg, ev.ExecCommandBegin):
            tag = "" if msg.sandboxed else self.style(" (unsandboxed)", "yellow")
            self._say(f"{self.style('exec', 'magenta', 'bold')} {shlex.join(msg.command)}{tag} in {msg.cwd}")
        elif isinstance(msg, ev.ExecCommandEnd):
            ok = msg.exit_code == 0
            status = "succeeded" if ok else f"exited {msg.exit_code}"
            self._say(self.style(f"{status} in {msg.duration_seconds * 1000:.0f}ms:", "green" if ok else "red"))
            lines = msg.aggregated_output.splitlines()
            for line in lines[:OUTPUT_PREVIEW_LINES]:
                self._say(self.style(line, "dim"))
            if len(lines) > OUTPUT_PREVIEW_LINES:
                self._say(self.style(f"... +{len(lines) - OUTPUT_PREVIEW_LINES} lines", "dim"))
        elif isinstance(msg, ev.PatchApplyBegin):
            verb = "auto-approved" if msg.auto_approved else "approved"
            self._say(f"{self.style('apply_patch', 'magenta', 'bold')} {verb}:")
            for path, change in msg.changes.items():
                self._diff(change.get("unified_diff", "")) if change.get("unified_diff") else self._say(path)
        elif isinstance(msg, ev.PatchApplyEnd):
            if msg.success:
                self._say(self.style(msg.stdout.strip(), "green"))
            else:
                self._say(self.style(f"apply_patch failed: {msg.stderr}", "red"))
        elif isinstance(msg, ev.PlanUpdate):
            self._say(self.style("plan", "magenta", "bold"))
            marks = {"completed": "[x]", "in_progress": "[~]", "pending": "[ ]"}
            for step in msg.plan:
                self._say(f"  {marks.get(step['status'], '[ ]')} {step['step']}")
        elif isinstance(msg, ev.McpToolCallBegin):
            self._say(f"{self.style('tool', 'magenta', 'bold')} {msg.server}.{msg.tool}")
        elif isinstance(msg, ev.McpToolCallEnd):
            status = "succeeded" if msg.success else "failed"
            self._say(self.style(f"{msg.server}.{msg.tool} {status}", "green" if msg.success else "red"))
        elif isinstance(msg, ev.ToolCallBegin):
            owner = f" (plugin {msg.plugin})" if msg.plugin else ""
            self._say(f"{self.style('tool', 'magenta', 'bold')} {msg.tool}{owner} {_arguments_text(msg.arguments)}")
        elif isinstance(msg, ev.ToolCallEnd):
            status = "succeeded" if msg.success else "failed"
            color = "green" if msg.success else "red"
            self._say(self.style(f"{msg.tool} {status} in {msg.duration_seconds * 1000:.0f}ms:", color))
            lines = msg.output.splitlines()
            for line in lines[:OUTPUT_PREVIEW_LINES]:
                self._say(self.style(line, "dim"))
            if len(lines) > OUTPUT_PREVIEW_LINES:
                self._say(self.style(f"... +{len(lines) - OUTPUT_PREVIEW_LINES} lines", "dim"))
        elif isinstance(msg, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
            self._say(self.style("approval needed, but exec never asks: denied", "yellow"))
        elif isinstance(msg, ev.AgentMessage):
            self.final_message = msg.message
            self._held_message = msg.message
        elif isinstance(msg, ev.ContextCompacted):
            self._say(self.style(f"context compacted ({msg.reason}): {msg.tokens_before:,} → "
                                 f"{msg.tokens_after:,} tokens; continuing from a summary", "cyan"))
        elif isinstance(msg, ev.StreamError | ev.BackgroundEvent):
            self._say(self.style(msg.message, "yellow"))
        elif isinstance(msg, ev.Error):
            self._say(self.style(f"error: {msg.message}", "red", "bold"))
        elif isinstance(msg, ev.TurnAborted):
            self._say(self.style(f"turn {msg.reason}", "red"))

    def _release_message(self) -> None:
        """A held message followed by more items was a message along the way: print it now."""
        if self._held_message is not None:
            self._message(self._held_message)
            self._held_message = None

    def _release_tokens(self) -> None:
        if self._held_tokens is not None:
            left = self._held_tokens.percent_left()
            context = f" · {left}% context left" if left is not None else ""
            self._say(self.style(f"tokens used: {self._held_tokens.total.total_tokens}{context}", "dim"))
            self._held_tokens = None

    def _message(self, text: str) -> None:
        self._say(self.style("codex", "cyan", "bold"))
        self._say(text)

    def _finish(self, msg: ev.TaskComplete) -> None:
        """The last response's token count, then the answer: last on stderr, alone on stdout."""
        self._release_tokens()
        answer = msg.last_agent_message if msg.last_agent_message is not None else self._held_message
        self._held_message = None
        if answer is None:
            return
        self._message(answer)
        if not (_is_terminal(self.out) and _is_terminal(self.err)):
            print(answer, file=self.out, flush=True)

    def _diff(self, diff: str) -> None:
        for line in diff.splitlines():
            if line.startswith(("+++", "---")):
                self._say(self.style(line, "bold"))
            elif line.startswith("+"):
                self._say(self.style(line, "green"))
            elif line.startswith("-"):
                self._say(self.style(line, "red"))
            elif line.startswith("@@"):
                self._say(self.style(line, "cyan"))
            else:
                self._say(line)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


ARGUMENTS_PREVIEW_CHARS = 200


def _arguments_text(arguments: object) -> str:
    """A tool call's arguments on one line, as JSON, cut at ``ARGUMENTS_PREVIEW_CHARS``."""
    import json

    text = json.dumps(arguments, ensure_ascii=False)
    return text if len(text) <= ARGUMENTS_PREVIEW_CHARS else text[: ARGUMENTS_PREVIEW_CHARS - 1] + "…"
