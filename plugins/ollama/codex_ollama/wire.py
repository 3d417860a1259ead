"""The ``ollama`` wire API: Ollama's native ``POST /api/chat``, streamed as NDJSON.

Why not Ollama's OpenAI-compatible ``/v1/chat/completions``: it has no way to set the context
window per request, so the model runs with the server's default (a few thousand tokens) and
Ollama silently drops the start of an agent's prompt. The native API takes
``options.num_ctx``; codex sends the same value on every request of a session, so Ollama
loads the model once and never reloads it for a changed window. It also streams gpt-oss's
reasoning in a ``thinking`` field and accepts it back on the assistant message, and it takes
tools in the familiar ``{"type": "function", ...}`` shape.

The window comes from the provider entry's ``context_window`` (startup copies
``oss.context_window`` there; default 32768).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codex.plugin import (
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
    Reasoning,
    ReasoningContentDelta,
    ResponseEvent,
    RetryableError,
    TokenUsage,
    ToolSpec,
    new_call_id,
)
from codex_ollama.client import server_root
from codex_ollama.harmony import HarmonyTextFilter, clean_tool_name

if TYPE_CHECKING:
    import httpx2

    from codex.plugin import ModelProviderInfo

DEFAULT_CONTEXT_WINDOW = 32768
# Warn once the prompt fills this share of the window: the next tool output may push it over.
WARN_FRACTION = 0.85
# gpt-oss's tokenizer averages about four characters of English or code per token.
CHARS_PER_TOKEN = 4
_FREEFORM_ARGUMENT = "input"
_THINK_LEVELS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high"}

logger = logging.getLogger("codex.ollama")


def context_window(provider: ModelProviderInfo) -> int:
    """The session's fixed ``num_ctx``: the provider entry's ``context_window`` or 32768."""
    return max(2048, provider.context_window or DEFAULT_CONTEXT_WINDOW)


def build_messages(prompt: Prompt) -> list[dict[str, Any]]:
    """The prompt as Ollama chat messages.

    Reasoning goes back as ``thinking`` on the assistant message that follows it (gpt-oss
    reasons better when it sees its earlier chain of thought during a tool loop); tool calls
    fold into that assistant message; tool outputs become ``tool`` messages naming the tool.
    Arguments travel as JSON objects, as Ollama expects; arguments that were not valid JSON
    (the dispatcher already told the model so) go back as an empty object.
    """
    messages: list[dict[str, Any]] = []
    if prompt.instructions:
        messages.append({"role": "system", "content": prompt.instructions})
    pending_thinking: list[str] = []
    names: dict[str, str] = {}

    def assistant_message() -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        if pending_thinking:
            message["thinking"] = "\n".join(pending_thinking)
            pending_thinking.clear()
        messages.append(message)
        return message

    def add_call(call_id: str, name: str, arguments: dict[str, Any]) -> None:
        names[call_id] = name
        last = messages[-1] if messages else None
        if last is None or last.get("role") != "assistant" or pending_thinking:
            last = assistant_message()
        last.setdefault("tool_calls", []).append(
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        )

    for item in prompt.input:
        if isinstance(item, Message):
            if item.role == "assistant":
                assistant_message()["content"] = item.text
            else:
                pending_thinking.clear()
                role = "system" if item.role == "developer" else item.role
                messages.append({"role": role, "content": item.text})
        elif isinstance(item, Reasoning):
            text = "\n".join(item.content) if item.content else "\n".join(item.summary)
            if text:
                pending_thinking.append(text)
        elif isinstance(item, FunctionCall):
            add_call(item.call_id, item.name, _arguments_object(item.arguments))
        elif isinstance(item, CustomToolCall):
            add_call(item.call_id, item.name, {_FREEFORM_ARGUMENT: item.input})
        elif isinstance(item, FunctionCallOutput | CustomToolCallOutput):
            tool: dict[str, Any] = {"role": "tool", "content": item.output, "tool_call_id": item.call_id}
            if item.call_id in names:
                tool["tool_name"] = names[item.call_id]
            messages.append(tool)
    return messages


def serialize_tool(tool: ToolSpec) -> dict[str, Any]:
    """A tool in Ollama's shape; a free-form tool becomes a function taking one string."""
    parameters = tool.parameters
    if tool.kind == "freeform":
        parameters = {
            "type": "object",
            "properties": {_FREEFORM_ARGUMENT: {"type": "string", "description": "the tool's input text"}},
            "required": [_FREEFORM_ARGUMENT],
        }
    function = {"name": tool.name, "description": tool.description, "parameters": parameters}
    return {"type": "function", "function": function}


def build_body(prompt: Prompt, provider: ModelProviderInfo) -> dict[str, Any]:
    """The JSON body of ``POST /api/chat``: messages, tools, ``options.num_ctx`` and ``think``."""
    body: dict[str, Any] = {
        "model": prompt.model,
        "messages": build_messages(prompt),
        "stream": True,
        "options": {"num_ctx": context_window(provider)},
    }
    if prompt.tools:
        body["tools"] = [serialize_tool(tool) for tool in prompt.tools]
    # gpt-oss takes a level; other models reject `think` unless they support thinking at all.
    effort = _THINK_LEVELS.get(prompt.reasoning_effort or "")
    if effort and "gpt-oss" in prompt.model:
        body["think"] = effort
    return body


def estimate_tokens(body: dict[str, Any]) -> int:
    """A rough count of the prompt's tokens (characters / 4), enough to warn in time."""
    size = sum(len(str(m.get("content") or "")) + len(str(m.get("thinking") or "")) for m in body["messages"])
    size += len(json.dumps(body.get("tools") or [], separators=(",", ":")))
    return size // CHARS_PER_TOKEN


@dataclass(slots=True)
class _Turn:
    text: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    usage: TokenUsage | None = None
    done: bool = False

    def items(self, known_tools: set[str]) -> list[InputItem]:
        items: list[InputItem] = []
        thinking = "".join(self.thinking)
        if thinking:
            items.append(Reasoning(content=[thinking]))
        text = "".join(self.text)
        if text.strip():
            items.append(Message(role="assistant", text=text))
        for call_id, name, arguments in self.calls:
            items.append(FunctionCall(call_id=call_id, name=clean_tool_name(name, known_tools), arguments=arguments))
        return items


class OllamaChatApi:
    """Streaming client for Ollama's ``POST /api/chat`` (``wire_api = "ollama"``).

    Text and thinking stream as deltas (harmony leftovers removed); tool calls arrive whole
    and are emitted with the reasoning and the message as items at the end, then ``Completed``
    with the token counts Ollama reports. ``transport`` replaces the network in unit tests::

        api = OllamaChatApi()
        async for event in api.stream(prompt, provider):
            ...
    """

    name = "ollama"

    def __init__(self, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        from codex.plugin import ClientCache

        self._clients = ClientCache(transport)
        # (session, level) pairs already warned about, so a long session is told once per level.
        self._warned: set[tuple[str, str]] = set()

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        """One attempt: send ``prompt`` and yield events until ``Completed``."""
        from codex.plugin import endpoint_url, error_for_event, post_stream, provider_label, request_headers

        label = provider_label(provider)
        body = build_body(prompt, provider)
        window = body["options"]["num_ctx"]
        self._check_window(prompt, estimate_tokens(body), window, measured=False)
        # A shallow copy keeps the entry's extra keys, which dataclasses.replace would drop.
        root_provider = copy.copy(provider)
        root_provider.base_url = server_root(provider.base_url or "")
        url = endpoint_url(root_provider, "api/chat")
        headers = request_headers(provider, session_id=prompt.session_id)
        headers["Accept"] = "application/x-ndjson"
        known_tools = {tool.name for tool in prompt.tools}
        turn = _Turn()
        text_filter = HarmonyTextFilter()
        thinking_filter = HarmonyTextFilter()
        started = False
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        # A local server answers in milliseconds: a connect that takes long will not succeed.
        chunks = post_stream(self._clients.get(url), provider, url, headers, content, connect_timeout=10.0)
        try:
            async for line in _lines(chunks):
                # After `done`, read on to the end of the body so the connection can be reused.
                if not line.strip() or turn.done:
                    continue
                if not started:
                    started = True
                    yield Created(None)
                try:
                    chunk = json.loads(line)
                    if not isinstance(chunk, dict):
                        raise TypeError(f"expected an object, got {type(chunk).__name__}")
                except (ValueError, TypeError) as exc:
                    raise RetryableError(
                        f"{label} sent a malformed line ({exc}): {line[:120]!r}", started=True
                    ) from None
                if chunk.get("error"):
                    raise error_for_event(provider, str(chunk["error"]), None)
                for event in self._absorb(chunk, turn, text_filter, thinking_filter):
                    yield event
        finally:
            await chunks.aclose()
        if not turn.done:
            raise RetryableError(f"the stream from {label} ended before the answer finished", started=True)
        for delta, into, make in (
            (text_filter.flush(), turn.text, OutputTextDelta),
            (thinking_filter.flush(), turn.thinking, ReasoningContentDelta),
        ):
            if delta:
                into.append(delta)
                yield make(delta)
        if turn.usage is not None:
            self._check_window(prompt, turn.usage.input_tokens, window, measured=True)
        for item in turn.items(known_tools):
            yield OutputItemDone(item)
        yield Completed(None, turn.usage)

    def _absorb(
        self, chunk: dict[str, Any], turn: _Turn, text_filter: HarmonyTextFilter, thinking_filter: HarmonyTextFilter
    ) -> list[ResponseEvent]:
        events: list[ResponseEvent] = []
        message = chunk.get("message") or {}
        thinking = message.get("thinking")
        if isinstance(thinking, str) and thinking:
            shown = thinking_filter.feed(thinking)
            if shown:
                turn.thinking.append(shown)
                events.append(ReasoningContentDelta(shown))
        content = message.get("content")
        if isinstance(content, str) and content:
            shown = text_filter.feed(content)
            if shown:
                turn.text.append(shown)
                events.append(OutputTextDelta(shown))
        for call in message.get("tool_calls") or ():
            function = (call or {}).get("function") or {}
            name = str(function.get("name") or "")
            arguments = function.get("arguments")
            # Ollama parses arguments into an object; a string is what the model wrote verbatim,
            # passed through as-is so the dispatcher can tell the model what was wrong with it.
            raw = arguments if isinstance(arguments, str) else json.dumps(arguments if arguments is not None else {})
            call_id = str(call.get("id") or new_call_id())
            turn.calls.append((call_id, name, raw))
        if chunk.get("done"):
            turn.done = True
            if "prompt_eval_count" in chunk or "eval_count" in chunk:
                # prompt_eval_count is the whole prompt, cached part included (since mid-2024);
                # older servers left it out when the prompt came from the cache: then there is
                # no input count at all, and the session estimates it instead of reading 0.
                prompt_tokens = int(chunk.get("prompt_eval_count") or 0)
                output_tokens = int(chunk.get("eval_count") or 0)
                turn.usage = TokenUsage(
                    input_tokens=prompt_tokens,
                    cached_input_tokens=min(prompt_tokens, int(chunk.get("prompt_eval_cached_count") or 0)),
                    output_tokens=output_tokens,
                    total_tokens=prompt_tokens + output_tokens,
                )
        return events

    def _check_window(self, prompt: Prompt, tokens: int, window: int, *, measured: bool) -> None:
        """Warn (once per session and level) when the prompt nears or passes the window."""
        if tokens < window * WARN_FRACTION:
            return
        level = "over" if tokens >= window else "near"
        key = (prompt.session_id or "", level)
        if key in self._warned:
            return
        self._warned.add(key)
        how = "" if measured else "about "
        if level == "over":
            logger.warning(
                "the conversation (%s%d tokens) no longer fits the model's context window of %d tokens: "
                "Ollama drops its beginning, so the model forgets earlier instructions. Start a new session, "
                "or raise oss.context_window (more memory) in config.toml.",
                how, tokens, window,
            )
        else:
            logger.warning(
                "the conversation (%s%d tokens) is close to the context window of %d tokens; past it, Ollama "
                "drops the beginning of the prompt. Consider a new session or a larger oss.context_window.",
                how, tokens, window,
            )

    async def aclose(self) -> None:
        """Close the pooled connections of the running event loop."""
        await self._clients.aclose()


def _arguments_object(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _lines(chunks: AsyncGenerator[bytes, None]) -> AsyncIterator[str]:
    """The lines of an NDJSON body, decoded; a last line without a newline counts too."""
    pending = b""
    async for chunk in chunks:
        if b"\n" not in chunk:
            pending += chunk
            continue
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line.decode("utf-8", "replace")
    if pending:
        yield pending.decode("utf-8", "replace")
