"""What flows between a face and the engine: ops in, events out (a queue pair, like the peer).

Event ``type`` names follow the peer's EventMsg, so a face written against one reads the other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from codex.protocol import ImageInput, InputItem, TokenUsage

# ---------------------------------------------------------------------------- ops (face -> engine)


class ReviewDecision(str, Enum):
    """A person's answer to an approval request."""

    APPROVED = "approved"
    APPROVED_FOR_SESSION = "approved_for_session"
    DENIED = "denied"
    ABORT = "abort"


@dataclass(slots=True)
class UserInput:
    """Start a turn with this text (or add it to the next one).

    ``images`` go to the model with the text (``codex.images.load_image`` makes them);
    ``output_schema`` is a JSON Schema the turn's final answer must follow: it is sent with
    every request of the turn, and an answer that does not follow it ends the turn with an
    ``Error`` instead of ``TaskComplete``.
    """

    text: str
    images: tuple[ImageInput, ...] = ()
    output_schema: dict[str, Any] | None = None


@dataclass(slots=True)
class ApprovalAnswer:
    """Answer the approval request whose event carried ``request_id``.

    ``prefix`` (with APPROVED_FOR_SESSION) approves every command starting with those words for
    the rest of the session; ``feedback`` (with DENIED) is passed to the model.
    """

    request_id: str
    decision: ReviewDecision
    feedback: str | None = None
    prefix: list[str] | None = None


@dataclass(slots=True)
class Interrupt:
    """Stop the running turn: cancel the model stream and kill running commands."""


@dataclass(slots=True)
class OverrideTurnContext:
    """Change settings for later turns (``/model``, ``/approvals`` in the interactive face)."""

    model: str | None = None
    approval_policy: str | None = None


@dataclass(slots=True)
class Compact:
    """Summarise the conversation so far and continue from the summary (``/compact``).

    Runs as a turn of its own (TaskStarted, ContextCompacted, TaskComplete); refused with an
    Error while another turn runs.
    """


@dataclass(slots=True)
class Shutdown:
    """End the session after the running turn (if any) is interrupted."""


Op = UserInput | ApprovalAnswer | Interrupt | OverrideTurnContext | Compact | Shutdown

# ---------------------------------------------------------------------------- events (engine -> face)


@dataclass(slots=True)
class SessionConfigured:
    """The session is ready: its settings, and the history it resumed from (if any)."""

    session_id: str
    model: str
    provider: str
    cwd: str
    approval_policy: str
    sandbox: str
    sandbox_backend: str
    rollout_path: str | None = None
    history: list[InputItem] = field(default_factory=list)
    type: str = "session_configured"


@dataclass(slots=True)
class TaskStarted:
    """A turn began."""

    type: str = "task_started"


@dataclass(slots=True)
class AgentMessageDelta:
    """A piece of the model's answer as it streams."""

    delta: str
    type: str = "agent_message_delta"


@dataclass(slots=True)
class AgentMessage:
    """The model's whole answer of one output item."""

    message: str
    type: str = "agent_message"


@dataclass(slots=True)
class AgentReasoningDelta:
    """A piece of the model's reasoning summary as it streams."""

    delta: str
    type: str = "agent_reasoning_delta"


@dataclass(slots=True)
class AgentReasoning:
    """The model's whole reasoning summary of one output item."""

    text: str
    type: str = "agent_reasoning"


@dataclass(slots=True)
class ExecCommandBegin:
    """A command starts (``sandboxed`` False once the person allowed it outside)."""

    call_id: str
    command: list[str]
    cwd: str
    sandboxed: bool = True
    type: str = "exec_command_begin"


@dataclass(slots=True)
class ExecCommandOutputDelta:
    """Output of a running command; ``stream`` is ``stdout`` or ``stderr``."""

    call_id: str
    stream: str  # "stdout" | "stderr"
    chunk: str
    type: str = "exec_command_output_delta"


@dataclass(slots=True)
class ExecCommandEnd:
    """A command finished, with what the model is told about it."""

    call_id: str
    exit_code: int
    duration_seconds: float
    stdout: str
    stderr: str
    aggregated_output: str
    type: str = "exec_command_end"


@dataclass(slots=True)
class ExecApprovalRequest:
    """The policy asks the person whether to run ``command``.

    ``sandboxed`` is where it runs once approved: True inside the sandbox, False outside it,
    None when that does not apply (an MCP tool call). Faces put it in the question.
    """

    request_id: str
    call_id: str
    command: list[str]
    cwd: str
    reason: str | None = None
    sandboxed: bool | None = None
    type: str = "exec_approval_request"


@dataclass(slots=True)
class PatchApprovalRequest:
    """The policy asks the person whether to apply a patch."""

    request_id: str
    call_id: str
    changes: dict[str, dict[str, Any]]
    diff: str
    reason: str | None = None
    type: str = "apply_patch_approval_request"


@dataclass(slots=True)
class PatchApplyBegin:
    """A patch is being applied (``auto_approved`` when nobody was asked)."""

    call_id: str
    changes: dict[str, dict[str, Any]]
    auto_approved: bool
    type: str = "patch_apply_begin"


@dataclass(slots=True)
class PatchApplyEnd:
    """A patch was applied, or not (``success``), with its combined diff."""

    call_id: str
    success: bool
    stdout: str
    stderr: str
    diff: str = ""
    type: str = "patch_apply_end"


@dataclass(slots=True)
class PlanUpdate:
    """The model's checklist changed (``update_plan``)."""

    explanation: str | None
    plan: list[dict[str, str]]
    type: str = "plan_update"


@dataclass(slots=True)
class McpToolCallBegin:
    """A tool of an MCP server is being called."""

    call_id: str
    server: str
    tool: str
    arguments: Any
    type: str = "mcp_tool_call_begin"


@dataclass(slots=True)
class McpToolCallEnd:
    """A tool of an MCP server answered (``result`` as the server sent it)."""

    call_id: str
    server: str
    tool: str
    success: bool
    result: Any
    duration_seconds: float
    type: str = "mcp_tool_call_end"


@dataclass(slots=True)
class ToolCallBegin:
    """A tool without items of its own (a plugin's) is being called, with checked ``arguments``.

    Built-in tools show their calls as commands, patches and plans, MCP tools as
    ``mcp_tool_call_*``; every other tool's calls are these generic ones. ``plugin`` is the
    plugin that offers the tool.
    """

    call_id: str
    tool: str
    plugin: str
    arguments: Any
    type: str = "tool_call_begin"


@dataclass(slots=True)
class ToolCallEnd:
    """A generic tool call ended: ``output`` is what the model is told, ``success`` its verdict."""

    call_id: str
    tool: str
    plugin: str
    success: bool
    output: str
    duration_seconds: float
    type: str = "tool_call_end"


@dataclass(slots=True)
class TokenCount:
    """Tokens of the last model response and of the session so far, and the context they fill.

    ``context_tokens`` is what the conversation holds now (the last request and its answer, or
    an estimate after a compaction); ``model_context_window`` and ``auto_compact_token_limit``
    are None when unknown.
    """

    last: TokenUsage
    total: TokenUsage
    model_context_window: int | None = None
    context_tokens: int = 0
    auto_compact_token_limit: int | None = None
    type: str = "token_count"

    def percent_left(self) -> int | None:
        """Share of the window still free, 0-100 (None when the window is unknown)."""
        if not self.model_context_window:
            return None
        return max(0, min(100, round(100 * (1 - self.context_tokens / self.model_context_window))))


@dataclass(slots=True)
class ContextCompacted:
    """The conversation was replaced by a summary: ``reason`` is ``auto`` (threshold passed),
    ``manual`` (the Compact op) or ``context_length_exceeded`` (the provider refused a request).
    """

    reason: str
    tokens_before: int
    tokens_after: int
    items_before: int
    items_after: int
    summary: str
    type: str = "context_compacted"


@dataclass(slots=True)
class BackgroundEvent:
    """A notice for the person (an MCP server failed, a setting was adjusted)."""

    message: str
    type: str = "background_event"


@dataclass(slots=True)
class StreamError:
    """The model stream failed and is being retried; discard partial output of the attempt."""

    message: str
    type: str = "stream_error"


@dataclass(slots=True)
class Error:
    """The turn failed; the message says why and what to do."""

    message: str
    type: str = "error"


@dataclass(slots=True)
class TaskComplete:
    """The turn ended with an answer (or none)."""

    last_agent_message: str | None
    type: str = "task_complete"


@dataclass(slots=True)
class TurnAborted:
    """The turn ended early: ``interrupted`` by the person or ``aborted`` at an approval."""

    reason: str  # "interrupted" | "aborted"
    type: str = "turn_aborted"


@dataclass(slots=True)
class ShutdownComplete:
    """The session is closed; no event follows."""

    type: str = "shutdown_complete"


# Events that carry a piece of something a later event delivers whole (faces that show only
# whole items skip them with one type lookup; a long answer streams thousands).
STREAMED_PIECES: frozenset[type] = frozenset({AgentMessageDelta, AgentReasoningDelta, ExecCommandOutputDelta})

EventMsg = (
    SessionConfigured
    | TaskStarted
    | AgentMessageDelta
    | AgentMessage
    | AgentReasoningDelta
    | AgentReasoning
    | ExecCommandBegin
    | ExecCommandOutputDelta
    | ExecCommandEnd
    | ExecApprovalRequest
    | PatchApprovalRequest
    | PatchApplyBegin
    | PatchApplyEnd
    | PlanUpdate
    | McpToolCallBegin
    | McpToolCallEnd
    | ToolCallBegin
    | ToolCallEnd
    | TokenCount
    | ContextCompacted
    | BackgroundEvent
    | StreamError
    | Error
    | TaskComplete
    | TurnAborted
    | ShutdownComplete
)


@dataclass(slots=True)
class Event:
    """One event: ``id`` is the submission (turn) it belongs to."""

    id: str
    msg: EventMsg


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready form (``codex/event`` notifications, rollout files)."""
    return {"id": event.id, "msg": asdict(event.msg)}
