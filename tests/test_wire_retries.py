"""Failures on both wires: request retries, stream retries without duplicates, clear errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest
from codex_openai.chat import ChatCompletionsApi
from codex_openai.responses import ResponsesApi

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.http import parse_retry_after
from codex.protocol import (
    Completed,
    Created,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    ResponseEvent,
    StreamRetrying,
)
from codex.wire import RetryableError, backoff_delay, stream_with_retries
from tests.mock_model import MockModelServer, Reply, TurnResult, mock_model, run_turn  # noqa: F401

PROMPT = Prompt(model="gpt-4.1", instructions="", input=[Message("user", "hi")])


@pytest.fixture(params=["responses", "chat"])
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def answer(mock: MockModelServer, wire: str, text: str, **options: Any) -> Reply:
    builder = mock.responses_text if wire == "responses" else mock.chat_text
    return builder(text, **options)


def run(mock: MockModelServer, wire: str, **fields: Any) -> TurnResult:
    api = ResponsesApi() if wire == "responses" else ChatCompletionsApi()
    provider = ModelProviderInfo(id="mock", **mock.provider_info(wire, **fields))
    return asyncio.run(run_turn(api, PROMPT, provider))


def failure(mock: MockModelServer, wire: str, **fields: Any) -> str:
    with pytest.raises(ProviderError) as info:
        run(mock, wire, **fields)
    return str(info.value)


# ------------------------------------------------------------------------------ request retries


def test_429_with_retry_after_then_success(mock_model: MockModelServer, wire: str) -> None:
    mock_model.error(429, "Rate limit reached for requests", headers={"Retry-After": "3"})
    answer(mock_model, wire, "made it")
    turn = run(mock_model, wire)
    assert turn.text == "made it"
    assert turn.messages == ["made it"]
    assert turn.delays == [3.0]
    [retry] = turn.retries
    assert retry.attempt == 1 and retry.max_attempts == 4
    assert "HTTP 429 Too Many Requests from 'Mock': Rate limit reached for requests" in retry.reason
    assert len(mock_model.requests) == 2


def test_retry_after_as_an_http_date(mock_model: MockModelServer, wire: str) -> None:
    past = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    mock_model.error(503, headers={"Retry-After": past})
    answer(mock_model, wire, "ok")
    assert run(mock_model, wire).delays == [0.0]


def test_parse_retry_after_forms() -> None:
    now = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after({"Retry-After": "7"}, now) == 7.0
    assert parse_retry_after({"retry-after": "1.5"}, now) == 1.5
    assert parse_retry_after({"Retry-After": later}, now) == 90.0
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}, now) == 0.25
    assert parse_retry_after({"Retry-After": "soon"}, now) is None
    assert parse_retry_after({}, now) is None


def test_500_several_times_then_success_backs_off_exponentially(mock_model: MockModelServer, wire: str) -> None:
    for _ in range(3):
        mock_model.error(500, "The server had an error while processing your request.")
    answer(mock_model, wire, "finally")
    turn = run(mock_model, wire)
    assert turn.text == "finally"
    assert len(turn.delays) == 3
    for delay, base in zip(turn.delays, (0.2, 0.4, 0.8), strict=True):
        assert base * 0.9 <= delay <= base * 1.1
    assert [r.attempt for r in turn.retries] == [1, 2, 3]


def test_request_retries_exhausted(mock_model: MockModelServer, wire: str) -> None:
    for _ in range(3):
        mock_model.error(503, "Overloaded, try later")
    message = failure(mock_model, wire, request_max_retries=2)
    assert message.startswith("the request to 'Mock' failed on all 3 attempts")
    assert "HTTP 503 Service Unavailable from 'Mock': Overloaded, try later" in message
    assert "request_max_retries" in message
    assert len(mock_model.requests) == 3


def test_retry_after_longer_than_we_wait_fails_at_once(mock_model: MockModelServer, wire: str) -> None:
    mock_model.error(429, "Slow down", headers={"Retry-After": "3600"})
    message = failure(mock_model, wire)
    assert "Slow down. The server asks to wait 3600 s" in message
    assert len(mock_model.requests) == 1


def test_connection_refused_is_retried_then_explained(wire: str) -> None:
    api = ResponsesApi() if wire == "responses" else ChatCompletionsApi()
    provider = ModelProviderInfo(id="down", name="Down", base_url="http://127.0.0.1:9/v1", wire_api=wire,
                                 request_max_retries=2)
    with pytest.raises(ProviderError) as info:
        asyncio.run(run_turn(api, PROMPT, provider))
    assert "failed on all 3 attempts" in str(info.value)
    assert "could not reach 'Down' at http://127.0.0.1:9/v1/" in str(info.value)


# ------------------------------------------------------------------------------ stream retries


def test_dropped_stream_is_retried_without_duplicates(mock_model: MockModelServer, wire: str) -> None:
    text = "one two three four five"
    answer(mock_model, wire, text, drop_after_events=4)
    answer(mock_model, wire, text)
    turn = run(mock_model, wire)
    # The consumer saw the first attempt's deltas, then was told to drop them.
    seen = [e.delta for e in turn.events if isinstance(e, OutputTextDelta)]
    assert len(seen) > len(text.split())
    assert turn.text == text
    assert turn.messages == [text]
    [retry] = turn.retries
    assert "broke off" in retry.reason and retry.max_attempts == 5
    assert len(mock_model.requests) == 2
    assert mock_model.requests[0].json == mock_model.requests[1].json


def test_dropped_tool_call_turn_runs_each_call_once(mock_model: MockModelServer, wire: str) -> None:
    from tests.mock_model import Call

    builder = mock_model.responses_turn if wire == "responses" else mock_model.chat_turn
    calls = (Call("shell", {"command": ["ls"]}, "call_a"), Call("shell", {"command": ["pwd"]}, "call_b"))
    reply = builder(*calls)
    # Cut before the last event. Responses: both items were delivered but response.completed
    # was not, so the turn is retried and the first attempt's items discarded. Chat: only
    # [DONE] is missing after finish_reason, so the answer is whole and not retried.
    reply.apply_faults(drop_after=reply.event_ends[-2])
    builder(*calls)
    turn = run(mock_model, wire)
    assert [c.call_id for c in turn.calls] == ["call_a", "call_b"]
    assert len(turn.retries) == (1 if wire == "responses" else 0)
    assert len(mock_model.requests) == (2 if wire == "responses" else 1)


def test_malformed_event_is_retried(mock_model: MockModelServer, wire: str) -> None:
    if wire == "responses":
        mock_model.sse([("response.created", '{"type":"response.created","response":{"id":"r"}}'),
                        ("response.output_text.delta", '{"type":"response.output_text.delta","delta":"par')])
    else:
        mock_model.sse([(None, '{"id":"c","choices":[{"index":0,"delta":{"content":"par"}}]}'),
                        (None, '{"id":"c","choices":[{"index":0,"delta":{"content":')])
    answer(mock_model, wire, "clean answer")
    turn = run(mock_model, wire)
    assert turn.text == "clean answer"
    assert "malformed event" in turn.retries[0].reason


def test_idle_stall_is_retried(mock_model: MockModelServer, wire: str) -> None:
    answer(mock_model, wire, "slow answer", stall_after_events=2)
    answer(mock_model, wire, "quick answer")
    turn = run(mock_model, wire, stream_idle_timeout_ms=500)
    assert turn.text == "quick answer"
    assert "idle for more than 0.5 s" in turn.retries[0].reason


def test_stream_retries_exhausted(mock_model: MockModelServer, wire: str) -> None:
    answer(mock_model, wire, "a b c", drop_after_events=2)
    answer(mock_model, wire, "a b c", stall_after_events=1)
    message = failure(mock_model, wire, stream_max_retries=1, stream_idle_timeout_ms=500)
    assert message.startswith("the stream from 'Mock' failed on all 2 attempts; last error: ")
    assert "idle for more than 0.5 s" in message
    assert "stream_max_retries" in message


# ------------------------------------------------------------------------------ final errors


def test_401_names_the_provider_and_the_key_variable(
    mock_model: MockModelServer, wire: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCK_KEY", "sk-wrong")
    mock_model.error(401, "Incorrect API key provided: sk-wrong.", code="invalid_api_key")
    message = failure(mock_model, wire, env_key="MOCK_KEY", env_key_instructions="Get one at example.test/keys.")
    assert message == (
        "'Mock' rejected the credentials (HTTP 401 Unauthorized): Incorrect API key provided: sk-wrong. "
        "Check the API key in the environment variable MOCK_KEY. Get one at example.test/keys."
    )
    assert len(mock_model.requests) == 1


def test_403_without_env_key_says_how_to_configure_one(mock_model: MockModelServer, wire: str) -> None:
    mock_model.error(403, "Forbidden for this project")
    message = failure(mock_model, wire)
    assert "'Mock' rejected the credentials (HTTP 403 Forbidden): Forbidden for this project" in message
    assert "set model_providers.mock.env_key" in message


def test_other_4xx_fails_at_once_with_the_server_message(mock_model: MockModelServer, wire: str) -> None:
    mock_model.error(400, "Unsupported parameter: 'reasoning.effort'", code="unsupported_parameter")
    message = failure(mock_model, wire)
    assert message == "HTTP 400 Bad Request from 'Mock': Unsupported parameter: 'reasoning.effort'"
    assert len(mock_model.requests) == 1


def test_4xx_with_a_plain_text_body(mock_model: MockModelServer, wire: str) -> None:
    mock_model.error(404, body="404 page not found")
    assert failure(mock_model, wire) == "HTTP 404 Not Found from 'Mock': 404 page not found"


def test_insufficient_quota_is_not_retried(mock_model: MockModelServer, wire: str) -> None:
    mock_model.error(429, "You exceeded your current quota.", code="insufficient_quota")
    message = failure(mock_model, wire)
    assert "You exceeded your current quota." in message and "billing" in message
    assert len(mock_model.requests) == 1


def test_missing_env_key_is_explained_before_any_request(
    mock_model: MockModelServer, wire: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEX_TEST_ABSENT_KEY", raising=False)
    message = failure(mock_model, wire, env_key="CODEX_TEST_ABSENT_KEY",
                      env_key_instructions="Export it from your dashboard.")
    assert "CODEX_TEST_ABSENT_KEY" in message and "Export it from your dashboard." in message
    assert mock_model.requests == []


def test_a_200_that_is_not_an_event_stream(mock_model: MockModelServer, wire: str) -> None:
    mock_model.enqueue(Reply(headers=[("Content-Type", "application/json")], stream=False,
                             body=json.dumps({"object": "chat.completion", "choices": []}).encode()))
    message = failure(mock_model, wire)
    assert "answered http://127.0.0.1:" in message
    assert "with application/json instead of an event stream" in message
    assert "Check base_url and wire_api" in message


# ------------------------------------------------------------------------------ unit level


def test_mock_transport_can_replace_the_network() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx2.ConnectError("connection refused")
        body = (
            'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"hi"}\n\n'
            'event: response.output_item.done\ndata: {"type":"response.output_item.done","item":'
            '{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}}\n\n'
            'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r"}}\n\n'
        )
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())

    provider = ModelProviderInfo(id="t", name="T", base_url="https://api.test/v1")
    turn = asyncio.run(run_turn(ResponsesApi(transport=httpx2.MockTransport(handler)), PROMPT, provider))
    assert turn.text == "hi" and turn.completed
    assert "could not reach 'T' at https://api.test/v1/responses: ConnectError: connection refused" in (
        turn.retries[0].reason
    )
    assert [str(r.url) for r in seen] == ["https://api.test/v1/responses"] * 2


class ScriptedWire:
    """A wire API without HTTP: each attempt runs the next script."""

    name = "scripted"

    def __init__(self, *attempts: list[ResponseEvent | BaseException]) -> None:
        self.attempts = list(attempts)
        self.closed = 0

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        script = self.attempts.pop(0)
        try:
            for step in script:
                if isinstance(step, BaseException):
                    raise step
                yield step
        finally:
            self.closed += 1


def collect(api: Any, provider: ModelProviderInfo | None = None) -> tuple[list[ResponseEvent], list[float]]:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async def go() -> list[ResponseEvent]:
        return [e async for e in stream_with_retries(api, PROMPT, provider or ModelProviderInfo(id="p"),
                                                     sleep=sleep)]

    return asyncio.run(go()), delays


def test_started_errors_use_the_stream_budget_and_others_the_request_budget() -> None:
    api = ScriptedWire(
        [RetryableError("busy")],
        [Created("r"), OutputTextDelta("x"), RetryableError("dropped")],
        [RetryableError("late", started=True)],
        [Created("r"), OutputTextDelta("y"), OutputItemDone(Message("assistant", "y")), Completed("r")],
    )
    events, delays = collect(api, ModelProviderInfo(id="p", request_max_retries=1, stream_max_retries=2))
    retries = [e for e in events if isinstance(e, StreamRetrying)]
    assert [(r.attempt, r.max_attempts, r.reason) for r in retries] == [
        (1, 1, "busy"), (1, 2, "dropped"), (2, 2, "late")]
    assert len(delays) == 3
    assert events[-1] == Completed("r")
    assert api.closed == 4


def test_raw_socket_errors_from_a_third_party_wire_are_retried() -> None:
    api = ScriptedWire([ConnectionResetError("reset by peer")], [Completed("r")])
    events, _ = collect(api)
    assert isinstance(events[0], StreamRetrying) and "ConnectionResetError: reset by peer" in events[0].reason
    assert events[-1] == Completed("r")


def test_non_retryable_errors_propagate_at_once() -> None:
    api = ScriptedWire([ProviderError("bad request")], [Completed("r")])
    with pytest.raises(ProviderError, match="bad request"):
        collect(api)
    assert len(api.attempts) == 1


def test_a_consumer_that_stops_early_closes_the_attempt() -> None:
    api = ScriptedWire([Created("r"), OutputTextDelta("a"), OutputTextDelta("b"), Completed("r")])

    async def first_two() -> None:
        stream = stream_with_retries(api, PROMPT, ModelProviderInfo(id="p"))
        assert isinstance(await anext(stream), Created)
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(first_two())
    assert api.closed == 1


def test_backoff_delay() -> None:
    assert [backoff_delay(n, jitter=1.0) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.6]
    assert backoff_delay(20, jitter=1.0) == 30.0
    assert backoff_delay(3, retry_after=5.0) == 5.0
    assert 0.18 <= backoff_delay(1) <= 0.22


def test_a_stream_held_open_after_the_last_event_still_completes(mock_model: MockModelServer, wire: str) -> None:
    reply = answer(mock_model, wire, "all said")
    # Every event arrives, then the server neither ends the body nor closes the connection.
    reply.apply_faults(stall_after=len(reply.body))
    turn = run(mock_model, wire, stream_idle_timeout_ms=60_000)
    assert turn.messages == ["all said"]
    assert turn.completed and turn.retries == []


class _PacedWire:
    """A wire whose events come ``gaps`` seconds apart (an in-process model, no socket)."""

    name = "paced"

    def __init__(self, gaps: list[float]) -> None:
        self.gaps = gaps
        self.attempts = 0

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[Any]:
        self.attempts += 1
        yield Created()
        for gap in self.gaps:
            await asyncio.sleep(gap)
            yield OutputTextDelta("x")
        yield OutputItemDone(Message("assistant", "x" * len(self.gaps)))
        yield Completed("r1")


def _paced_turn(wire: _PacedWire, idle_ms: int, consumer_pause: float = 0.0) -> list[Any]:
    provider = ModelProviderInfo(
        name="paced", base_url="http://127.0.0.1:9", stream_idle_timeout_ms=idle_ms, stream_max_retries=0
    )

    async def consume() -> list[Any]:
        seen = []
        async for event in stream_with_retries(wire, Prompt(model="m", instructions="", input=[]), provider):
            seen.append(event)
            await asyncio.sleep(consumer_pause)
        return seen

    return asyncio.run(asyncio.wait_for(consume(), 30))


def test_idle_limit_counts_each_wait_not_the_whole_stream_or_the_consumer() -> None:
    # Twenty events 0.05 s apart take 1 s in all, twice the limit; each wait stays under it,
    # and the consumer's own 0.3 s per event is not the wire's idleness.
    wire = _PacedWire([0.05] * 20)
    events = _paced_turn(wire, idle_ms=500, consumer_pause=0.3 / 20)
    assert isinstance(events[-1], Completed) and wire.attempts == 1
    slow_reader = _PacedWire([0.01] * 3)
    assert isinstance(_paced_turn(slow_reader, idle_ms=200, consumer_pause=0.4)[-1], Completed)


def test_one_wait_past_the_idle_limit_ends_the_attempt_and_the_task_stays_usable() -> None:
    wire = _PacedWire([0.01, 0.01, 1.0])
    with pytest.raises(ProviderError, match=r"idle for more than 0.2 s"):
        _paced_turn(wire, idle_ms=200)

    async def afterwards() -> str:
        # The watch's cancellation was taken back: the same task can still await.
        provider = ModelProviderInfo(
            name="paced", base_url="http://127.0.0.1:9", stream_idle_timeout_ms=100, stream_max_retries=0
        )
        with pytest.raises(ProviderError):
            prompt = Prompt(model="m", instructions="", input=[])
            async for _ in stream_with_retries(_PacedWire([0.5]), prompt, provider):
                pass
        await asyncio.sleep(0.01)
        return "still running"

    assert asyncio.run(afterwards()) == "still running"
