"""The vocabulary the engine speaks, independent of any wire API.

Input items are what a conversation is made of (and what the rollout file stores); stream
events are what a wire API yields while the model answers. Plain slotted dataclasses: they are
created once per streamed delta, so they must be cheap, and they round-trip through JSON with
``item_to_dict`` / ``item_from_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# ---------------------------------------------------------------------------- input items


@dataclass(slots=True)
class Message:
    """A user, assistant, system or developer message made of text parts."""

    role: Literal["user", "assistant", "system", "developer"]
    text: str
    id: str | None = None
    type: Literal["message"] = "message"


@dataclass(slots=True)
class Reasoning:
    """A reasoning item: summaries, raw content (open models), and opaque encrypted content."""

    id: str = ""
    summary: list[str] = field(default_factory=list)
    content: list[str] | None = None
    encrypted_content: str | None = None
    type: Literal["reasoning"] = "reasoning"


@dataclass(slots=True)
class FunctionCall:
    """The model asks to call a function tool; ``arguments`` is the raw JSON text it sent."""

    call_id: str
    name: str
    arguments: str
    id: str | None = None
    type: Literal["function_call"] = "function_call"


@dataclass(slots=True)
class FunctionCallOutput:
    """What a tool returned, sent back to the model with the call's id."""

    call_id: str
    output: str
    success: bool | None = None
    type: Literal["function_call_output"] = "function_call_output"


@dataclass(slots=True)
class CustomToolCall:
    """A call to a free-form (grammar) tool: ``input`` is plain text, not JSON."""

    call_id: str
    name: str
    input: str
    id: str | None = None
    type: Literal["custom_tool_call"] = "custom_tool_call"


@dataclass(slots=True)
class CustomToolCallOutput:
    """The output of a free-form tool call."""

    call_id: str
    output: str
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"


InputItem = Message | Reasoning | FunctionCall | FunctionCallOutput | CustomToolCall | CustomToolCallOutput

_ITEM_TYPES: dict[str, type[Any]] = {
    "message": Message,
    "reasoning": Reasoning,
    "function_call": FunctionCall,
    "function_call_output": FunctionCallOutput,
    "custom_tool_call": CustomToolCall,
    "custom_tool_call_output": CustomToolCallOutput,
}


def item_to_dict(item: InputItem) -> dict[str, Any]:
    """JSON-ready dict of an item; ``type`` tells ``item_from_dict`` what to rebuild."""
    return asdict(item)


def item_from_dict(data: dict[str, Any]) -> InputItem:
    """Rebuild an item from ``item_to_dict`` output; unknown fields are ignored (newer files)."""
    cls = _ITEM_TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown item type {data.get('type')!r}")
    names = set(cls.__dataclass_fields__)
    item: InputItem = cls(**{k: v for k, v in data.items() if k in names})
    return item


# ---------------------------------------------------------------------------- stream events


@dataclass(slots=True)
class TokenUsage:
    """Token counts of one response (or accumulated over a session)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0

    def add(self, other: TokenUsage) -> None:
        self.input_tokens += other.input_tokens
        self.cached_input_tokens += other.cached_input_tokens
        self.output_tokens += other.output_tokens
        self.reasoning_output_tokens += other.reasoning_output_tokens
        self.total_tokens += other.total_tokens


@dataclass(slots=True)
class Created:
    """The server accepted the request and started answering."""

    response_id: str | None = None


@dataclass(slots=True)
class OutputTextDelta:
    """A piece of the assistant's visible answer."""

    delta: str


@dataclass(slots=True)
class ReasoningSummaryDelta:
    """A piece of a reasoning summary."""

    delta: str


@dataclass(slots=True)
class ReasoningContentDelta:
    """A piece of raw reasoning (open models stream it; OpenAI's hosted models do not)."""

    delta: str


@dataclass(slots=True)
class OutputItemDone:
    """A complete output item: a message, a reasoning item or a tool call."""

    item: InputItem


@dataclass(slots=True)
class Completed:
    """The response finished; the only event after which the turn's items count."""

    response_id: str | None = None
    usage: TokenUsage | None = None


@dataclass(slots=True)
class StreamRetrying:
    """The attempt failed and will be retried: discard everything received since the last
    ``Created`` (deltas and items), so nothing is shown or acted on twice."""

    attempt: int
    max_attempts: int
    reason: str
    delay_seconds: float


ResponseEvent = (
    Created
    | OutputTextDelta
    | ReasoningSummaryDelta
    | ReasoningContentDelta
    | OutputItemDone
    | Completed
    | StreamRetrying
)


# ---------------------------------------------------------------------------- the prompt


@dataclass(slots=True)
class ToolSpec:
    """A tool as the model sees it: a JSON-schema function, or a free-form tool."""

    name: str
    description: str
    parameters: dict[str, Any]
    kind: Literal["function", "freeform"] = "function"


@dataclass(slots=True)
class Prompt:
    """Everything one model request needs, whatever the wire."""

    model: str
    instructions: str
    input: list[InputItem]
    tools: list[ToolSpec] = field(default_factory=list)
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    verbosity: str | None = None
    session_id: str | None = None
    parallel_tool_calls: bool = False
    store: bool = False
