"""A scripted mock model server on a real loopback socket, for every integration test.

It speaks HTTP/1.1 with keep-alive and streams server-sent events the way the OpenAI Responses
and Chat Completions APIs do. Replies are scripted in order; every request is recorded. It runs
in a background thread with its own event loop, so the same server serves an in-process client
and the real CLI in a subprocess (point a provider's ``base_url`` at ``mock.base_url``)::

    def test_answer(mock_model):
        mock_model.responses_text("done")
        mock_model.responses_call("shell", {"command": ["ls"]})
        ...  # run the client or `codex exec` against mock_model.base_url
        assert mock_model.requests[0].json["model"] == "gpt-5-codex"

Faults are options of every builder: ``split_at=[...]`` (byte offsets in the body where a new
TCP write starts), ``drop_after_events=N`` / ``stall_after_events=N`` (cut or freeze the stream
after N events), ``crlf=True``, ``keepalive=True`` (comment and blank lines between events), and
``error(429, headers={"Retry-After": "1"})`` for statuses. ``sse(raw)`` sends any body verbatim.

Outside pytest: ``with MockModelServer() as mock: ...``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import itertools
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from codex.protocol import ToolSpec

# How long a stalled stream stays open at most; the client's idle timeout should fire first.
STALL_LIMIT_SECONDS = 30.0

# A shell tool spec shared by the wire tests (the shape the engine's shell tool sends).
SHELL = ToolSpec(
    name="shell",
    description="Run a command",
    parameters={"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}},
)

# ------------------------------------------------------------------------------ turn parts


@dataclass
class Text:
    """An assistant message; ``deltas`` sets how it is streamed (default: word by word)."""

    text: str
    deltas: Sequence[str] | None = None

    def pieces(self) -> list[str]:
        if self.deltas is not None:
            assert "".join(self.deltas) == self.text, "deltas must add up to the text"
            return list(self.deltas)
        return _word_pieces(self.text)


@dataclass
class Call:
    """A function-tool call; ``arguments`` is a dict (sent as JSON) or raw JSON text."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    call_id: str | None = None

    def arguments_text(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class CustomCall:
    """A free-form tool call (Responses ``custom_tool_call``; a one-argument function on Chat)."""

    name: str
    input: str
    call_id: str | None = None


@dataclass
class Thinking:
    """A reasoning item: summaries (Responses), raw content (open models), encrypted content."""

    summary: Sequence[str] = ()
    content: Sequence[str] = ()
    encrypted_content: str | None = None


Part = Text | Call | CustomCall | Thinking


def _dumps(value: Any) -> str:
    # Raw UTF-8, as real servers send it: multi-byte characters then straddle TCP writes.
    return json.dumps(value, ensure_ascii=False)


def _word_pieces(text: str) -> list[str]:
    """Split text into deltas the way a model streams: each word with its leading space."""
    pieces: list[str] = []
    for word in text.split(" "):
        if pieces:
            pieces.append(" " + word)
        else:
            pieces.append(word)
    return [piece for piece in pieces if piece] or [text]


def _thirds(text: str) -> list[str]:
    """Split text into up to three pieces, as servers stream tool arguments."""
    if len(text) < 3:
        return [text] if text else []
    step = len(text) // 3
    return [text[:step], text[step : 2 * step], text[2 * step :]]


# ------------------------------------------------------------------------------ replies


@dataclass
class Reply:
    """One scripted HTTP response, with optional faults.

    ``body`` is sent with chunked transfer encoding when ``stream`` (an SSE reply), with a
    Content-Length otherwise. ``event_ends`` are the byte offsets where each SSE event ends.
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: bool = True
    event_ends: list[int] = field(default_factory=list)
    split_at: Sequence[int] = ()
    drop_after: int | None = None
    stall_after: int | None = None

    def apply_faults(
        self,
        *,
        split_at: Sequence[int] = (),
        drop_after: int | None = None,
        stall_after: int | None = None,
        drop_after_events: int | None = None,
        stall_after_events: int | None = None,
    ) -> Reply:
        """Set faults; ``*_after_events=N`` cuts right after the N-th event."""
        self.split_at = sorted(split_at)
        self.drop_after = drop_after
        self.stall_after = stall_after
        if drop_after_events is not None:
            self.drop_after = self.event_ends[drop_after_events - 1] if drop_after_events else 0
        if stall_after_events is not None:
            self.stall_after = self.event_ends[stall_after_events - 1] if stall_after_events else 0
        return self


def sse_body(frames: Sequence[tuple[str | None, str]], *, crlf: bool = False, keepalive: bool = False) -> Reply:
    """A 200 ``text/event-stream`` reply from ``(event name or None, data)`` frames.

    Multi-line data becomes several ``data:`` lines. ``keepalive`` adds a comment line and a
    stray blank line before every event, as proxies and some servers do.
    """
    newline = "\r\n" if crlf else "\n"
    body = bytearray()
    ends: list[int] = []
    for name, data in frames:
        lines: list[str] = []
        if keepalive:
            lines.append(": keep-alive" + newline + newline)
        if name is not None:
            lines.append(f"event: {name}{newline}")
        for line in data.split("\n"):
            lines.append(f"data: {line}{newline}")
        lines.append(newline)
        body += "".join(lines).encode("utf-8")
        ends.append(len(body))
    return Reply(
        headers=[("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")],
        body=bytes(body),
        event_ends=ends,
    )


def responses_frames(
    parts: Sequence[Part], *, response_id: str = "resp_1", usage: dict[str, Any] | None = None, complete: bool = True
) -> list[tuple[str | None, str]]:
    """The SSE frames of a Responses API turn made of ``parts``, ending in ``response.completed``."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": response_id, "status": "in_progress"}},
    ]
    call_numbers = itertools.count(1)
    for index, part in enumerate(parts):
        if isinstance(part, Thinking):
            item_id = f"rs_{index}"
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {"type": "reasoning", "id": item_id, "summary": []}})
            for number, summary in enumerate(part.summary):
                for piece in _word_pieces(summary):
                    events.append({"type": "response.reasoning_summary_text.delta", "item_id": item_id,
                                   "output_index": index, "summary_index": number, "delta": piece})
            for piece in (p for text in part.content for p in _word_pieces(text)):
                events.append({"type": "response.reasoning_text.delta", "item_id": item_id,
                               "output_index": index, "content_index": 0, "delta": piece})
            item: dict[str, Any] = {
                "type": "reasoning", "id": item_id,
                "summary": [{"type": "summary_text", "text": s} for s in part.summary],
            }
            if part.content:
                item["content"] = [{"type": "reasoning_text", "text": c} for c in part.content]
            if part.encrypted_content is not None:
                item["encrypted_content"] = part.encrypted_content
        elif isinstance(part, Text):
            item_id = f"msg_{index}"
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {"type": "message", "id": item_id, "role": "assistant", "content": []}})
            for piece in part.pieces():
                events.append({"type": "response.output_text.delta", "item_id": item_id,
                               "output_index": index, "content_index": 0, "delta": piece})
            item = {"type": "message", "id": item_id, "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": part.text, "annotations": []}]}
        elif isinstance(part, Call):
            call_id = part.call_id or f"call_{next(call_numbers)}"
            arguments = part.arguments_text()
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {"type": "function_call", "id": f"fc_{index}", "call_id": call_id,
                                    "name": part.name, "arguments": ""}})
            for piece in _thirds(arguments):
                events.append({"type": "response.function_call_arguments.delta", "item_id": f"fc_{index}",
                               "output_index": index, "delta": piece})
            item = {"type": "function_call", "id": f"fc_{index}", "call_id": call_id, "name": part.name,
                    "arguments": arguments, "status": "completed"}
        else:
            call_id = part.call_id or f"call_{next(call_numbers)}"
            item = {"type": "custom_tool_call", "id": f"ctc_{index}", "call_id": call_id, "name": part.name,
                    "input": part.input, "status": "completed"}
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    if complete:
        events.append({
            "type": "response.completed",
            "response": {"id": response_id, "status": "completed", "usage": usage or default_responses_usage()},
        })
    return [(event["type"], _dumps(event)) for event in events]


def default_responses_usage() -> dict[str, Any]:
    """The usage a Responses turn reports unless a test gives its own."""
    return {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 7,
            "output_tokens_details": {"reasoning_tokens": 3}, "total_tokens": 19}


def default_chat_usage() -> dict[str, Any]:
    """The usage a Chat turn reports unless a test gives its own."""
    return {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19,
            "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 3}}


def chat_frames(
    parts: Sequence[Part],
    *,
    model: str = "mock-model",
    usage: dict[str, Any] | bool | None = None,
    reasoning_field: str = "reasoning",
    interleave: bool = False,
    done: bool = True,
) -> list[tuple[str | None, str]]:
    """The SSE frames of a Chat Completions turn: deltas, tool-call fragments by ``index``,
    ``finish_reason``, a usage chunk (``usage=False`` leaves it out) and ``[DONE]``.

    ``interleave`` sends the argument fragments of several calls round-robin, as some servers do.
    """
    chunks: list[dict[str, Any]] = []

    def chunk(delta: dict[str, Any], finish: str | None = None) -> None:
        chunks.append({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    chunk({"role": "assistant", "content": ""})
    call_fragments: list[list[dict[str, Any]]] = []
    call_numbers = itertools.count(1)
    for part in parts:
        if isinstance(part, Thinking):
            for piece in (p for text in (*part.content, *part.summary) for p in _word_pieces(text)):
                chunk({reasoning_field: piece})
        elif isinstance(part, Text):
            for piece in part.pieces():
                chunk({"content": piece})
        else:
            index = len(call_fragments)
            if isinstance(part, Call):
                arguments = part.arguments_text()
            else:
                arguments = json.dumps({"input": part.input})
            call_id = part.call_id or f"call_{next(call_numbers)}"
            fragments: list[dict[str, Any]] = [{"index": index, "id": call_id, "type": "function",
                                                "function": {"name": part.name, "arguments": ""}}]
            fragments += [{"index": index, "function": {"arguments": piece}} for piece in _thirds(arguments)]
            call_fragments.append(fragments)
    if interleave:
        ordered = [f for group in itertools.zip_longest(*call_fragments) for f in group if f is not None]
    else:
        ordered = [f for fragments in call_fragments for f in fragments]
    for fragment in ordered:
        chunk({"tool_calls": [fragment]})
    chunk({}, "tool_calls" if call_fragments else "stop")
    if usage is not False:
        chunks.append({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                       "choices": [], "usage": usage if isinstance(usage, dict) else default_chat_usage()})
    frames: list[tuple[str | None, str]] = [(None, _dumps(c)) for c in chunks]
    if done:
        frames.append((None, "[DONE]"))
    return frames


# ------------------------------------------------------------------------------ requests


@dataclass
class RecordedRequest:
    """One request the server received, as the client sent it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The path without the query string."""
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters."""
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.target.partition("?")[2], keep_blank_values=True))

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


# ------------------------------------------------------------------------------ the server


class MockModelServer:
    """The scripted server. ``start()`` / ``close()``, or use it as a context manager.

    ``enqueue`` (and the builders) add replies served in order to any path; ``on`` adds a
    reply served for every request to one path (e.g. ``GET /api/tags`` for Ollama). A request
    with nothing scripted gets HTTP 400 with a message saying so, which a client surfaces.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._routes: dict[tuple[str, str], Reply] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.connections = 0
        # Answers requests nothing is scripted for (a model that reads the request, e.g.
        # tests.long_session.LongSessionModel); runs on the server's thread.
        self.responder: Callable[[RecordedRequest], Reply] | None = None

    # -------------------------------------------------------------- lifecycle

    def start(self) -> MockModelServer:
        """Start serving on a free port of ``host`` (returns once it accepts connections)."""
        self._thread = threading.Thread(target=self._run, name="mock-model", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._failure is not None:
            raise RuntimeError(f"mock model server did not start: {self._failure!r}")
        return self

    def close(self) -> None:
        """Stop serving and close every connection (stalled streams included)."""
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def __enter__(self) -> MockModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        """The server's root, ``http://127.0.0.1:PORT`` (Ollama-style APIs)."""
        return f"http://{self.host}:{self.port}"

    def provider_info(self, wire_api: str = "responses", **fields: Any) -> dict[str, Any]:
        """A provider entry pointing at this server; ``fields`` override (retries, timeouts)."""
        entry: dict[str, Any] = {"name": "Mock", "base_url": self.base_url, "wire_api": wire_api}
        entry.update(fields)
        return entry

    def provider_toml(self, provider_id: str = "mock", wire_api: str = "responses", **fields: Any) -> str:
        """A ``[model_providers.<id>]`` table for a subprocess test's config.toml."""
        lines = [f"[model_providers.{provider_id}]"]
        for key, value in self.provider_info(wire_api, **fields).items():
            lines.append(f"{key} = {json.dumps(value)}")
        return "\n".join(lines) + "\n"

    def config_overrides(self, **fields: Any) -> list[str]:
        """``-c``-style overrides that make this server the provider ``mock`` of a config
        loaded in process (``load_config(cli_overrides=...)``); no retries unless ``fields`` say."""
        entry = {"base_url": self.base_url, "request_max_retries": 0, **fields}
        table = ", ".join(f"{key}={json.dumps(value)}" for key, value in entry.items())
        return ['model_provider="mock"', f"model_providers.mock={{{table}}}"]

    # -------------------------------------------------------------- scripting

    def enqueue(self, reply: Reply) -> Reply:
        """Serve ``reply`` to the next request (after those already queued)."""
        with self._lock:
            self._replies.append(reply)
        return reply

    def on(self, path: str, reply: Reply, method: str = "GET") -> Reply:
        """Serve ``reply`` to every ``method path`` request (not consumed)."""
        with self._lock:
            self._routes[(method.upper(), path)] = reply
        return reply

    @property
    def pending(self) -> int:
        """Scripted replies not served yet."""
        with self._lock:
            return len(self._replies)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until ``count`` requests arrived (bounded by ``timeout``); return them all."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} requests within {timeout} s, got {len(self.requests)}")
            return list(self.requests)

    def sse(
        self, frames: Sequence[tuple[str | None, str]] | str | bytes, *, crlf: bool = False,
        keepalive: bool = False, **faults: Any,
    ) -> Reply:
        """Enqueue an event stream from frames, or a raw body sent byte for byte."""
        if isinstance(frames, str | bytes):
            raw = frames.encode("utf-8") if isinstance(frames, str) else frames
            reply = Reply(headers=[("Content-Type", "text/event-stream")], body=raw, event_ends=[len(raw)])
        else:
            reply = sse_body(frames, crlf=crlf, keepalive=keepalive)
        return self.enqueue(reply.apply_faults(**faults))

    def error(
        self, status: int, message: str | None = None, *, headers: dict[str, str] | None = None,
        body: bytes | str | dict[str, Any] | None = None, code: str | None = None,
    ) -> Reply:
        """Enqueue an error status with an OpenAI-style JSON body (or ``body`` verbatim)."""
        if body is None:
            phrase = http.HTTPStatus(status).phrase
            body = {"error": {"message": message or phrase, "type": "mock_error", "code": code}}
        content_type = "text/plain"
        if isinstance(body, dict):
            body, content_type = json.dumps(body), "application/json"
        raw = body.encode("utf-8") if isinstance(body, str) else body
        reply_headers = [("Content-Type", content_type), *(headers or {}).items()]
        return self.enqueue(Reply(status=status, headers=reply_headers, body=raw, stream=False))

    # Responses API -------------------------------------------------

    def responses_turn(
        self, *parts: Part, response_id: str = "resp_1", usage: dict[str, Any] | None = None,
        complete: bool = True, crlf: bool = False, keepalive: bool = False, **faults: Any,
    ) -> Reply:
        """Enqueue a Responses turn made of reasoning, text and call parts, in order."""
        frames = responses_frames(parts, response_id=response_id, usage=usage, complete=complete)
        return self.enqueue(sse_body(frames, crlf=crlf, keepalive=keepalive).apply_faults(**faults))

    def responses_text(self, text: str, **options: Any) -> Reply:
        """Enqueue a Responses turn answering ``text``."""
        return self.responses_turn(Text(text), **options)

    def responses_call(
        self, name: str, arguments: dict[str, Any] | str, *, call_id: str | None = None, **options: Any
    ) -> Reply:
        """Enqueue a Responses turn that calls one function tool."""
        return self.responses_turn(Call(name, arguments, call_id), **options)

    def responses_calls(self, *calls: Call | tuple[str, dict[str, Any]], **options: Any) -> Reply:
        """Enqueue a Responses turn with several function calls."""
        return self.responses_turn(*_calls(calls), **options)

    # Chat Completions ----------------------------------------------

    def chat_turn(
        self, *parts: Part, model: str = "mock-model", usage: dict[str, Any] | bool | None = None,
        reasoning_field: str = "reasoning", interleave: bool = False, done: bool = True,
        crlf: bool = False, keepalive: bool = False, **faults: Any,
    ) -> Reply:
        """Enqueue a Chat Completions turn made of reasoning, text and call parts."""
        frames = chat_frames(parts, model=model, usage=usage, reasoning_field=reasoning_field,
                             interleave=interleave, done=done)
        return self.enqueue(sse_body(frames, crlf=crlf, keepalive=keepalive).apply_faults(**faults))

    def chat_text(self, text: str, **options: Any) -> Reply:
        """Enqueue a Chat turn answering ``text``."""
        return self.chat_turn(Text(text), **options)

    def chat_call(self, name: str, arguments: dict[str, Any] | str, **options: Any) -> Reply:
        """Enqueue a Chat turn that calls one function tool."""
        return self.chat_turn(Call(name, arguments), **options)

    def chat_calls(self, *calls: Call | tuple[str, dict[str, Any]], **options: Any) -> Reply:
        """Enqueue a Chat turn with several tool calls (fragments aggregated by ``index``)."""
        return self.chat_turn(*_calls(calls), **options)

    # -------------------------------------------------------------- serving

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # start() reports it: a server that cannot bind fails loudly
            self._failure = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        handlers: set[asyncio.Task[None]] = set()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await self._connection(reader, writer)
            except asyncio.CancelledError:
                pass  # close() cancels open connections; that is the normal end, not an error
            finally:
                handlers.discard(task)

        server = await asyncio.start_server(accept, self.host, 0, limit=1 << 20)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Without it Nagle's algorithm holds small writes back ~40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                reply = self._reply_for(request)
                if not await self._send(reply, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _reply_for(self, request: RecordedRequest) -> Reply:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
            route = self._routes.get((request.method, request.path))
            if route is not None:
                return route
            if self._replies:
                return self._replies.popleft()
            if self.responder is not None:
                return self.responder(request)
        message = (
            f"mock model: nothing scripted for request #{len(self.requests)} "
            f"({request.method} {request.target}); enqueue a reply for it"
        )
        body = json.dumps({"error": {"message": message, "type": "mock_error", "code": None}}).encode()
        return Reply(status=400, headers=[("Content-Type", "application/json")], body=body, stream=False)

    async def _send(self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Write ``reply``; False when the connection must close afterwards."""
        phrase = http.HTTPStatus(reply.status).phrase
        head = [f"HTTP/1.1 {reply.status} {phrase}"]
        head += [f"{name}: {value}" for name, value in reply.headers]
        body = reply.body
        if not reply.stream:
            head.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            return True
        head.append("Transfer-Encoding: chunked")
        head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        cut = reply.drop_after if reply.drop_after is not None else reply.stall_after
        sent_body = body if cut is None else body[:cut]
        # Each split becomes its own chunk and its own write, so the client's reads see the
        # body in exactly these pieces.
        bounds = [0, *(o for o in reply.split_at if 0 < o < len(sent_body)), len(sent_body)]
        pieces = [sent_body[a:b] for a, b in itertools.pairwise(bounds) if b > a]
        writes: list[bytes] = []
        for number, piece in enumerate(pieces):
            data = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            writes.append(head_bytes + data if number == 0 else data)
        if not writes:
            writes.append(head_bytes)
        if cut is None:
            writes[-1] += b"0\r\n\r\n"
        for number, data in enumerate(writes):
            writer.write(data)
            await writer.drain()
            if number + 1 < len(writes):
                await asyncio.sleep(0.002)
        if reply.drop_after is not None:
            return False
        if reply.stall_after is not None:
            # Hold the connection open, sending nothing, until the client gives up.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(), STALL_LIMIT_SECONDS)
            return False
        return True


async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
    """Read one HTTP/1.1 request; None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        data = bytes(body)
    else:
        data = await reader.readexactly(int(headers.get("content-length", "0")))
    return RecordedRequest(method.upper(), target, headers, data)


def _calls(calls: Sequence[Call | tuple[str, dict[str, Any]]]) -> list[Part]:
    return [call if isinstance(call, Call) else Call(call[0], call[1]) for call in calls]


@pytest.fixture
def mock_model() -> Iterator[MockModelServer]:
    """A running ``MockModelServer``, closed after the test."""
    with MockModelServer() as server:
        yield server


# ------------------------------------------------------------------------------ a consumer


@dataclass
class TurnResult:
    """What a consumer of ``stream_with_retries`` ends up with, after honouring
    ``StreamRetrying`` (deltas and items of a failed attempt discarded)."""

    events: list[Any] = field(default_factory=list)
    text: str = ""
    reasoning_summary: str = ""
    reasoning_content: str = ""
    items: list[Any] = field(default_factory=list)
    usage: Any = None
    response_id: str | None = None
    completed: bool = False
    retries: list[Any] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """Texts of the completed assistant messages."""
        return [item.text for item in self.items if item.type == "message"]

    @property
    def calls(self) -> list[Any]:
        """Completed function and custom tool calls."""
        return [item for item in self.items if item.type in ("function_call", "custom_tool_call")]

    @property
    def reasoning(self) -> list[Any]:
        """Completed reasoning items."""
        return [item for item in self.items if item.type == "reasoning"]


async def run_turn(api: Any, prompt: Any, provider: Any, *, sleep: Any = None, close: bool = True) -> TurnResult:
    """Drive one turn through ``codex.wire.stream_with_retries`` as the engine would.

    Backoff sleeps are recorded in ``delays`` and skipped (unless ``sleep`` is given), so a
    test of five retries takes no time and can assert on the delays chosen. ``close`` closes
    the API's pooled connections afterwards (pass False to keep them for the next turn).
    """
    try:
        return await _run_turn(api, prompt, provider, sleep)
    finally:
        if close and hasattr(api, "aclose"):
            await api.aclose()


async def _run_turn(api: Any, prompt: Any, provider: Any, sleep: Any) -> TurnResult:
    from codex.protocol import (
        Completed,
        Created,
        OutputItemDone,
        OutputTextDelta,
        ReasoningContentDelta,
        ReasoningSummaryDelta,
        StreamRetrying,
    )
    from codex.wire import stream_with_retries

    turn = TurnResult()

    async def skip_sleep(seconds: float) -> None:
        turn.delays.append(seconds)

    async for event in stream_with_retries(api, prompt, provider, sleep=sleep or skip_sleep):
        turn.events.append(event)
        if isinstance(event, OutputTextDelta):
            turn.text += event.delta
        elif isinstance(event, ReasoningSummaryDelta):
            turn.reasoning_summary += event.delta
        elif isinstance(event, ReasoningContentDelta):
            turn.reasoning_content += event.delta
        elif isinstance(event, OutputItemDone):
            turn.items.append(event.item)
        elif isinstance(event, Completed):
            turn.completed, turn.usage, turn.response_id = True, event.usage, event.response_id
        elif isinstance(event, Created):
            turn.response_id = event.response_id
        elif isinstance(event, StreamRetrying):
            turn.retries.append(event)
            turn.text = turn.reasoning_summary = turn.reasoning_content = ""
            turn.items = []
    return turn
