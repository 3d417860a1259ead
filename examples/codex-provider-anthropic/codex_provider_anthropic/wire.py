"""The Anthropic Messages API as a codex wire (``wire_api = "anthropic"``).

One attempt per ``stream`` call, as the wire contract asks: ``POST {base_url}/messages`` with
``stream: true``, then the server-sent events turned into codex's events. Retries, backoff and
the idle timeout are the core's; this module only says which failures are worth retrying.

Provider options (extra keys of a ``[model_providers.<id>]`` table):

- ``max_tokens`` (int, default 8192): the API requires a limit on the answer's length.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# Everything this plugin takes from codex, in one place: the public plugin module.
from codex.plugin import (
    ClientCache,
    Completed,
    Created,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    InputItem,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    ProviderError,
    ResponseEvent,
    RetryableError,
    TokenUsage,
    ToolSpec,
    error_for_event,
    finish_sse,
    new_call_id,
    post_sse,
    provider_label,
    request_headers,
)

if TYPE_CHECKING:
    from codex.plugin import ModelProviderInfo

API_VERSION = "2023-06-01"  # the anthropic-version header the API requires
DEFAULT_MAX_TOKENS = 8192
# In-stream errors that a later attempt may not see; the rest (invalid_request_error...) are final.
RETRYABLE_ERRORS = frozenset({"overloaded_error", "rate_limit_error", "api_error"})
# The API has no free-form tools: one travels as a tool taking one string, as in Chat Completions.
FREEFORM_ARGUMENT = "input"
USAGE_FIELDS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")


def build_body(prompt: Prompt, provider: ModelProviderInfo) -> dict[str, Any]:
    """The JSON body of ``POST /messages``: system text, alternating messages, tools."""
    system = [prompt.instructions] if prompt.instructions else []
    messages: list[dict[str, Any]] = []

    def add(role: str, block: dict[str, Any]) -> None:
        # The API wants user and assistant turns to alternate; consecutive blocks of one role
        # (several tool calls, their results) share a message.
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].append(block)
        else:
            messages.append({"role": role, "content": [block]})

    for item in prompt.input:
        if isinstance(item, Message):
            if item.role in ("system", "developer"):
                system.append(item.text)  # the API takes instructions only as `system`
            elif item.text:
                add(item.role, {"type": "text", "text": item.text})
        elif isinstance(item, FunctionCall):
            add("assistant", {"type": "tool_use", "id": item.call_id, "name": item.name,
                              "input": _json_object(item.arguments)})
        elif isinstance(item, CustomToolCall):
            add("assistant", {"type": "tool_use", "id": item.call_id, "name": item.name,
                              "input": {FREEFORM_ARGUMENT: item.input}})
        elif isinstance(item, FunctionCallOutput | CustomToolCallOutput):
            failed = isinstance(item, FunctionCallOutput) and item.success is False
            add("user", {"type": "tool_result", "tool_use_id": item.call_id, "content": item.output,
                         "is_error": failed})
        # Reasoning items are dropped: Anthropic's thinking blocks are signed and cannot be rebuilt.
    max_tokens = provider.extras.get("max_tokens", DEFAULT_MAX_TOKENS)
    body: dict[str, Any] = {"model": prompt.model, "max_tokens": int(max_tokens), "stream": True,
                            "messages": messages}
    if system:
        body["system"] = "\n\n".join(system)
    if prompt.tools:
        body["tools"] = [serialize_tool(tool) for tool in prompt.tools]
    return body


def serialize_tool(tool: ToolSpec) -> dict[str, Any]:
    """A tool as the API declares one: name, description, ``input_schema``."""
    schema = tool.parameters
    if tool.kind == "freeform":
        schema = {"type": "object", "properties": {FREEFORM_ARGUMENT: {"type": "string"}},
                  "required": [FREEFORM_ARGUMENT]}
    return {"name": tool.name, "description": tool.description, "input_schema": schema}


def _json_object(arguments: str) -> dict[str, Any]:
    # tool_use input must be an object; a call the model got wrong is sent back as it wrote it.
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {FREEFORM_ARGUMENT: arguments}


@dataclass(slots=True)
class _Block:
    """One content block being streamed: text, or a tool call whose input arrives as JSON pieces."""

    kind: str
    parts: list[str] = field(default_factory=list)
    call_id: str = ""
    name: str = ""

    def item(self, freeform: set[str]) -> InputItem | None:
        text = "".join(self.parts)
        if self.kind == "text":
            return Message(role="assistant", text=text) if text else None
        if self.kind != "tool_use":
            return None  # thinking, and block types this wire does not know, are left out
        call_id = self.call_id or new_call_id()
        if self.name in freeform:
            return CustomToolCall(call_id, self.name, str(_json_object(text).get(FREEFORM_ARGUMENT, text)))
        return FunctionCall(call_id, self.name, text or "{}")


@dataclass(slots=True)
class _Turn:
    """What the stream has said so far, and the codex events each Messages event makes."""

    freeform: set[str]
    blocks: dict[int, _Block] = field(default_factory=dict)
    response_id: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    finished: bool = False

    def handle(self, event: dict[str, Any]) -> list[ResponseEvent]:
        kind = event["type"]
        if kind == "message_start":
            self.response_id = event["message"].get("id")
            self.usage = dict(event["message"].get("usage") or {})
            return [Created(self.response_id)]
        if kind == "content_block_start":
            start = event["content_block"]
            block = _Block(start["type"], call_id=start.get("id", ""), name=start.get("name", ""))
            self.blocks[event["index"]] = block
            return self._text(block, start.get("text"))
        if kind == "content_block_delta":
            delta, block = event["delta"], self.blocks[event["index"]]
            if delta["type"] == "input_json_delta":
                block.parts.append(delta["partial_json"])
            return self._text(block, delta.get("text") if delta["type"] == "text_delta" else None)
        if kind == "content_block_stop":
            item = self.blocks.pop(event["index"]).item(self.freeform)
            return [] if item is None else [OutputItemDone(item)]
        if kind == "message_delta":
            self.usage.update(event.get("usage") or {})  # output_tokens so far
        elif kind == "message_stop":
            self.finished = True
        return []  # ping, and event types added later, carry nothing this wire needs

    def _text(self, block: _Block, text: Any) -> list[ResponseEvent]:
        if not text:
            return []
        block.parts.append(str(text))
        return [OutputTextDelta(str(text))]

    def completed(self) -> Completed:
        # input_tokens counts only what no cache saw: the prompt is all three.
        count = {name: int(self.usage.get(name) or 0) for name in USAGE_FIELDS}
        cached, output = count["cache_read_input_tokens"], count["output_tokens"]
        prompt = count["input_tokens"] + cached + count["cache_creation_input_tokens"]
        usage = TokenUsage(input_tokens=prompt, cached_input_tokens=cached, output_tokens=output,
                           total_tokens=prompt + output)
        return Completed(self.response_id, usage)


class AnthropicApi:
    """Streaming client for ``POST {base_url}/messages`` (the Anthropic Messages API).

    Text streams as ``OutputTextDelta``; each content block becomes an item when it stops (a
    ``Message`` for text, a ``FunctionCall`` for ``tool_use``); ``message_stop`` completes.
    """

    name = "anthropic"

    def __init__(self) -> None:
        self._clients = ClientCache()

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        """One attempt: send ``prompt`` and yield events until ``Completed``."""
        headers = request_headers(provider, session_id=prompt.session_id)
        key = headers.pop("Authorization", "").removeprefix("Bearer ")
        if key:  # the API takes its key in x-api-key, not as a bearer token
            headers["x-api-key"] = key
        headers.setdefault("anthropic-version", API_VERSION)
        client = self._clients.get(provider.base_url)
        events = post_sse(client, provider, "messages", build_body(prompt, provider), headers=headers)
        label = provider_label(provider)
        turn = _Turn({tool.name for tool in prompt.tools if tool.kind == "freeform"})
        try:
            async for _, data in events:
                try:
                    event = json.loads(data)
                    if event["type"] == "error":
                        raise _error(provider, event["error"])
                    for produced in turn.handle(event):
                        yield produced
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise RetryableError(
                        f"{label} sent a malformed event ({type(exc).__name__}: {exc}): {data[:120]!r}",
                        started=True,
                    ) from None
                if turn.finished:
                    await finish_sse(events)  # read the tail so the connection goes back to the pool
                    break
        finally:
            await events.aclose()
        if not turn.finished:
            raise RetryableError(f"the stream from {label} ended before message_stop", started=True)
        yield turn.completed()

    async def aclose(self) -> None:
        """Close the pooled connections of the running event loop."""
        await self._clients.aclose()


def _error(provider: ModelProviderInfo, error: dict[str, Any]) -> ProviderError:
    """An ``error`` event: overload and rate limits are retried (as a stream failure), the rest final."""
    kind, message = str(error.get("type")), str(error.get("message"))
    if kind in RETRYABLE_ERRORS:
        return RetryableError(f"{provider_label(provider)} reported {kind}: {message}", started=True)
    return error_for_event(provider, message, kind)
