"""The conformance kit (``codex.testing``) run against the built-in wires, and against broken ones.

Each built-in wire API gets the answers of its own wire format (Responses SSE, Chat Completions
SSE, Ollama NDJSON) and must pass every scenario; each deliberately broken wire must be
rejected, naming the scenario it fails, so the kit's checks are seen to fail when they should.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.protocol import (
    Completed,
    Created,
    FunctionCallOutput,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    ResponseEvent,
    StreamRetrying,
)
from codex.testing import (
    ContractViolation,
    Reply,
    WireScript,
    check_wire,
    ndjson,
    run_wire,
    sse,
)
from codex.wire import RetryableError, WireApi

ARGUMENTS = {"command": ["ls", "-l"]}
PROMPT = Prompt(model="m", instructions="", input=[])


def responses_event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return kind, {"type": kind, **fields}


RESPONSES = WireScript(
    text="Hello there",
    text_answer=sse(
        responses_event("response.created", response={"id": "resp_1"}),
        responses_event("response.output_text.delta", delta="Hello"),
        responses_event("response.output_text.delta", delta=" there"),
        responses_event(
            "response.output_item.done",
            item={"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello there"}]},
        ),
        responses_event("response.completed", response={"id": "resp_1", "usage": {"input_tokens": 5}}),
    ),
    tool_call=("shell", ARGUMENTS),
    tool_call_answer=sse(
        responses_event("response.created", response={"id": "resp_2"}),
        responses_event(
            "response.output_item.done",
            item={"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": '{"command": '
                  '["ls", "-l"]}'},
        ),
        responses_event("response.completed", response={"id": "resp_2"}),
    ),
    path="/v1/responses",
    sends_images=True,
    sends_output_schema=True,
)


def chat_chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[None, dict[str, Any]]:
    return None, {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


CHAT = WireScript(
    text="Hello there",
    text_answer=sse(
        chat_chunk({"role": "assistant", "content": "Hello"}),
        chat_chunk({"content": " there"}),
        chat_chunk({}, "stop"),
        (None, "[DONE]"),
    ),
    tool_call=("shell", ARGUMENTS),
    tool_call_answer=sse(
        chat_chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "shell", "arguments": ""}}]}),
        chat_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"command": '}}]}),
        chat_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '["ls", "-l"]}'}}]}),
        chat_chunk({}, "tool_calls"),
        (None, "[DONE]"),
    ),
    path="/v1/chat/completions",
    sends_images=True,
    sends_output_schema=True,
)


def ollama_line(content: str = "", *, done: bool = False, **message: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"model": "m", "message": {"role": "assistant", "content": content, **message}, "done": done}
    if done:
        line.update(prompt_eval_count=12, eval_count=3)
    return line


OLLAMA = WireScript(
    text="Hello there",
    text_answer=ndjson(ollama_line("Hello"), ollama_line(" there"), ollama_line(done=True)),
    tool_call=("shell", ARGUMENTS),
    tool_call_answer=ndjson(
        ollama_line(tool_calls=[{"function": {"name": "shell", "arguments": ARGUMENTS}}]), ollama_line(done=True)
    ),
    content_type="application/x-ndjson",
    # The provider entry points at Ollama's OpenAI-compatible /v1; the wire talks to the native API.
    path="/api/chat",
)


def registered_wire(name: str) -> WireApi:
    """The wire as the core gets it: through its plugin's ``codex_wire_apis`` hook."""
    if name == "ollama":
        from codex_ollama import codex_wire_apis as ollama_wires

        return ollama_wires()[name]
    from codex_openai import codex_wire_apis as openai_wires

    return openai_wires()[name]


@pytest.mark.parametrize(("name", "script"), [("responses", RESPONSES), ("chat", CHAT), ("ollama", OLLAMA)])
def test_the_built_in_wires_keep_the_contract(name: str, script: WireScript) -> None:
    report = check_wire(registered_wire(name), script)
    # Every scenario ran (none was skipped for want of a script).
    assert len(report.results) == 13 and not report.failures


def test_run_wire_records_what_the_server_received() -> None:
    import asyncio

    prompt = Prompt(model="gpt-5-codex", instructions="Be brief.", input=[], session_id="s-1")
    run = asyncio.run(run_wire(registered_wire("responses"), [Reply(body=RESPONSES.text_answer)], prompt=prompt))
    assert run.error is None and run.text == "Hello there"
    (request,) = run.requests
    assert request.path == "/v1/responses"
    assert request.json()["model"] == "gpt-5-codex"
    assert request.headers["session_id"] == "s-1"


# ------------------------------------------------------------------------------ broken wires


class BrokenWire:
    """The Responses wire with one deliberate fault of the kind third-party wires have."""

    def __init__(self, fault: str) -> None:
        self.name = fault
        self.inner = registered_wire("responses")

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        if self.name == "ignores-the-entry":
            provider = copy.copy(provider)
            provider.http_headers = provider.query_params = None
        try:
            async for event in self.inner.stream(prompt, provider):
                if self.name == "streams-text-only" and isinstance(event, OutputItemDone):
                    continue  # the mistake issue 16 found: deltas, but never the item
                yield event
        except RetryableError as exc:
            if self.name == "swallows-errors":
                return  # ends quietly, as if the answer were whole
            if self.name == "gives-up":
                raise ProviderError(str(exc)) from None
            if self.name == "completes-on-error":
                yield Completed(None)
                return
            raise
        except ProviderError:
            if self.name == "retries-everything":
                raise RetryableError("try again") from None
            raise

    async def aclose(self) -> None:
        aclose = getattr(self.inner, "aclose", None)
        if aclose is not None:
            await aclose()


@pytest.mark.parametrize(
    ("fault", "failed_scenario", "problem"),
    [
        (
            "streams-text-only",
            "a text answer streams, is delivered as a Message item, and completes",
            "sent no OutputItemDone with the assistant Message",
        ),
        (
            "swallows-errors",
            "a stream dropped mid-way is retried as a stream failure",
            "ended the stream without a Completed event",
        ),
        ("gives-up", "HTTP 503 is retried as a request failure", "the turn failed: HTTP 503"),
        (
            "completes-on-error",
            "a stream that ends before its completion event is retried as a stream failure",
            "the assistant's message is '', expected 'Hello there'",
        ),
        ("retries-everything", "HTTP 401 is final and shows the server's message", "HTTP 401 was retried"),
        (
            "ignores-the-entry",
            "the provider entry's http_headers and query_params are sent",
            "the provider's http_headers were not sent",
        ),
    ],
)
def test_the_kit_rejects_a_broken_wire_naming_what_broke(fault: str, failed_scenario: str, problem: str) -> None:
    with pytest.raises(ContractViolation) as caught:
        check_wire(BrokenWire(fault), RESPONSES)
    failures = caught.value.report.failures
    assert failed_scenario in failures, failures
    assert any(problem in line for line in failures[failed_scenario]), failures[failed_scenario]
    # The message a plugin author reads in pytest's output names the wire and the scenario.
    message = str(caught.value)
    assert message.startswith(f"wire API {fault!r} breaks the wire contract")
    assert failed_scenario in message


def test_a_wire_whose_answer_does_not_match_the_script_fails() -> None:
    # The kit compares the delivered text with the script: a wire that loses a delta is caught.
    wrong = WireScript(text="Hello world", text_answer=RESPONSES.text_answer, path="/v1/responses")
    with pytest.raises(ContractViolation, match="expected 'Hello world'"):
        check_wire(registered_wire("responses"), wrong)


# ------------------------------------------------------------------------------ the core's own checks


class ScriptedEvents:
    """A wire without HTTP that yields what it is given, contract or not."""

    name = "scripted"

    def __init__(self, *events: object) -> None:
        self.events = events

    async def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[Any]:
        for event in self.events:
            yield event


@pytest.mark.parametrize(
    ("events", "complaint"),
    [
        ((Created("r"), OutputTextDelta("hi"), Completed("r")), "streamed text (OutputTextDelta) but sent no"),
        ((Created("r"), OutputItemDone(Message("assistant", "hi"))), "ended the stream without a Completed event"),
        (
            (OutputItemDone(FunctionCallOutput("c1", "done")), Completed("r")),
            "sent OutputItemDone with a FunctionCallOutput",
        ),
        ((StreamRetrying(1, 2, "why", 0.0), Completed("r")), "yielded StreamRetrying, which is not a wire event"),
        (("hello", Completed("r")), "yielded str, which is not a wire event"),
    ],
)
def test_the_core_rejects_a_broken_stream_naming_the_wire_and_plugin(
    events: tuple[object, ...], complaint: str
) -> None:
    import asyncio

    from codex.wire import stream_with_retries

    async def drain() -> None:
        async for _ in stream_with_retries(ScriptedEvents(*events), PROMPT, ModelProviderInfo(id="p"), owner="acme"):
            pass

    with pytest.raises(ProviderError) as caught:
        asyncio.run(drain())
    assert str(caught.value).startswith(f"wire API 'scripted' (plugin 'acme') {complaint}")


def test_the_core_stops_reading_at_completed() -> None:
    import asyncio

    from codex.wire import stream_with_retries

    wire = ScriptedEvents(Completed("r"), OutputItemDone(Message("assistant", "too late")), "not even an event")

    async def drain() -> list[Any]:
        return [e async for e in stream_with_retries(wire, PROMPT, ModelProviderInfo(id="p"))]

    assert asyncio.run(drain()) == [Completed("r")]


def test_whitespace_deltas_need_no_message() -> None:
    # Ollama drops a whitespace-only answer; the few spaces streamed before are not an answer lost.
    import asyncio

    from codex.wire import stream_with_retries

    wire = ScriptedEvents(OutputTextDelta("\n "), Completed("r"))

    async def drain() -> list[Any]:
        return [e async for e in stream_with_retries(wire, PROMPT, ModelProviderInfo(id="p"))]

    assert asyncio.run(drain())[-1] == Completed("r")


class ForgetfulWire:
    """The Chat wire, but every message's images and the output schema are dropped on the way."""

    name = "forgetful"

    def __init__(self) -> None:
        self.inner = registered_wire("chat")

    def stream(self, prompt: Prompt, provider: ModelProviderInfo) -> AsyncIterator[ResponseEvent]:
        plain = [dataclasses.replace(i, images=()) if isinstance(i, Message) else i for i in prompt.input]
        return self.inner.stream(dataclasses.replace(prompt, input=plain, output_schema=None), provider)


def test_the_kit_checks_that_images_and_the_output_schema_reach_the_request() -> None:
    with pytest.raises(ContractViolation) as caught:
        check_wire(ForgetfulWire(), CHAT)
    assert caught.value.report.failures == {
        "a prompt with an image and an output schema is answered (and carries them, if the wire says so)": [
            "the request does not carry the message's image (its base64 bytes are not in the body)",
            "the request does not carry the prompt's output_schema",
        ]
    }
    # A wire that says it sends neither passes: the core still checks the answer against the schema.
    check_wire(ForgetfulWire(), dataclasses.replace(CHAT, sends_images=False, sends_output_schema=False))
