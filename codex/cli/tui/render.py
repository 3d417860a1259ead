"""Session events -> what a person reads: committed lines and the live rows of a running turn.

``Transcript`` keeps the state of the turn on screen (the streaming message, the reasoning,
running commands, the plan, token counts). Finished things are handed to ``commit`` (they go to
the scrollback and are never redrawn); things still changing are returned by ``live_rows`` and
redrawn in place at the bottom of the screen. Nothing here touches the terminal.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from codex import events as ev
from codex.cli.tui.markdown import MarkdownRenderer, MarkdownStream
from codex.cli.tui.text import Palette, fit, sanitize, wrap
from codex.protocol import FunctionCall, FunctionCallOutput, InputItem, Message, TokenUsage

OUTPUT_TAIL_LINES = 5
LIVE_OUTPUT_LINES = 2
LIVE_MESSAGE_ROWS = 12
LIVE_RENDER_SECONDS = 0.1
_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
PLAN_MARKS = {"completed": "✔", "in_progress": "▸", "pending": "□"}
# Messages the engine adds for the model's benefit, not typed by the person.
_CONTEXT_PREFIXES = (
    "<environment_context>", "<user_instructions>", "<summary_of_earlier_conversation>", "<current_plan>"
)


def spinner_frame(now: float) -> str:
    """The spinner character for this moment (10 frames a second)."""
    return SPINNER[int(now * 10) % len(SPINNER)]


def command_text(command: Sequence[str]) -> str:
    """A command as a person would type it: the script of ``bash -lc SCRIPT``, else shell-quoted."""
    if len(command) == 3 and command[0] in ("bash", "sh", "zsh", "/bin/bash", "/bin/sh") and command[1] in (
        "-lc",
        "-c",
    ):
        return command[2]
    return shlex.join(command)


def format_duration(seconds: float) -> str:
    """``850ms``, ``4.2s``, ``3m05s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def header_lines(msg: ev.SessionConfigured, paint: Palette, version: str, width: int) -> list[str]:
    """The session header: what runs, where, under which rules, and the id to resume it by."""
    backend = msg.sandbox_backend
    sandbox = msg.sandbox if backend in ("", "none") else f"{msg.sandbox} [{backend}]"
    rows = [
        ("model", f"{msg.model} ({msg.provider})"),
        ("directory", msg.cwd),
        ("approval", msg.approval_policy),
        ("sandbox", sandbox),
        ("session", msg.session_id),
    ]
    lines = [paint(">_ codex", "bold") + paint(f" v{version}", "dim")]
    for label, value in rows:
        lines.append(f"  {paint(f'{label:<10}', 'dim')}{value}")  # never cut: the terminal wraps it
    if backend == "unavailable":
        lines.append(paint("  no sandbox backend works here: commands need approval or are refused", "yellow"))
    return lines


def diff_lines(diff: str, paint: Palette) -> list[str]:
    """A unified diff coloured: additions green, removals red, hunk headers cyan."""
    out: list[str] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            out.append(paint(line, "bold"))
        elif line.startswith("+"):
            out.append(paint(line, "green"))
        elif line.startswith("-"):
            out.append(paint(line, "red"))
        elif line.startswith("@@"):
            out.append(paint(line, "cyan"))
        else:
            out.append(line)
    return out


def plan_lines(plan: Sequence[dict[str, str]], explanation: str | None, paint: Palette, width: int) -> list[str]:
    """The plan as a checklist: done steps ticked, the current one highlighted."""
    lines = [paint("Plan", "bold")]
    if explanation:
        lines += [paint("  " + row, "dim") for row in wrap(explanation, width - 2)]
    for step in plan:
        status = step.get("status", "pending")
        mark = PLAN_MARKS.get(status, "□")
        text = fit(f"  {mark} {step.get('step', '')}", width)
        if status == "completed":
            lines.append(paint(text, "green"))
        elif status == "in_progress":
            lines.append(paint(text, "cyan", "bold"))
        else:
            lines.append(paint(text, "dim"))
    return lines


def usage_line(turn: TokenUsage, total: TokenUsage, paint: Palette) -> str:
    """``tokens: 1,234 this turn (in 1,000 / cached 200 / out 234) · 5,678 this session``."""
    detail = f"in {turn.input_tokens:,}"
    if turn.cached_input_tokens:
        detail += f" / cached {turn.cached_input_tokens:,}"
    detail += f" / out {turn.output_tokens:,}"
    if turn.reasoning_output_tokens:
        detail += f" / reasoning {turn.reasoning_output_tokens:,}"
    return paint(f"tokens: {turn.total_tokens:,} this turn ({detail}) · {total.total_tokens:,} this session", "dim")


def output_tail(text: str, paint: Palette, width: int, count: int = OUTPUT_TAIL_LINES) -> list[str]:
    """The last ``count`` lines of command output, indented and dimmed."""
    lines = text.rstrip("\n").splitlines()
    out: list[str] = []
    if len(lines) > count:
        out.append(paint(f"  │ … +{len(lines) - count} lines", "dim"))
        lines = lines[-count:]
    out += [paint(fit("  │ " + line.expandtabs(4), width), "dim") for line in lines]
    return out


def user_lines(text: str, paint: Palette, width: int) -> list[str]:
    """What the person sent, as it stays in the scrollback."""
    rows = wrap(text, max(10, width - 2))
    return [paint("› ", "bold", "cyan") + rows[0], *("  " + row for row in rows[1:])]


@dataclass
class RunningCommand:
    """A command between its begin and end events."""

    command: list[str]
    started: float
    sandboxed: bool
    output: str = ""


@dataclass
class TurnState:
    """What belongs to the turn in progress."""

    usage: TokenUsage = field(default_factory=TokenUsage)
    plan: list[dict[str, str]] | None = None
    plan_explanation: str | None = None


class Transcript:
    """Renders events: finished parts go to ``commit``, changing parts come from ``live_rows``."""

    def __init__(
        self,
        paint: Palette,
        markdown: MarkdownRenderer,
        commit: Callable[[list[str]], None],
        width: Callable[[], int],
        *,
        plain: bool = False,
    ) -> None:
        self.paint = paint
        self.markdown = markdown
        self.commit = commit
        self.width = width
        self.plain = plain
        self.total = TokenUsage()
        # The latest TokenCount's view of the window (None until the first one).
        self.context: ev.TokenCount | None = None
        self.turn = TurnState()
        self.commands: dict[str, RunningCommand] = {}
        self.mcp_calls: dict[str, tuple[str, float]] = {}
        self._message: MarkdownStream | None = None
        self._reasoning = ""
        self._reasoning_shown: list[str] = []  # streamed reasoning already committed, by content
        # Reasoning finished while an answer streams: committed after the answer, never inside it.
        self._late_reasoning: list[str] = []
        self._live_cache: tuple[str, int, list[str]] = ("", 0, [])
        self._live_rendered_at = 0.0

    # ------------------------------------------------------------------ the message stream

    def _render_markdown(self, source: str) -> list[str]:
        if self.plain:
            return source.strip("\n").splitlines()
        return self.markdown.render(source, self.width())

    def _stream(self) -> MarkdownStream:
        if self._message is None:
            # What came before the answer lands above it, in the order it happened: the plan
            # (set by an earlier tool call), then this response's reasoning.
            self._commit_plan()
            self._flush_reasoning()
            self._message = MarkdownStream(self._render_markdown)
        return self._message

    def _commit_plan(self) -> None:
        if self.turn.plan:
            self.commit(plan_lines(self.turn.plan, self.turn.plan_explanation, self.paint, self.width()))
            self.turn.plan = None

    def _commit_message_rows(self, rows: list[str], first: bool) -> None:
        if rows:
            self.commit(([self.paint("codex", "bold", "magenta")] if first else []) + rows)

    def _push_delta(self, delta: str) -> None:
        stream = self._stream()
        first = stream.blocks == 0
        self._commit_message_rows(stream.push(delta), first)

    def finish_message(self, full_text: str | None = None) -> None:
        """End the streaming message (commit its tail); a message that never streamed is shown whole."""
        stream = self._message
        if stream is None:
            if full_text:
                stream = self._stream()
                stream.source = full_text
            else:
                return
        first = stream.blocks == 0
        self._commit_message_rows(stream.finish(), first)
        self._message = None
        late, self._late_reasoning = self._late_reasoning, []
        for text in late:
            self.commit(self._reasoning_rows(text))

    def _flush_reasoning(self) -> None:
        text = self._reasoning.strip()
        self._reasoning = ""
        if text:
            self._reasoning_shown.append(_squeeze(text))
            self.commit(self._reasoning_rows(text))

    def _reasoning_rows(self, text: str) -> list[str]:
        width = self.width()
        rows = [row for line in text.splitlines() for row in wrap(line.replace("**", ""), width - 2)]
        return [self.paint("thinking", "dim", "bold")] + [self.paint("  " + row, "dim", "italic") for row in rows]

    # ------------------------------------------------------------------ events

    def handle(self, msg: ev.EventMsg) -> None:
        """Render one event (approvals and turn bookkeeping are the app's)."""
        paint = self.paint
        if isinstance(msg, ev.AgentMessageDelta):
            self._push_delta(msg.delta)
        elif isinstance(msg, ev.AgentMessage):
            self.finish_message(msg.message)
        elif isinstance(msg, ev.AgentReasoningDelta):
            self._reasoning += msg.delta
        elif isinstance(msg, ev.AgentReasoning):
            # The finished item repeats what its deltas said; show it only if they were not shown.
            self._reasoning = ""
            finished = _squeeze(msg.text)
            if finished in self._reasoning_shown:
                self._reasoning_shown.remove(finished)
            elif finished and self._message is not None:
                self._late_reasoning.append(msg.text)  # an answer is half on screen: after it
            elif finished:
                self.commit(self._reasoning_rows(msg.text))
        elif isinstance(msg, ev.ExecCommandBegin):
            self.finish_message()
            self._flush_reasoning()
            self.commands[msg.call_id] = RunningCommand(list(msg.command), time.monotonic(), msg.sandboxed)
        elif isinstance(msg, ev.ExecCommandOutputDelta):
            running = self.commands.get(msg.call_id)
            if running is not None:
                running.output = (running.output + msg.chunk)[-4000:]
        elif isinstance(msg, ev.ExecCommandEnd):
            self._command_end(msg)
        elif isinstance(msg, ev.PatchApplyBegin):
            self.finish_message()
            verb = "auto-approved" if msg.auto_approved else "approved"
            lines = [paint("• ", "magenta") + paint("Applying patch", "bold") + paint(f" ({verb})", "dim")]
            for path, change in msg.changes.items():
                diff = change.get("unified_diff") or ""
                lines += diff_lines(diff, paint) if diff else [f"  {change.get('kind', 'update')} {path}"]
            self.commit(lines)
        elif isinstance(msg, ev.PatchApplyEnd):
            if msg.success:
                self.commit([paint("✓ ", "green") + paint((msg.stdout.strip() or "patch applied"), "green")])
            else:
                self.commit([paint(f"✗ patch failed: {msg.stderr.strip()}", "red")])
        elif isinstance(msg, ev.PlanUpdate):
            self.turn.plan = list(msg.plan)
            self.turn.plan_explanation = msg.explanation
        elif isinstance(msg, ev.McpToolCallBegin):
            self.finish_message()
            self.mcp_calls[msg.call_id] = (f"{msg.server}.{msg.tool}", time.monotonic())
        elif isinstance(msg, ev.McpToolCallEnd):
            self.mcp_calls.pop(msg.call_id, None)
            mark = paint("✓", "green") if msg.success else paint("✗", "red")
            self.commit([f"{mark} {paint(f'{msg.server}.{msg.tool}', 'bold')} "
                         f"{paint('· ' + format_duration(msg.duration_seconds), 'dim')}"])
        elif isinstance(msg, ev.ToolCallBegin):
            # A plugin's tool: shown like an MCP tool, running in the live area, then committed.
            self.finish_message()
            self._flush_reasoning()
            self.mcp_calls[msg.call_id] = (_tool_title(msg.tool, msg.plugin), time.monotonic())
        elif isinstance(msg, ev.ToolCallEnd):
            self.mcp_calls.pop(msg.call_id, None)
            mark = paint("✓", "green") if msg.success else paint("✗", "red")
            self.commit([f"{mark} {paint(sanitize(_tool_title(msg.tool, msg.plugin)), 'bold')} "
                         f"{paint('· ' + format_duration(msg.duration_seconds), 'dim')}",
                         *output_tail(sanitize(msg.output), paint, self.width())])
        elif isinstance(msg, ev.TokenCount):
            self.turn.usage.add(msg.last)
            self.total = msg.total
            self.context = msg
        elif isinstance(msg, ev.ContextCompacted):
            self.finish_message()
            reasons = {"auto": "the context was nearly full", "manual": "/compact",
                       "context_length_exceeded": "the model refused a request that did not fit"}
            why = reasons.get(msg.reason, msg.reason)
            self.commit([paint(f"• context compacted ({why}): {msg.tokens_before:,} → {msg.tokens_after:,} tokens; "
                               "continuing from a summary", "cyan")])
        elif isinstance(msg, ev.StreamError):
            # The attempt is void: what it streamed will come again, so drop the unfinished part.
            self._message = None
            self._reasoning = ""
            self._late_reasoning = []
            self.commit([paint(f"⚠ {msg.message}", "yellow")])
        elif isinstance(msg, ev.BackgroundEvent):
            self.commit([paint(msg.message, "dim")])
        elif isinstance(msg, ev.Error):
            self.end_turn()
            self.commit([paint(f"■ error: {msg.message}", "red", "bold")])
        elif isinstance(msg, ev.TurnAborted):
            self.end_turn()
            reason = "interrupted" if msg.reason == "interrupted" else "aborted"
            self.commit([paint(f"■ turn {reason}", "red")])
        elif isinstance(msg, ev.TaskComplete):
            self.end_turn()
            self.commit([usage_line(self.turn.usage, self.total, paint)])
            self.turn = TurnState()

    def _command_end(self, msg: ev.ExecCommandEnd) -> None:
        paint, width = self.paint, self.width()
        running = self.commands.pop(msg.call_id, None)
        text = command_text(running.command) if running else msg.call_id
        ok = msg.exit_code == 0
        mark = paint("✓", "green", "bold") if ok else paint("✗", "red", "bold")
        status = format_duration(msg.duration_seconds) if ok else f"exit {msg.exit_code} · "
        status = status if ok else status + format_duration(msg.duration_seconds)
        first = f"{mark} {paint(text.splitlines()[0] if text else '', 'bold')}"
        lines = [fit(first + paint(f" · {status}", "dim" if ok else "red"), width)]
        lines += [paint("  " + row, "bold") for row in text.splitlines()[1:4]]
        lines += output_tail(msg.aggregated_output, paint, width)
        self.commit(lines)

    def end_turn(self) -> None:
        """Commit what the turn left in the live area (the message tail, reasoning, the plan)."""
        self.finish_message()
        self._flush_reasoning()
        self._reasoning_shown.clear()
        for call_id in list(self.commands):
            running = self.commands.pop(call_id)
            self.commit([self.paint(f"■ {command_text(running.command)} (stopped)", "red")])
        self.mcp_calls.clear()
        self._commit_plan()

    # ------------------------------------------------------------------ the live area

    def live_rows(self, now: float, refresh: bool = True) -> list[str]:
        """Rows that still change: plan, reasoning and message tails, running commands.

        ``refresh=False`` reuses the last rendering of the streaming message, so echoing a key
        never waits for Markdown to be rendered.
        """
        paint, width = self.paint, self.width()
        rows: list[str] = []
        if self.turn.plan:
            rows += plan_lines(self.turn.plan, self.turn.plan_explanation, paint, width)
        if self._reasoning.strip():
            tail = self._reasoning_rows(self._reasoning.strip())
            rows += [tail[0], *tail[1:][-3:]]
        if self._message is not None and self._message.tail.strip():
            rows += self._live_message(self._message.tail, width, now, refresh)
        for running in self.commands.values():
            elapsed = format_duration(now - running.started)
            title = command_text(running.command).splitlines()[0]
            spinner = paint(spinner_frame(now), "cyan")
            rows.append(fit(f"{spinner} {paint(title, 'bold')} {paint('· ' + elapsed, 'dim')}", width))
            lines = running.output.rstrip("\n").splitlines()[-LIVE_OUTPUT_LINES:]
            rows += [paint(fit("  │ " + line.expandtabs(4), width), "dim") for line in lines]
        for name, started in self.mcp_calls.values():
            rows.append(fit(f"{paint(spinner_frame(now), 'cyan')} {paint(name, 'bold')} "
                            f"{paint('· ' + format_duration(now - started), 'dim')}", width))
        return rows

    def _live_message(self, tail: str, width: int, now: float, refresh: bool) -> list[str]:
        cached_source, cached_width, cached_rows = self._live_cache
        stale = cached_source != tail or cached_width != width
        # Rendering is throttled: deltas arrive far faster than anyone reads.
        due = cached_width != width or now - self._live_rendered_at >= LIVE_RENDER_SECONDS
        if stale and refresh and due:
            if self.plain:
                cached_rows = []
            else:
                cached_rows = [fit(row, width) for row in self._render_markdown(live_excerpt(tail))]
            self._live_cache = (tail, width, cached_rows)
            self._live_rendered_at = now
        first = self._message is not None and self._message.blocks == 0
        label = [self.paint("codex", "bold", "magenta")] if first else []
        return label + cached_rows[-LIVE_MESSAGE_ROWS:]


def live_excerpt(tail: str, max_lines: int = 2 * LIVE_MESSAGE_ROWS, max_chars: int = 4000) -> str:
    """The end of an unfinished block, enough to fill the live rows, cheap to render.

    Only the last rows are shown, so only the last lines are rendered; an open code fence is
    kept in front so the excerpt still renders as code.
    """
    if len(tail) <= max_chars and tail.count("\n") <= max_lines:
        return tail
    lines = tail.split("\n")
    fence = None
    for line in lines[: max(0, len(lines) - max_lines)]:
        match = _FENCE_OPEN_RE.match(line)
        if match:
            fence = None if fence is not None else line
    excerpt = "\n".join(lines[-max_lines:])
    if len(excerpt) > max_chars:
        excerpt = excerpt[-max_chars:]
        excerpt = excerpt[excerpt.find(" ") + 1 :] if " " in excerpt[:80] else excerpt
    return f"{fence}\n{excerpt}" if fence is not None else excerpt


def clean_event(msg: ev.EventMsg) -> ev.EventMsg:
    """The event with every text field stripped of escape and control sequences.

    Model output, command output and file contents reach the terminal through here, and none
    of them may move the cursor, change the title or reprogram the terminal.
    """
    changes: dict[str, Any] = {}
    for spec in dataclasses.fields(msg):
        value = getattr(msg, spec.name)
        cleaned = _clean_value(value)
        if cleaned is not value:
            changes[spec.name] = cleaned
    return dataclasses.replace(msg, **changes) if changes else msg


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        cleaned = sanitize(value)
        return value if cleaned == value else cleaned
    if isinstance(value, list):
        items = [_clean_value(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        pairs = {key: _clean_value(item) for key, item in value.items()}
        return value if all(pairs[key] is value[key] for key in value) else pairs
    return value


def _squeeze(text: str) -> str:
    return "".join(text.split())


def history_lines(items: Sequence[InputItem], paint: Palette, markdown: Callable[[str], list[str]],
                  width: int) -> list[str]:
    """A resumed session's transcript: what was asked, what ran, what codex answered."""
    lines: list[str] = []
    calls: dict[str, Any] = {}
    from codex.cli.tui.text import sanitize

    for item in items:
        if isinstance(item, Message):
            text = sanitize(item.text)
            if item.role == "user" and not text.lstrip().startswith(_CONTEXT_PREFIXES):
                lines += ["", *user_lines(text, paint, width)]
            elif item.role == "assistant" and text.strip():
                lines += ["", paint("codex", "bold", "magenta"), *markdown(text)]
        elif isinstance(item, FunctionCall):
            calls[item.call_id] = item
            lines.append(fit(paint("• ", "magenta") + paint(sanitize(_call_summary(item)), "bold"), width))
        elif isinstance(item, FunctionCallOutput) and (
            item.success is False or _shows_output(calls.get(item.call_id))
        ):
            lines.append(paint("  │ " + (sanitize(item.output).splitlines() or [""])[0][: width - 4], "dim"))
    return lines


def _tool_title(tool: str, plugin: str) -> str:
    return f"{tool} ({plugin})" if plugin and plugin != tool else tool


def _call_summary(call: FunctionCall) -> str:
    import json

    try:
        arguments = json.loads(call.arguments)
    except json.JSONDecodeError:
        arguments = None
    if call.name == "shell" and isinstance(arguments, dict) and isinstance(arguments.get("command"), list):
        return "ran " + command_text([str(part) for part in arguments["command"]]).splitlines()[0]
    if call.name == "update_plan":
        return "updated the plan"
    if isinstance(arguments, dict) and arguments:
        return f"called {call.name} {json.dumps(arguments, ensure_ascii=False)}"
    return f"called {call.name}"


def _shows_output(call: FunctionCall | None) -> bool:
    """A tool other than the built-ins (a plugin's, an MCP server's): its answer is worth a line."""
    return call is not None and call.name not in ("shell", "update_plan", "apply_patch")
