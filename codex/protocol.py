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
class ImageInput:
    """An image the person (``-i``, a pasted path) or the ``view_image`` tool gave the model.

    ``data`` holds the file's bytes while the session runs; the rollout keeps only the path,
    type, size and sha256 (``to_dict``), and a resumed session reads the file again
    (``codex.images.reload_images``). ``data`` is None when that failed: wires then send
    ``placeholder()`` as text instead of the image.
    """

    path: str
    mime_type: str
    size: int
    sha256: str
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The file name, as shown to people (``[image: name.png]``)."""
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]

    def data_url(self) -> str | None:
        """``data:<type>;base64,...`` for the wire, or None when the bytes are not loaded."""
        if self.data is None:
            return None
        import base64

        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def placeholder(self) -> str:
        """What the model reads instead of an image whose bytes are gone."""
        return f"[image {self.name} is no longer available: {self.path} was moved, changed or deleted]"

    def to_dict(self) -> dict[str, Any]:
        """The rollout form: everything but the bytes."""
        return {"path": self.path, "mime_type": self.mime_type, "size": self.size, "sha256": self.sha256}


@dataclass(slots=True)
class Message:
    """A user, assistant, system or developer message made of text parts.

    A user message may carry ``images`` (sent after the text as input images); a wire that
    cannot send images may ignore them.
    """

    role: Literal["user", "assistant", "system", "developer"]
    text: str
    id: str | None = None
    type: Literal["message"] = "message"
    images: tuple[ImageInput, ...] = ()


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
    if isinstance(item, Message):
        data: dict[str, Any] = {"role": item.role, "text": item.text, "id": item.id, "type": item.type}
        if item.images:  # only then: rollout lines of plain messages stay as they were
            data["images"] = [image.to_dict() for image in item.images]
        return data
    return asdict(item)


def item_from_dict(data: dict[str, Any]) -> InputItem:
    """Rebuild an item from ``item_to_dict`` output; unknown fields are ignored (newer files)."""
    cls = _ITEM_TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown item type {data.get('type')!r}")
    names = set(cls.__dataclass_fields__)
    fields = {k: v for k, v in data.items() if k in names}
    if cls is Message and fields.get("images"):
        fields["images"] = tuple(ImageInput(**_image_fields(image)) for image in fields["images"])
    item: InputItem = cls(**fields)
    return item


def _image_fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"an image must be an object, got {type(data).__name__}")
    try:
        return {"path": str(data["path"]), "mime_type": str(data["mime_type"]), "size": int(data["size"]),
                "sha256": str(data["sha256"])}
    except KeyError as exc:
        raise ValueError(f"an image lacks {exc.args[0]!r}") from None


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
    # A JSON Schema the final answer must follow (``codex exec --output-schema``); wires that
    # can ask the model for it do (structured outputs), and the session checks the answer anyway.
    output_schema: dict[str, Any] | None = None
