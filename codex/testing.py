"""A conformance kit for wire APIs: run a wire against scripted server answers, check the contract.

The wire contract (docs/wire-contract.md) says which events a wire API must and may yield, in
what order, and which errors mean "retry" and which "give up". This module lets the author of a
wire API check it from pytest, without a network or a model: a loopback HTTP server answers
with bodies written as data (SSE or NDJSON), status codes, dropped and stalled connections; the
wire runs through the core's own ``stream_with_retries``, exactly as in a session; every
scenario's outcome is compared with the contract::

    from codex.testing import WireScript, check_wire, sse

    SCRIPT = WireScript(
        text="Hello there",
        text_answer=sse(("start", {"id": "r1"}), ("delta", {"text": "Hello there"}), ("stop", {})),
        tool_call=("shell", {"command": ["ls"]}),
        tool_call_answer=sse(("call", {"name": "shell", "arguments": '{"command": ["ls"]}'}), ("stop", {})),
        path="/v1/generate",
    )

    def test_my_wire_keeps_the_contract():
        check_wire(MyWire(), SCRIPT)  # raises ContractViolation listing what broke

``run_wire`` runs one list of ``Reply``s and returns what happened (``WireRun``), for checks
of a wire's own. The module imports only the standard library and codex's core; pytest is not
needed to use it (a ``ContractViolation`` is an ``AssertionError``, so pytest shows it well).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.protocol import (
    Completed,
    Created,
    FunctionCall,
    ImageInput,
    InputItem,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    ResponseEvent,
    StreamRetrying,
    ToolSpec,
)
from codex.wire import RetryableError, WireApi, stream_with_retries

__all__ = [
    "Attempt",
    "ConformanceReport",
    "ContractViolation",
    "RecordedRequest",
    "Reply",
    "ScriptedServer",
    "WireRun",
    "WireScript",
    "check_wire",
    "check_wire_async",
    "make_provider",
    "ndjson",
    "run_wire",
    "sse",
]

# The retry budgets of the kit's provider: different, so a check can tell which one was used.
REQUEST_MAX_RETRIES = 2
STREAM_MAX_RETRIES = 3
# Long enough for any healthy loopback answer. The stall scenario needs a short limit, which
# also binds its healthy retry: 1 s leaves room for a loaded CI machine.
IDLE_TIMEOUT_MS = 10_000
STALL_IDLE_TIMEOUT_MS = 1000
# No scenario may take longer than this: a wire that hangs fails the check instead of the suite.
RUN_LIMIT_SECONDS = 30.0
# How long the server holds a stalled stream open at most (the idle timeout fires long before).
STALL_LIMIT_SECONDS = 30.0
ERROR_MESSAGE = "conformance: scripted failure"
DEFAULT_ERROR_BODY = json.dumps({"error": {"message": ERROR_MESSAGE, "type": "scripted"}}).encode()

SHELL_TOOL = ToolSpec(
    name="shell",
    description="Run a command.",
    parameters={"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}},
)
DEFAULT_PROMPT = Prompt(
    model="conformance-model",
    instructions="You are under test.",
    input=[Message("user", "Say hello.")],
    tools=[SHELL_TOOL],
    session_id="conformance-session",
)


# A check: run the wire against some replies, return what is wrong (nothing: it passed).
Scenario = Callable[[WireApi, "WireScript"], Awaitable[list[str]]]

# ------------------------------------------------------------------------------ bodies as data


def sse(*events: tuple[str | None, Any]) -> bytes:
    """A server-sent-events body: ``(event name or None, data)`` pairs; dicts and lists are sent
    as JSON, strings as they are (``sse((None, "[DONE]"))``)."""
    out: list[str] = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        head = f"event: {name}\n" if name else ""
        out.append(head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n")
    return "".join(out).encode()


def ndjson(*objects: Any) -> bytes:
    """A newline-delimited JSON body, one object a line."""
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects).encode()


@dataclass(frozen=True)
class Reply:
    """One scripted answer of the server.

    ``cut_at`` sends that many bytes of the body and then drops the connection (no end of the
    chunked body: a broken stream); ``stall_at`` sends that many bytes and then nothing, holding
    the connection open; ``hang_up`` closes the connection without any answer.
    """

    status: int = 200
    body: bytes = b""
    content_type: str = "text/event-stream"
    headers: Mapping[str, str] = field(default_factory=dict)
    cut_at: int | None = None
    stall_at: int | None = None
    hang_up: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


# ------------------------------------------------------------------------------ the server


class ScriptedServer:
    """An HTTP/1.1 server on 127.0.0.1 answering each request with the next ``Reply``.

    Every answer closes its connection (``Connection: close``), so connection reuse never hides
    a broken stream. A request beyond the script gets a 400 saying so. Use it as an async
    context manager in the loop the wire runs in::

        async with ScriptedServer([Reply(body=sse(...))]) as server:
            provider = ModelProviderInfo(id="t", base_url=server.url("/v1"))
    """

    def __init__(self, replies: Sequence[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[RecordedRequest] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._closing = asyncio.Event()
        self._handlers: set[asyncio.Task[Any]] = set()

    def url(self, path: str = "") -> str:
        """``http://127.0.0.1:<port><path>``."""
        return f"http://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            async with asyncio.timeout(RUN_LIMIT_SECONDS):
                request = await _read_request(reader)
            index = len(self.requests)
            self.requests.append(request)
            if index < len(self.replies):
                reply = self.replies[index]
            else:
                message = f"codex.testing: the script has no answer for request {index + 1}"
                body = json.dumps({"error": {"message": message}}).encode()
                reply = Reply(400, body, "application/json")
            await self._answer(writer, reply)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            pass  # the client went away or sent nonsense: nothing left to answer
        finally:
            if task is not None:
                self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _answer(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        import http

        if reply.hang_up:
            return
        try:
            phrase = http.HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Status"
        head = [f"HTTP/1.1 {reply.status} {phrase}", f"Content-Type: {reply.content_type}",
                "Transfer-Encoding: chunked", "Connection: close"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        end = len(reply.body)
        for limit in (reply.cut_at, reply.stall_at):
            if limit is not None:
                end = min(end, limit)
        # One chunk per line: the client sees the stream arrive piece by piece, as from a model.
        for line in reply.body[:end].splitlines(keepends=True):
            writer.write(b"%x\r\n%s\r\n" % (len(line), line))
            await writer.drain()
        if reply.cut_at is not None:
            return  # closing now, without the last chunk, breaks the body off
        if reply.stall_at is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), STALL_LIMIT_SECONDS)
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.readexactly(int(headers.get("content-length") or 0))
    return RecordedRequest(method, target, headers, body)


# ------------------------------------------------------------------------------ one run


@dataclass
class Attempt:
    """What one call of the wire's ``stream`` yielded, and the exception it ended with (if any)."""

    events: list[ResponseEvent] = field(default_factory=list)
    error: Exception | None = None


@dataclass
class WireRun:
    """What happened when the core streamed one turn through a wire against scripted replies."""

    events: list[ResponseEvent]
    attempts: list[Attempt]
    requests: list[RecordedRequest]
    delays: list[float]
    error: ProviderError | None

    @property
    def retries(self) -> list[StreamRetrying]:
        """The retries the core announced."""
        return [event for event in self.events if isinstance(event, StreamRetrying)]

    @property
    def final_events(self) -> list[ResponseEvent]:
        """The events of the last attempt: those a session acts on."""
        tail: list[ResponseEvent] = []
        for event in self.events:
            tail = [] if isinstance(event, StreamRetrying) else [*tail, event]
        return tail

    @property
    def items(self) -> list[InputItem]:
        """The complete items of the last attempt."""
        return [event.item for event in self.final_events if isinstance(event, OutputItemDone)]

    @property
    def text(self) -> str:
        """The assistant's answer: the text of the last attempt's assistant messages."""
        return "".join(i.text for i in self.items if isinstance(i, Message) and i.role == "assistant")

    @property
    def streamed_text(self) -> str:
        """The last attempt's text deltas joined."""
        return "".join(e.delta for e in self.final_events if isinstance(e, OutputTextDelta))


class _RecordingWire:
    """Passes a wire's events through and keeps a record of every attempt."""

    def __init__(self, inner: WireApi) -> None:
        self.name = inner.name
        self.inner = inner
        self.attempts: list[Attempt] = []

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        attempt = Attempt()
        self.attempts.append(attempt)
        events = aiter(self.inner.stream(prompt, provider))
        try:
            async for event in events:
                attempt.events.append(event)
                yield event
        except Exception as exc:
            attempt.error = exc
            raise
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()


def make_provider(base_url: str, **fields: Any) -> ModelProviderInfo:
    """The kit's provider entry: small, distinct retry budgets; ``fields`` override any key."""
    values: dict[str, Any] = {
        "id": "conformance",
        "name": "Conformance",
        "base_url": base_url,
        "request_max_retries": REQUEST_MAX_RETRIES,
        "stream_max_retries": STREAM_MAX_RETRIES,
        "stream_idle_timeout_ms": IDLE_TIMEOUT_MS,
    }
    values.update(fields)
    return ModelProviderInfo(**values)


async def run_wire(
    wire: WireApi,
    replies: Sequence[Reply],
    *,
    prompt: Prompt | None = None,
    base_path: str = "/v1",
    provider_fields: Mapping[str, Any] | None = None,
) -> WireRun:
    """Stream one turn through ``wire`` (via ``stream_with_retries``) against ``replies``.

    The provider's ``base_url`` is the server's URL plus ``base_path``; retry pauses are recorded
    in ``WireRun.delays`` instead of slept. A ``ProviderError`` ending the turn is returned in
    ``WireRun.error``, as is a run that did not finish within 30 s.
    """
    recorder = _RecordingWire(wire)
    events: list[ResponseEvent] = []
    delays: list[float] = []
    error: ProviderError | None = None

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with ScriptedServer(replies) as server:
        provider = make_provider(server.url(base_path), **dict(provider_fields or {}))
        try:
            async with asyncio.timeout(RUN_LIMIT_SECONDS):
                stream = stream_with_retries(recorder, prompt or DEFAULT_PROMPT, provider, sleep=sleep)
                async for event in stream:
                    events.append(event)
        except ProviderError as exc:
            error = exc
        except TimeoutError:
            error = ProviderError(f"the turn did not finish within {RUN_LIMIT_SECONDS:g} s")
        finally:
            aclose = getattr(wire, "aclose", None)
            if aclose is not None:
                await aclose()  # pooled connections belong to this loop and this server
        return WireRun(events, recorder.attempts, list(server.requests), delays, error)


# ------------------------------------------------------------------------------ the checks


@dataclass(frozen=True)
class WireScript:
    """What the kit needs to know about a wire format: two complete answers and what they mean.

    ``text_answer`` is a whole streamed body answering ``text``; ``tool_call_answer`` one calling
    ``tool_call`` = (name, arguments) (leave both None for a wire without tools). ``path`` is the
    request path the wire must POST to (None: not checked); the provider's ``base_url`` is the
    server plus ``base_path``. ``cut_at`` is where the fault scenarios break the text answer
    (default: after its first event); ``malformed_answer`` a body the wire cannot parse (default:
    half a JSON object in ``content_type``'s framing). ``error_body`` is the JSON of the error
    statuses, and must carry ``error_message``, which the user must get to see.
    ``provider`` adds fields to the provider entry (an ``env_key``, ``http_headers``...).
    ``sends_images`` / ``sends_output_schema``: the wire sends a message's images and the
    prompt's ``output_schema``; the kit then checks the request carries both.
    """

    text_answer: bytes
    text: str
    tool_call_answer: bytes | None = None
    tool_call: tuple[str, dict[str, Any]] | None = None
    content_type: str = "text/event-stream"
    path: str | None = None
    base_path: str = "/v1"
    cut_at: int | None = None
    malformed_answer: bytes | None = None
    error_body: bytes = DEFAULT_ERROR_BODY
    error_message: str = ERROR_MESSAGE
    provider: Mapping[str, Any] = field(default_factory=dict)
    prompt: Prompt | None = None
    # Whether the wire sends a user message's images and the prompt's output_schema; when True
    # the kit checks that the request carries them. A wire that cannot must still answer.
    sends_images: bool = False
    sends_output_schema: bool = False

    def cut_point(self) -> int:
        """Where the fault scenarios break the text answer off: after its first event."""
        if self.cut_at is not None:
            return self.cut_at
        separator = b"\n\n" if "event-stream" in self.content_type else b"\n"
        end = self.text_answer.find(separator)
        if 0 <= end < len(self.text_answer) - len(separator):
            return end + len(separator)
        return len(self.text_answer) // 2

    def malformed(self) -> bytes:
        """A body whose first event is not valid JSON."""
        if self.malformed_answer is not None:
            return self.malformed_answer
        if "event-stream" in self.content_type:
            return b'data: {"conformance": \n\n'
        return b'{"conformance": \n'


@dataclass
class ConformanceReport:
    """Each scenario's name and what went wrong in it (an empty list: it passed)."""

    wire: str
    results: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failures(self) -> dict[str, list[str]]:
        """The scenarios that failed."""
        return {name: problems for name, problems in self.results.items() if problems}

    def raise_for_failures(self) -> None:
        """Raise ``ContractViolation`` listing every failed scenario, if any failed."""
        if self.failures:
            raise ContractViolation(self)


class ContractViolation(AssertionError):
    """A wire API broke the wire contract; the message lists every failed scenario."""

    def __init__(self, report: ConformanceReport) -> None:
        self.report = report
        lines = [f"wire API {report.wire!r} breaks the wire contract (docs/wire-contract.md):"]
        for name, problems in report.failures.items():
            lines.append(f"- {name}:")
            lines.extend(f"    {problem}" for problem in problems)
        super().__init__("\n".join(lines))


def check_wire(wire: WireApi, script: WireScript) -> ConformanceReport:
    """Run every scenario against ``wire`` in a fresh event loop; raise ``ContractViolation``
    listing what failed, else return the report. Inside a running loop use ``check_wire_async``."""
    report = asyncio.run(check_wire_async(wire, script))
    report.raise_for_failures()
    return report


async def check_wire_async(wire: WireApi, script: WireScript) -> ConformanceReport:
    """Run every scenario against ``wire``; the report says what failed (nothing is raised)."""
    report = ConformanceReport(wire.name)
    for name, scenario in _SCENARIOS:
        if scenario is _tool_call and script.tool_call_answer is None:
            continue
        report.results[name] = await scenario(wire, script)
    return report


async def _run(
    wire: WireApi, script: WireScript, replies: Sequence[Reply], **provider_fields: Any
) -> WireRun:
    return await run_wire(
        wire,
        replies,
        prompt=script.prompt,
        base_path=script.base_path,
        provider_fields={**script.provider, **provider_fields},
    )


def _answer(script: WireScript, body: bytes | None = None, **options: Any) -> Reply:
    return Reply(200, script.text_answer if body is None else body, script.content_type, **options)


def _problems_of_answer(run: WireRun, script: WireScript, requests: int) -> list[str]:
    """What is wrong with a run that should have ended with ``script.text`` after ``requests``."""
    problems: list[str] = []
    if run.error is not None:
        problems.append(f"the turn failed: {run.error}")
        return problems
    if len(run.requests) != requests:
        problems.append(f"expected {requests} request(s), the server got {len(run.requests)}")
    if script.path is not None:
        wrong = [r.path for r in run.requests if r.method != "POST" or r.path.split("?")[0] != script.path]
        if wrong:
            problems.append(f"expected POST {script.path}, got {wrong}")
    if run.text != script.text:
        problems.append(f"the assistant's message is {run.text!r}, expected {script.text!r}")
    streamed = run.streamed_text
    if streamed and streamed != run.text:
        problems.append(f"the text deltas add up to {streamed!r}, but the message says {run.text!r}")
    for number, attempt in enumerate(run.attempts, 1):
        created = [i for i, e in enumerate(attempt.events) if isinstance(e, Created)]
        if created and created != [0]:
            problems.append(f"attempt {number}: Created must come once, first; it came at {created}")
    final = run.final_events
    if not final or not isinstance(final[-1], Completed):
        problems.append("the last event is not Completed")
    return problems


def _problems_of_retry(run: WireRun, budget: int, kind: str) -> list[str]:
    """A single retry charged to ``budget`` (the request or the stream budget)."""
    if len(run.retries) != 1:
        return [f"expected one retry, the core announced {len(run.retries)}: {[r.reason for r in run.retries]}"]
    retry = run.retries[0]
    if retry.max_attempts != budget:
        other = "stream" if kind == "request" else "request"
        return [
            f"it was retried as a {other} failure, expected a {kind} failure ({retry.reason}); "
            + ("raise RetryableError(started=True) once the stream began" if kind == "stream"
               else "raise RetryableError(started=False) before any event")
        ]
    return []


async def _text_answer(wire: WireApi, script: WireScript) -> list[str]:
    run = await _run(wire, script, [_answer(script)])
    problems = _problems_of_answer(run, script, 1)
    if not problems and run.retries:
        problems.append(f"an answer without faults was retried: {run.retries[0].reason}")
    return problems


async def _tool_call(wire: WireApi, script: WireScript) -> list[str]:
    run = await _run(wire, script, [_answer(script, script.tool_call_answer)])
    if run.error is not None:
        return [f"the turn failed: {run.error}"]
    calls = [item for item in run.items if isinstance(item, FunctionCall)]
    if script.tool_call is None or len(calls) != 1:
        return [f"expected one FunctionCall item, got {run.items}"]
    call = calls[0]
    name, arguments = script.tool_call
    problems: list[str] = []
    if call.name != name:
        problems.append(f"the call names {call.name!r}, expected {name!r}")
    try:
        parsed = json.loads(call.arguments)
    except ValueError:
        parsed = call.arguments
    if parsed != arguments:
        problems.append(f"the call's arguments are {call.arguments!r}, expected {arguments!r} as JSON")
    if not call.call_id:
        problems.append("the call has no call_id; the tool's output cannot be matched to it")
    final = run.final_events
    if not final or not isinstance(final[-1], Completed):
        problems.append("the last event is not Completed")
    return problems


def _status_then_answer(status: int, headers: Mapping[str, str] | None = None) -> Scenario:
    async def scenario(wire: WireApi, script: WireScript) -> list[str]:
        error = Reply(status, script.error_body, "application/json", headers or {})
        run = await _run(wire, script, [error, _answer(script)])
        problems = _problems_of_answer(run, script, 2) or _problems_of_retry(run, REQUEST_MAX_RETRIES, "request")
        retry_after = (headers or {}).get("Retry-After")
        if not problems and retry_after is not None and run.delays != [float(retry_after)]:
            problems.append(
                f"the server asked to wait {retry_after} s (Retry-After) but the core waited {run.delays}: "
                "pass it as RetryableError(retry_after=...)"
            )
        return problems

    return scenario


def _final_status(status: int) -> Scenario:
    async def scenario(wire: WireApi, script: WireScript) -> list[str]:
        error = Reply(status, script.error_body, "application/json")
        run = await _run(wire, script, [error, _answer(script)])
        problems: list[str] = []
        if run.error is None:
            problems.append(f"HTTP {status} did not end the turn (the wire must raise ProviderError)")
        elif script.error_message not in str(run.error):
            problems.append(f"the error does not show the server's message {script.error_message!r}: {run.error}")
        if run.retries or len(run.requests) != 1:
            problems.append(f"HTTP {status} was retried ({len(run.requests)} requests): it is final")
        if any(isinstance(a.error, RetryableError) for a in run.attempts):
            problems.append(f"HTTP {status} raised RetryableError; it must be ProviderError")
        return problems

    return scenario


def _broken_stream(how: str) -> Scenario:
    async def scenario(wire: WireApi, script: WireScript) -> list[str]:
        cut = script.cut_point()
        fields: dict[str, Any] = {}
        if how == "dropped":
            first = _answer(script, cut_at=cut)
        elif how == "ended early":
            first = _answer(script, script.text_answer[:cut])
        elif how == "stalled":
            first = _answer(script, stall_at=cut)
            fields["stream_idle_timeout_ms"] = STALL_IDLE_TIMEOUT_MS
        else:  # malformed
            first = _answer(script, script.malformed())
        run = await _run(wire, script, [first, _answer(script)], **fields)
        problems = _problems_of_answer(run, script, 2)
        if problems:
            return problems
        if how == "malformed":
            # Before any event either budget is defensible; what matters is that it was retried.
            return [] if len(run.retries) == 1 else [f"expected one retry, got {len(run.retries)}"]
        problems = _problems_of_retry(run, STREAM_MAX_RETRIES, "stream")
        completed = [e for e in run.attempts[0].events if isinstance(e, Completed)]
        if completed:
            problems.append(f"the {how} attempt yielded Completed; it must raise RetryableError(started=True)")
        return problems

    return scenario


async def _provider_entry(wire: WireApi, script: WireScript) -> list[str]:
    headers = {**(script.provider.get("http_headers") or {}), "X-Conformance": "header-from-config"}
    query = {**(script.provider.get("query_params") or {}), "conformance": "query-from-config"}
    run = await _run(wire, script, [_answer(script)], http_headers=headers, query_params=query)
    problems = _problems_of_answer(run, script, 1)
    if problems:
        return problems
    request = run.requests[0]
    if request.headers.get("x-conformance") != "header-from-config":
        problems.append("the provider's http_headers were not sent (X-Conformance is missing)")
    if "conformance=query-from-config" not in request.path.partition("?")[2]:
        problems.append(f"the provider's query_params were not sent: {request.path}")
    return problems


# A 1x1 PNG and a schema with a property name no request would carry by chance.
KIT_IMAGE = ImageInput(
    "/conformance/pixel.png", "image/png", 68, "conformance",
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
    ),
)
KIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"conformance_answer": {"type": "string"}},
    "required": ["conformance_answer"],
    "additionalProperties": False,
}


async def _image_and_schema(wire: WireApi, script: WireScript) -> list[str]:
    import base64
    import dataclasses

    base = script.prompt or DEFAULT_PROMPT
    prompt = dataclasses.replace(
        base, input=[*base.input, Message("user", "What is in this image?", images=(KIT_IMAGE,))],
        output_schema=KIT_SCHEMA,
    )
    run = await run_wire(wire, [_answer(script)], prompt=prompt, base_path=script.base_path,
                         provider_fields=dict(script.provider))
    problems = _problems_of_answer(run, script, 1)
    if problems or not run.requests:
        return problems
    body = run.requests[0].body.decode("utf-8", "replace")
    encoded = base64.b64encode(KIT_IMAGE.data or b"").decode("ascii")
    if script.sends_images and encoded not in body and encoded.replace("/", "\\/") not in body:
        problems.append("the request does not carry the message's image (its base64 bytes are not in the body)")
    if script.sends_output_schema and "conformance_answer" not in body:
        problems.append("the request does not carry the prompt's output_schema")
    return problems


async def _refused_before_answer(wire: WireApi, script: WireScript) -> list[str]:
    run = await _run(wire, script, [Reply(hang_up=True), _answer(script)])
    return _problems_of_answer(run, script, 2) or _problems_of_retry(run, REQUEST_MAX_RETRIES, "request")


_SCENARIOS: list[tuple[str, Scenario]] = [
    ("a text answer streams, is delivered as a Message item, and completes", _text_answer),
    ("a tool call is delivered as a FunctionCall item", _tool_call),
    ("the provider entry's http_headers and query_params are sent", _provider_entry),
    ("HTTP 429 with Retry-After is retried after the server's delay", _status_then_answer(429, {"Retry-After": "7"})),
    ("HTTP 503 is retried as a request failure", _status_then_answer(503)),
    ("a connection closed before any answer is retried as a request failure", _refused_before_answer),
    ("HTTP 401 is final and shows the server's message", _final_status(401)),
    ("HTTP 400 is final and shows the server's message", _final_status(400)),
    ("a stream dropped mid-way is retried as a stream failure", _broken_stream("dropped")),
    ("a stream that ends before its completion event is retried as a stream failure", _broken_stream("ended early")),
    ("a stalled stream is retried after the idle timeout", _broken_stream("stalled")),
    ("a malformed event is retried, not acted on", _broken_stream("malformed")),
    ("a prompt with an image and an output schema is answered (and carries them, if the wire says so)",
     _image_and_schema),
]
