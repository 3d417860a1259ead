"""The OpenAI Responses API (``wire_api = "responses"``): request body and SSE event mapping.

Importing this module is cheap (no httpx2): the plugin instantiates ``ResponsesApi`` while
registering, and httpx2 is imported on the first ``stream()``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from codex.plugin import (
    Completed,
    Created,
    CustomToolCall,
    FunctionCall,
    ImageInput,
    InputItem,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    ProviderError,
    Reasoning,
    ReasoningContentDelta,
    ReasoningSummaryDelta,
    ResponseEvent,
    RetryableError,
    TokenUsage,
    ToolSpec,
)

if TYPE_CHECKING:
    import httpx2

    from codex.plugin import ModelProviderInfo

_REASONING_MODEL_PREFIXES = ("gpt-5", "o1", "o3", "o4", "codex-")
# The name structured outputs report the schema under (the peer's name for it).
OUTPUT_SCHEMA_NAME = "codex_output_schema"


def supports_reasoning(model: str) -> bool:
    """Whether the Responses API accepts a ``reasoning`` parameter for ``model``.

    OpenAI rejects the parameter for models without reasoning (gpt-4.1, gpt-4o), so it is only
    sent for the families that have it. A ``vendor/`` prefix (routers) is ignored.
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    return name.startswith(_REASONING_MODEL_PREFIXES)


def build_body(prompt: Prompt) -> dict[str, Any]:
    """The JSON body of ``POST /responses`` for ``prompt``.

    Reasoning-capable models get ``reasoning`` with the prompt's effort (omitted: the server's
    default) and summary (``"auto"`` unless set; ``"none"`` turns summaries off). Without
    storage, reasoning is carried between turns as encrypted content, so it is requested.
    """
    body: dict[str, Any] = {
        "model": prompt.model,
        "instructions": prompt.instructions,
        "input": [serialize_item(item, keep_ids=prompt.store) for item in prompt.input],
        "tools": [serialize_tool(tool) for tool in prompt.tools],
        "tool_choice": "auto",
        "parallel_tool_calls": prompt.parallel_tool_calls,
        "store": prompt.store,
        "stream": True,
        "include": [],
    }
    if supports_reasoning(prompt.model):
        reasoning: dict[str, str] = {}
        if prompt.reasoning_effort:
            reasoning["effort"] = prompt.reasoning_effort
        summary = prompt.reasoning_summary or "auto"
        if summary != "none":
            reasoning["summary"] = summary
        body["reasoning"] = reasoning
        if not prompt.store:
            body["include"] = ["reasoning.encrypted_content"]
    if prompt.verbosity:
        body["text"] = {"verbosity": prompt.verbosity}
    if prompt.output_schema is not None:
        # Structured outputs: the final answer is JSON following the schema (the session checks it too).
        body.setdefault("text", {})["format"] = {
            "type": "json_schema",
            "name": OUTPUT_SCHEMA_NAME,
            "schema": prompt.output_schema,
            "strict": True,
        }
    if prompt.session_id:
        body["prompt_cache_key"] = prompt.session_id
    return body


def serialize_tool(tool: ToolSpec) -> dict[str, Any]:
    """A tool in Responses shape; a free-form tool's ``parameters`` hold its ``format``
    (e.g. ``{"type": "grammar", "syntax": "lark", "definition": ...}``)."""
    if tool.kind == "freeform":
        return {
            "type": "custom",
            "name": tool.name,
            "description": tool.description,
            "format": tool.parameters,
        }
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "strict": False,
        "parameters": tool.parameters,
    }


def serialize_item(item: InputItem, *, keep_ids: bool = False) -> dict[str, Any]:
    """An input item in Responses shape.

    Item ids only mean something to a server that stored the items; with ``store: false`` it
    rejects ids it does not know, so they are sent only when ``keep_ids``.
    """
    out: dict[str, Any]
    if isinstance(item, Message):
        part = "output_text" if item.role == "assistant" else "input_text"
        content: list[dict[str, Any]] = [{"type": part, "text": item.text}]
        if item.images and item.role == "user":
            if not item.text:
                content.clear()
            content.extend(_image_part(image) for image in item.images)
        out = {"type": "message", "role": item.role, "content": content}
    elif isinstance(item, Reasoning):
        out = {"type": "reasoning", "summary": [{"type": "summary_text", "text": s} for s in item.summary]}
        if item.content:
            out["content"] = [{"type": "reasoning_text", "text": c} for c in item.content]
        if item.encrypted_content is not None:
            out["encrypted_content"] = item.encrypted_content
        if keep_ids and item.id:
            out["id"] = item.id
        return out
    elif isinstance(item, FunctionCall):
        out = {
            "type": "function_call",
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
        }
    elif isinstance(item, CustomToolCall):
        out = {"type": "custom_tool_call", "call_id": item.call_id, "name": item.name, "input": item.input}
    else:
        # FunctionCallOutput and CustomToolCallOutput share a shape.
        return {"type": item.type, "call_id": item.call_id, "output": item.output}
    if keep_ids and item.id:
        out["id"] = item.id
    return out


def _image_part(image: ImageInput) -> dict[str, Any]:
    """An ``input_image`` with the bytes inline, or the note that replaces an image that is gone."""
    url = image.data_url()
    if url is None:
        return {"type": "input_text", "text": image.placeholder()}
    return {"type": "input_image", "image_url": url, "detail": "auto"}


def parse_output_item(data: dict[str, Any]) -> InputItem | None:
    """The protocol item for a ``response.output_item.done`` payload; None for item types the
    engine does not act on (web search calls and the like)."""
    kind = data.get("type")
    if kind == "message":
        text = "".join(
            str(part.get("text", ""))
            for part in data.get("content") or []
            if isinstance(part, dict) and part.get("type") in ("output_text", "input_text", "text")
        )
        return Message(role=data.get("role", "assistant"), text=text, id=data.get("id"))
    if kind == "reasoning":
        content = [str(part.get("text", "")) for part in data.get("content") or [] if isinstance(part, dict)]
        summary = [str(part.get("text", "")) for part in data.get("summary") or [] if isinstance(part, dict)]
        return Reasoning(
            id=str(data.get("id") or ""),
            summary=summary,
            content=content or None,
            encrypted_content=data.get("encrypted_content"),
        )
    if kind == "function_call":
        return FunctionCall(
            call_id=str(data["call_id"]), name=str(data["name"]), arguments=str(data.get("arguments") or ""),
            id=data.get("id"),
        )
    if kind == "custom_tool_call":
        return CustomToolCall(
            call_id=str(data["call_id"]), name=str(data["name"]), input=str(data.get("input") or ""),
            id=data.get("id"),
        )
    return None


def parse_usage(data: Any) -> TokenUsage | None:
    """Token usage of a completed response (``input_tokens_details.cached_tokens`` etc.)."""
    if not isinstance(data, dict):
        return None
    input_details = data.get("input_tokens_details") or {}
    output_details = data.get("output_tokens_details") or {}
    input_tokens = int(data.get("input_tokens") or 0)
    output_tokens = int(data.get("output_tokens") or 0)
    return TokenUsage(
        input_tokens=input_tokens,
        cached_input_tokens=int(input_details.get("cached_tokens") or 0),
        output_tokens=output_tokens,
        reasoning_output_tokens=int(output_details.get("reasoning_tokens") or 0),
        total_tokens=int(data.get("total_tokens") or input_tokens + output_tokens),
    )


class ResponsesApi:
    """Streaming client for ``POST {base_url}/responses``.

    ``transport`` replaces the network (``httpx2.MockTransport`` in unit tests). One instance
    serves any number of providers; connections are pooled per event loop.
    """

    name = "responses"

    def __init__(self, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        from codex.plugin import ClientCache

        self._clients = ClientCache(transport)

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        """One attempt: send ``prompt`` and yield events until ``Completed``."""
        from codex.plugin import error_for_event, finish_sse, post_sse, provider_label

        label = provider_label(provider)
        client = self._clients.get(provider.base_url)
        events = post_sse(client, provider, "responses", build_body(prompt), session_id=prompt.session_id)
        try:
            async for name, data in events:
                try:
                    payload = json.loads(data)
                    kind = payload.get("type") or name
                    if kind == "response.output_text.delta":
                        yield OutputTextDelta(_text(payload["delta"]))
                    elif kind == "response.reasoning_summary_text.delta":
                        yield ReasoningSummaryDelta(_text(payload["delta"]))
                    elif kind == "response.reasoning_text.delta":
                        yield ReasoningContentDelta(_text(payload["delta"]))
                    elif kind == "response.output_item.done":
                        item = parse_output_item(payload["item"])
                        if item is not None:
                            yield OutputItemDone(item)
                    elif kind == "response.created":
                        yield Created((payload.get("response") or {}).get("id"))
                    elif kind == "response.completed":
                        response = payload.get("response") or {}
                        completed = Completed(response.get("id"), parse_usage(response.get("usage")))
                        await finish_sse(events)
                        yield completed
                        return
                    elif kind == "response.failed":
                        error = (payload.get("response") or {}).get("error") or {}
                        raise error_for_event(provider, _message(error), error.get("code"))
                    elif kind == "response.incomplete":
                        details = (payload.get("response") or {}).get("incomplete_details") or {}
                        reason = details.get("reason") or "unknown reason"
                        raise ProviderError(f"{label} ended the response early: incomplete ({reason})")
                    elif kind == "error":
                        error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
                        raise error_for_event(provider, _message(error), error.get("code"))
                    # Other event types (output_item.added, content_part.*, ...) carry nothing new.
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise RetryableError(
                        f"{label} sent a malformed event ({type(exc).__name__}: {exc}): {data[:120]!r}",
                        started=True,
                    ) from None
        finally:
            await events.aclose()
        raise RetryableError(f"the stream from {label} ended before response.completed", started=True)

    async def aclose(self) -> None:
        """Close the pooled connections of the running event loop."""
        await self._clients.aclose()


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string delta, got {type(value).__name__}")
    return value


def _message(error: Any) -> str:
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
    return "the response failed without a message"
