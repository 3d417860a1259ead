"""The Chat Completions API (``wire_api = "chat"``): messages, streamed deltas, tool calls.

Many servers speak it (OpenAI, Ollama, vLLM, LM Studio, llama.cpp, OpenRouter), each with a
dialect. Two provider options (extra keys of a ``[model_providers.<id>]`` table) cover the
differences that matter:

- ``chat_send_reasoning`` (bool): send earlier reasoning back as ``reasoning`` on the following
  assistant message. Default: on for servers on this machine (gpt-oss under Ollama, vLLM and
  LM Studio reasons better with it), off elsewhere (hosted APIs reject or ignore the field).
- ``chat_include_usage`` (bool, default on): ask for token usage with
  ``stream_options: {include_usage: true}``; turn off for servers that reject ``stream_options``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codex.plugin import (
    Completed,
    Created,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    ImageInput,
    InputItem,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    Reasoning,
    ReasoningContentDelta,
    ResponseEvent,
    RetryableError,
    TokenUsage,
    ToolSpec,
    new_call_id,
)

if TYPE_CHECKING:
    import httpx2

    from codex.plugin import ModelProviderInfo

# The name structured outputs report the schema under (the peer's name for it).
OUTPUT_SCHEMA_NAME = "codex_output_schema"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})
# Chat has no free-form tools: they travel as a function with one string argument.
_FREEFORM_ARGUMENT = "input"


def provider_option(provider: ModelProviderInfo, name: str, default: bool) -> bool:
    """A boolean option from the provider entry (a declared field or an extra key)."""
    value = getattr(provider, name, None)
    if value is None:
        value = provider.extras.get(name)
    return default if value is None else bool(value)


def is_local(provider: ModelProviderInfo) -> bool:
    """Whether the provider's server runs on this machine (its ``base_url`` host is loopback)."""
    host = (urlsplit(provider.base_url or "").hostname or "").lower()
    return host in _LOCAL_HOSTS or host.startswith("127.")


def build_messages(prompt: Prompt, *, send_reasoning: bool) -> list[dict[str, Any]]:
    """Convert the prompt's instructions and items into Chat messages.

    Consecutive function calls fold into one assistant message's ``tool_calls`` (joining the
    assistant text right before them, as the model produced them in one turn); outputs become
    ``tool`` messages. Reasoning is attached to the next assistant message when
    ``send_reasoning``, and dropped otherwise.
    """
    messages: list[dict[str, Any]] = []
    if prompt.instructions:
        messages.append({"role": "system", "content": prompt.instructions})
    pending_reasoning: list[str] = []

    def assistant_message() -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if pending_reasoning and send_reasoning:
            message["reasoning"] = "\n".join(pending_reasoning)
        pending_reasoning.clear()
        messages.append(message)
        return message

    def add_tool_call(call_id: str, name: str, arguments: str) -> None:
        last = messages[-1] if messages else None
        if last is None or last.get("role") != "assistant" or pending_reasoning:
            last = assistant_message()
        last.setdefault("tool_calls", []).append(
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        )

    for item in prompt.input:
        if isinstance(item, Message):
            if item.role == "assistant":
                assistant_message()["content"] = item.text
            else:
                pending_reasoning.clear()
                role = "system" if item.role == "developer" else item.role
                content: str | list[dict[str, Any]] = item.text
                if item.images and role == "user":
                    parts = [{"type": "text", "text": item.text}] if item.text else []
                    content = parts + [_image_part(image) for image in item.images]
                messages.append({"role": role, "content": content})
        elif isinstance(item, Reasoning):
            text = "\n".join(item.content) if item.content else "\n".join(item.summary)
            if text:
                pending_reasoning.append(text)
        elif isinstance(item, FunctionCall):
            add_tool_call(item.call_id, item.name, item.arguments)
        elif isinstance(item, CustomToolCall):
            add_tool_call(item.call_id, item.name, json.dumps({_FREEFORM_ARGUMENT: item.input}))
        elif isinstance(item, FunctionCallOutput | CustomToolCallOutput):
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": item.output})
    return messages


def _image_part(image: ImageInput) -> dict[str, Any]:
    """An ``image_url`` content part with the bytes inline, or the note for an image that is gone."""
    url = image.data_url()
    if url is None:
        return {"type": "text", "text": image.placeholder()}
    return {"type": "image_url", "image_url": {"url": url}}


def serialize_tool(tool: ToolSpec) -> dict[str, Any]:
    """A tool in Chat shape; a free-form tool becomes a function taking one string, ``input``."""
    parameters = tool.parameters
    if tool.kind == "freeform":
        parameters = {
            "type": "object",
            "properties": {_FREEFORM_ARGUMENT: {"type": "string", "description": "the tool's input text"}},
            "required": [_FREEFORM_ARGUMENT],
            "additionalProperties": False,
        }
    function = {"name": tool.name, "description": tool.description, "parameters": parameters}
    return {"type": "function", "function": function}


def build_body(prompt: Prompt, provider: ModelProviderInfo) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``prompt`` sent to ``provider``."""
    send_reasoning = provider_option(provider, "chat_send_reasoning", is_local(provider))
    body: dict[str, Any] = {
        "model": prompt.model,
        "messages": build_messages(prompt, send_reasoning=send_reasoning),
        "stream": True,
    }
    if provider_option(provider, "chat_include_usage", True):
        body["stream_options"] = {"include_usage": True}
    if prompt.tools:
        body["tools"] = [serialize_tool(tool) for tool in prompt.tools]
        body["tool_choice"] = "auto"
    if prompt.output_schema is not None:
        # Structured outputs, as OpenAI, vLLM, LM Studio and Ollama's OpenAI endpoint read them.
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": OUTPUT_SCHEMA_NAME, "schema": prompt.output_schema, "strict": True},
        }
    if prompt.session_id and _is_openai(provider):
        # One key per session keeps its requests on the same prompt cache; other Chat servers
        # may refuse fields they do not know, so it goes to OpenAI only.
        body["prompt_cache_key"] = prompt.session_id
    return body


def _is_openai(provider: ModelProviderInfo) -> bool:
    return (urlsplit(provider.base_url or "https://api.openai.com/v1").hostname or "") == "api.openai.com"


def parse_usage(data: Any) -> TokenUsage | None:
    """Chat usage (``prompt_tokens``, ``completion_tokens`` and their details) as ``TokenUsage``."""
    if not isinstance(data, dict):
        return None
    prompt_tokens = int(data.get("prompt_tokens") or 0)
    completion_tokens = int(data.get("completion_tokens") or 0)
    prompt_details = data.get("prompt_tokens_details") or {}
    completion_details = data.get("completion_tokens_details") or {}
    return TokenUsage(
        input_tokens=prompt_tokens,
        cached_input_tokens=int(prompt_details.get("cached_tokens") or 0),
        output_tokens=completion_tokens,
        reasoning_output_tokens=int(completion_details.get("reasoning_tokens") or 0),
        total_tokens=int(data.get("total_tokens") or prompt_tokens + completion_tokens),
    )


@dataclass(slots=True)
class _PendingCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Turn:
    """What a Chat stream has said so far; items are only complete at the end."""

    response_id: str | None = None
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, _PendingCall] = field(default_factory=dict)
    usage: TokenUsage | None = None
    finished: bool = False

    def add_tool_call_delta(self, delta: dict[str, Any]) -> None:
        index = delta.get("index")
        if not isinstance(index, int):
            # Some servers omit the index when they only ever send whole calls.
            index = len(self.calls) if delta.get("id") or not self.calls else max(self.calls)
        call = self.calls.setdefault(index, _PendingCall())
        if delta.get("id"):
            call.call_id = str(delta["id"])
        function = delta.get("function") or {}
        if function.get("name"):
            call.name += str(function["name"])
        arguments = function.get("arguments")
        if arguments:
            call.arguments.append(arguments if isinstance(arguments, str) else json.dumps(arguments))

    def items(self, freeform: set[str]) -> list[InputItem]:
        items: list[InputItem] = []
        if self.reasoning:
            items.append(Reasoning(content=["".join(self.reasoning)]))
        text = "".join(self.text)
        if text:
            items.append(Message(role="assistant", text=text))
        for _, call in sorted(self.calls.items()):
            call_id = call.call_id or new_call_id()
            arguments = "".join(call.arguments)
            if call.name in freeform:
                text = _freeform_input(arguments)
                items.append(CustomToolCall(call_id=call_id, name=call.name, input=text))
            else:
                items.append(FunctionCall(call_id=call_id, name=call.name, arguments=arguments))
        return items


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string delta, got {type(value).__name__}")
    return value


def _freeform_input(arguments: str) -> str:
    try:
        value = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(value, dict) and isinstance(value.get(_FREEFORM_ARGUMENT), str):
        return str(value[_FREEFORM_ARGUMENT])
    return arguments


class ChatCompletionsApi:
    """Streaming client for ``POST {base_url}/chat/completions``.

    Text and reasoning stream as deltas; tool calls are aggregated by ``index`` (several per
    turn) and, with the reasoning and the message, emitted as complete items at the end,
    followed by ``Completed``. ``transport`` replaces the network in unit tests.
    """

    name = "chat"

    def __init__(self, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        from codex.plugin import ClientCache

        self._clients = ClientCache(transport)

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        """One attempt: send ``prompt`` and yield events until ``Completed``."""
        from codex.plugin import error_for_event, finish_sse, post_sse, provider_label, server_error_details

        label = provider_label(provider)
        freeform = {tool.name for tool in prompt.tools if tool.kind == "freeform"}
        turn = _Turn()
        started = False
        events = post_sse(
            self._clients.get(provider.base_url), provider, "chat/completions", build_body(prompt, provider),
            session_id=prompt.session_id,
        )
        try:
            async for _, data in events:
                if data == "[DONE]":
                    turn.finished = True
                    await finish_sse(events)
                    break
                try:
                    chunk = json.loads(data)
                    if not started:
                        started = True
                        turn.response_id = chunk.get("id")
                        yield Created(turn.response_id)
                    if chunk.get("error"):
                        message, code = server_error_details(data)
                        raise error_for_event(provider, message, code)
                    if chunk.get("usage"):
                        turn.usage = parse_usage(chunk["usage"])
                    for choice in chunk.get("choices") or ():
                        delta = choice.get("delta") or {}
                        content = delta.get("content")
                        if content:
                            turn.text.append(_text(content))
                            yield OutputTextDelta(content)
                        thinking = delta.get("reasoning") or delta.get("reasoning_content")
                        if thinking:
                            turn.reasoning.append(_text(thinking))
                            yield ReasoningContentDelta(thinking)
                        for call in delta.get("tool_calls") or ():
                            turn.add_tool_call_delta(call)
                        if choice.get("finish_reason"):
                            turn.finished = True
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise RetryableError(
                        f"{label} sent a malformed event ({type(exc).__name__}: {exc}): {data[:120]!r}",
                        started=True,
                    ) from None
        except RetryableError:
            # After finish_reason only usage and [DONE] are missing: the answer itself is whole.
            if not turn.finished:
                raise
        finally:
            await events.aclose()
        if not turn.finished:
            raise RetryableError(f"the stream from {label} ended before the answer finished", started=True)
        if not started:
            yield Created(None)
        for item in turn.items(freeform):
            yield OutputItemDone(item)
        yield Completed(turn.response_id, turn.usage)

    async def aclose(self) -> None:
        """Close the pooled connections of the running event loop."""
        await self._clients.aclose()
