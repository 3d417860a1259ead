"""The example provider plugin (examples/codex-provider-anthropic), installed as published: its
wire passes codex's conformance kit against the Anthropic Messages event stream, and a real
``codex exec`` with ``model_provider = "anthropic"`` answers and runs a tool through it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from codex_provider_anthropic.wire import AnthropicApi

from codex.testing import ERROR_MESSAGE, Reply, WireScript, check_wire, run_wire, sse
from tests.conftest import RunCodex
from tests.mock_model import MockModelServer

KEY_VARIABLE = "CODEX_TEST_ANTHROPIC_KEY"
# What the API sends for a failed request: {"type": "error", "error": {"type", "message"}}.
ERROR_BODY = json.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": ERROR_MESSAGE}})


def messages_stream(*blocks: str | tuple[str, dict[str, Any], str], stop_reason: str = "end_turn") -> bytes:
    """A Messages API event stream: a text block for each string, a tool_use block for each
    (name, input, id); text and JSON arrive in two deltas each, with a ping in between."""
    usage = {"input_tokens": 25, "cache_read_input_tokens": 5, "output_tokens": 1}
    message = {"id": "msg_01", "type": "message", "role": "assistant", "content": [], "model": "claude-test",
               "stop_reason": None, "stop_sequence": None, "usage": usage}
    events: list[tuple[str | None, Any]] = [("message_start", {"type": "message_start", "message": message})]
    for index, block in enumerate(blocks):
        if isinstance(block, str):
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": part} for part in halves(block)]
        else:
            name, arguments, call_id = block
            start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": part} for part in halves(json.dumps(arguments))]
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
        events.append(("ping", {"type": "ping"}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason,
                                     "stop_sequence": None}, "usage": {"output_tokens": 15}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return sse(*events)


def halves(text: str) -> list[str]:
    return [text[: len(text) // 2], text[len(text) // 2 :]]


def error_event(kind: str, message: str) -> bytes:
    return sse(("error", {"type": "error", "error": {"type": kind, "message": message}}))


SCRIPT = WireScript(
    text="Hello there",
    text_answer=messages_stream("Hello there"),
    tool_call=("shell", {"command": ["ls"]}),
    tool_call_answer=messages_stream(("shell", {"command": ["ls"]}, "toolu_01"), stop_reason="tool_use"),
    path="/v1/messages",
    error_body=ERROR_BODY.encode(),
    provider={"env_key": KEY_VARIABLE},
)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_VARIABLE, "sk-ant-test")
    return "sk-ant-test"


def test_the_wire_keeps_the_contract() -> None:
    check_wire(AnthropicApi(), SCRIPT)


def test_the_key_goes_in_x_api_key_with_the_api_version() -> None:
    run = asyncio.run(run_wire(AnthropicApi(), [Reply(body=SCRIPT.text_answer)], provider_fields=SCRIPT.provider))

    assert run.error is None and run.text == "Hello there"
    headers = run.requests[0].headers
    assert headers["x-api-key"] == "sk-ant-test" and "authorization" not in headers
    assert headers["anthropic-version"] == "2023-06-01"
    body = run.requests[0].json()
    assert body["stream"] is True and body["max_tokens"] == 8192
    assert body["system"] == "You are under test."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}]
    assert body["tools"][0]["name"] == "shell" and body["tools"][0]["input_schema"]["type"] == "object"
    completed = run.final_events[-1]
    assert completed.usage is not None  # type: ignore[union-attr]
    assert (completed.usage.input_tokens, completed.usage.cached_input_tokens) == (30, 5)  # type: ignore[union-attr]
    assert completed.usage.output_tokens == 15  # type: ignore[union-attr]


def test_an_overloaded_stream_is_retried_and_an_invalid_request_is_final() -> None:
    overloaded = Reply(body=error_event("overloaded_error", "Overloaded"))
    run = asyncio.run(run_wire(AnthropicApi(), [overloaded, Reply(body=SCRIPT.text_answer)],
                               provider_fields=SCRIPT.provider))
    assert run.error is None and run.text == "Hello there"
    assert len(run.retries) == 1 and "overloaded_error: Overloaded" in run.retries[0].reason

    invalid = Reply(body=error_event("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"))
    run = asyncio.run(run_wire(AnthropicApi(), [invalid], provider_fields=SCRIPT.provider))
    assert run.retries == [] and len(run.requests) == 1
    assert run.error is not None and "prompt is too long" in str(run.error)


def configure(write_config: Any, mock_model: MockModelServer) -> None:
    write_config(f'model = "claude-test"\nmodel_provider = "anthropic"\n\n'
                 f'[model_providers.anthropic]\nbase_url = "{mock_model.base_url}"\n')


def test_codex_exec_answers_through_the_anthropic_provider(
    mock_model: MockModelServer, write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(write_config, mock_model)
    mock_model.sse(messages_stream("Claude says hello."))

    result = run_codex("exec", "Say hello.", cwd=git_workspace, env={"ANTHROPIC_API_KEY": "sk-ant-e2e"})

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Claude says hello.\n"
    (request,) = mock_model.requests
    assert request.path == "/v1/messages" and request.headers["x-api-key"] == "sk-ant-e2e"
    assert request.json["model"] == "claude-test"
    assert {"shell", "apply_patch"} <= {tool["name"] for tool in request.json["tools"]}


def test_codex_exec_runs_a_tool_use_and_sends_its_result_back(
    mock_model: MockModelServer, write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    configure(write_config, mock_model)
    call = ("shell", {"command": ["echo", "from-the-tool"]}, "toolu_42")
    mock_model.sse(messages_stream("Let me run it.", call, stop_reason="tool_use"))
    mock_model.sse(messages_stream("It printed from-the-tool."))

    result = run_codex("exec", "Run echo.", cwd=git_workspace, env={"ANTHROPIC_API_KEY": "sk-ant-e2e"})

    assert result.returncode == 0, result.stderr
    assert result.stdout == "It printed from-the-tool.\n", result.stdout
    first, second = mock_model.requests
    messages = second.json["messages"]
    assert messages[: len(first.json["messages"])] == first.json["messages"]
    assistant, results = messages[-2:]
    assert assistant == {"role": "assistant", "content": [
        {"type": "text", "text": "Let me run it."},
        {"type": "tool_use", "id": "toolu_42", "name": "shell", "input": {"command": ["echo", "from-the-tool"]}},
    ]}
    assert results["role"] == "user"
    (block,) = results["content"]
    assert (block["type"], block["tool_use_id"], block["is_error"]) == ("tool_result", "toolu_42", False)
    assert "from-the-tool" in block["content"]
