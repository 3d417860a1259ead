"""The Responses wire API against the mock model server: what is sent, what comes back."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from codex_openai.responses import ResponsesApi, supports_reasoning

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.protocol import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    InputItem,
    Message,
    Prompt,
    Reasoning,
    TokenUsage,
    ToolSpec,
)
from tests.mock_model import (
    SHELL,
    Call,
    CustomCall,
    MockModelServer,
    Text,
    Thinking,
    TurnResult,
    mock_model,  # noqa: F401
    run_turn,
)

PATCH_FORMAT = {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}
APPLY_PATCH = ToolSpec(name="apply_patch", description="Edit files", parameters=PATCH_FORMAT, kind="freeform")


def provider_for(mock: MockModelServer, **fields: Any) -> ModelProviderInfo:
    return ModelProviderInfo(id="mock", **mock.provider_info("responses", **fields))


def prompt_for(model: str = "gpt-4.1", **fields: Any) -> Prompt:
    return Prompt(model=model, instructions="You are terse.", input=[Message("user", "hi")], **fields)


def run(mock: MockModelServer, prompt: Prompt | None = None, **provider_fields: Any) -> TurnResult:
    return asyncio.run(run_turn(ResponsesApi(), prompt or prompt_for(), provider_for(mock, **provider_fields)))


def test_request_fields_and_headers(mock_model: MockModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_API_KEY", "sk-test-123")
    monkeypatch.setenv("MOCK_ORG", "org-7")
    monkeypatch.delenv("MOCK_UNSET", raising=False)
    mock_model.responses_text("ok")
    history: list[InputItem] = [
        Message("user", "list files"),
        Reasoning(id="rs_1", summary=["Looking around"], encrypted_content="gAAA-opaque"),
        Message("assistant", "Sure.", id="msg_1"),
        FunctionCall(call_id="call_1", name="shell", arguments='{"command":["ls"]}', id="fc_1"),
        FunctionCallOutput(call_id="call_1", output="a.py\nb.py"),
        CustomToolCall(call_id="call_2", name="apply_patch", input="*** Begin Patch", id="ctc_1"),
        CustomToolCallOutput(call_id="call_2", output="Done!"),
    ]
    prompt = Prompt(
        model="gpt-5-codex", instructions="You are terse.", input=history, tools=[SHELL, APPLY_PATCH],
        reasoning_effort="high", reasoning_summary="detailed", verbosity="low", session_id="sess-42",
        parallel_tool_calls=True, store=False,
    )
    turn = run(
        mock_model, prompt, env_key="MOCK_API_KEY", http_headers={"X-Team": "blue"},
        env_http_headers={"OpenAI-Organization": "MOCK_ORG", "X-Absent": "MOCK_UNSET"},
        query_params={"api-version": "2025-04-01"},
    )
    assert turn.completed

    [request] = mock_model.requests
    assert request.method == "POST"
    assert request.path == "/v1/responses"
    assert request.query == {"api-version": "2025-04-01"}
    headers = request.headers
    assert headers["authorization"] == "Bearer sk-test-123"
    assert headers["x-team"] == "blue"
    assert headers["openai-organization"] == "org-7"
    assert "x-absent" not in headers
    assert headers["session_id"] == "sess-42"
    assert headers["originator"] == "codex_py"
    assert headers["accept"] == "text/event-stream"
    assert headers["content-type"] == "application/json"
    assert re.fullmatch(r"codex-py/\d+\.\d+\.\d+\S* \([^;]+; [^)]+\) python/3\.\d+\.\d+", headers["user-agent"])
    import platform

    assert headers["user-agent"].endswith(
        f"({platform.system()} {platform.release()}; {platform.machine()}) python/{platform.python_version()}"
    )

    body = request.json
    assert body["model"] == "gpt-5-codex"
    assert body["instructions"] == "You are terse."
    assert body["stream"] is True
    assert body["tool_choice"] == "auto"
    assert body["parallel_tool_calls"] is True
    assert body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["reasoning"] == {"effort": "high", "summary": "detailed"}
    assert body["text"] == {"verbosity": "low"}
    assert body["prompt_cache_key"] == "sess-42"
    assert body["tools"] == [
        {"type": "function", "name": "shell", "description": "Run a command", "strict": False,
         "parameters": SHELL.parameters},
        {"type": "custom", "name": "apply_patch", "description": "Edit files", "format": PATCH_FORMAT},
    ]
    # Without storage the server knows no item ids, so none are sent.
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Looking around"}],
         "encrypted_content": "gAAA-opaque"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sure."}]},
        {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": '{"command":["ls"]}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "a.py\nb.py"},
        {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "custom_tool_call_output", "call_id": "call_2", "output": "Done!"},
    ]
    assert set(body) == {
        "model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls", "store", "stream",
        "include", "reasoning", "text", "prompt_cache_key",
    }


def test_models_without_reasoning_get_no_reasoning_parameter(mock_model: MockModelServer) -> None:
    mock_model.responses_text("ok")
    run(mock_model, prompt_for("gpt-4.1", reasoning_effort="high"))
    body = mock_model.requests[0].json
    assert "reasoning" not in body
    assert body["include"] == []
    assert "text" not in body
    assert "prompt_cache_key" not in body
    assert "session_id" not in mock_model.requests[0].headers
    assert "authorization" not in mock_model.requests[0].headers


def test_stored_conversations_keep_ids_and_skip_encrypted_reasoning(mock_model: MockModelServer) -> None:
    mock_model.responses_text("ok")
    prompt = prompt_for("o3", store=True)
    prompt.input.append(Message("assistant", "hello", id="msg_9"))
    run(mock_model, prompt)
    body = mock_model.requests[0].json
    assert body["store"] is True
    assert body["include"] == []
    assert body["reasoning"] == {"summary": "auto"}
    assert body["input"][-1]["id"] == "msg_9"


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-5", True), ("gpt-5-codex", True), ("o3-mini", True), ("o4-mini", True), ("o1", True),
     ("codex-mini-latest", True), ("openai/gpt-5", True), ("gpt-4.1", False), ("gpt-4o", False),
     ("gpt-oss:20b", False), ("llama3", False)],
)
def test_supports_reasoning(model: str, expected: bool) -> None:
    assert supports_reasoning(model) is expected


def test_text_streams_as_deltas_then_a_message(mock_model: MockModelServer) -> None:
    mock_model.responses_text("The answer is 42.", response_id="resp_abc")
    turn = run(mock_model)
    deltas = [e.delta for e in turn.events if type(e).__name__ == "OutputTextDelta"]
    assert deltas == ["The", " answer", " is", " 42."]
    assert turn.messages == ["The answer is 42."]
    assert turn.response_id == "resp_abc"
    assert turn.usage == TokenUsage(input_tokens=12, cached_input_tokens=2, output_tokens=7,
                                    reasoning_output_tokens=3, total_tokens=19)
    assert turn.retries == []


def test_one_tool_call(mock_model: MockModelServer) -> None:
    mock_model.responses_call("shell", {"command": ["ls", "-la"]}, call_id="call_A")
    turn = run(mock_model)
    assert turn.calls == [FunctionCall(call_id="call_A", name="shell", arguments='{"command": ["ls", "-la"]}',
                                       id="fc_0")]
    assert turn.text == ""


def test_several_tool_calls_in_one_turn(mock_model: MockModelServer) -> None:
    mock_model.responses_turn(
        Text("Checking two things."),
        Call("shell", {"command": ["ls"]}),
        Call("shell", {"command": ["pwd"]}),
        CustomCall("apply_patch", "*** Begin Patch\n*** End Patch"),
    )
    turn = run(mock_model)
    assert turn.messages == ["Checking two things."]
    assert [(c.type, c.call_id, c.name) for c in turn.calls] == [
        ("function_call", "call_1", "shell"), ("function_call", "call_2", "shell"),
        ("custom_tool_call", "call_3", "apply_patch"),
    ]
    assert [c.arguments for c in turn.calls[:2]] == ['{"command": ["ls"]}', '{"command": ["pwd"]}']
    assert turn.calls[2].input == "*** Begin Patch\n*** End Patch"


def test_reasoning_summaries_and_content(mock_model: MockModelServer) -> None:
    mock_model.responses_turn(
        Thinking(summary=["Plan the work", "Then do it"], content=["raw thoughts"], encrypted_content="enc=="),
        Text("done"),
    )
    turn = run(mock_model, prompt_for("gpt-5"))
    assert turn.reasoning_summary == "Plan the workThen do it"
    assert turn.reasoning_content == "raw thoughts"
    assert turn.reasoning == [Reasoning(id="rs_0", summary=["Plan the work", "Then do it"],
                                        content=["raw thoughts"], encrypted_content="enc==")]
    assert turn.messages == ["done"]


def test_unknown_events_are_ignored(mock_model: MockModelServer) -> None:
    mock_model.sse([
        ("response.created", '{"type":"response.created","response":{"id":"r1"}}'),
        ("response.in_progress", '{"type":"response.in_progress","response":{"id":"r1"}}'),
        ("response.brand_new_thing", '{"type":"response.brand_new_thing","whatever":[1,2]}'),
        ("response.output_text.delta", '{"type":"response.output_text.delta","delta":"hi"}'),
        ("response.output_item.done", '{"type":"response.output_item.done","item":{"type":"web_search_call"}}'),
        ("response.output_item.done", '{"type":"response.output_item.done","item":{"type":"message",'
                                      '"role":"assistant","content":[{"type":"output_text","text":"hi"}]}}'),
        ("response.completed", '{"type":"response.completed","response":{"id":"r1"}}'),
    ])
    turn = run(mock_model)
    assert turn.text == "hi"
    assert turn.items == [Message("assistant", "hi")]  # the web search call is left out
    assert turn.completed and turn.usage is None


def test_response_failed_surfaces_the_server_message(mock_model: MockModelServer) -> None:
    mock_model.sse([
        ("response.created", '{"type":"response.created","response":{"id":"r1"}}'),
        ("response.failed", '{"type":"response.failed","response":{"id":"r1","error":'
                            '{"code":"invalid_prompt","message":"Your prompt was flagged."}}}'),
    ])
    with pytest.raises(ProviderError, match="Your prompt was flagged") as info:
        run(mock_model)
    assert "invalid_prompt" in str(info.value)
    assert len(mock_model.requests) == 1


def test_rate_limited_stream_is_retried_after_the_hinted_delay(mock_model: MockModelServer) -> None:
    mock_model.sse([
        ("response.created", '{"type":"response.created","response":{"id":"r1"}}'),
        ("response.failed", '{"type":"response.failed","response":{"error":{"code":"rate_limit_exceeded",'
                            '"message":"Rate limit reached. Please try again in 1.5s."}}}'),
    ])
    mock_model.responses_text("after the wait")
    turn = run(mock_model)
    assert turn.messages == ["after the wait"]
    assert turn.delays == [1.5]
    assert "Rate limit reached" in turn.retries[0].reason


def test_error_event_surfaces_its_message(mock_model: MockModelServer) -> None:
    mock_model.sse([("error", '{"type":"error","code":"bad_thing","message":"Something specific broke"}')])
    with pytest.raises(ProviderError, match="Something specific broke"):
        run(mock_model)


def test_incomplete_response_is_an_error(mock_model: MockModelServer) -> None:
    mock_model.sse([("response.incomplete", '{"type":"response.incomplete","response":'
                                            '{"incomplete_details":{"reason":"max_output_tokens"}}}')])
    with pytest.raises(ProviderError, match="max_output_tokens"):
        run(mock_model)


def test_stream_ending_without_completed_is_retried(mock_model: MockModelServer) -> None:
    mock_model.responses_text("partial answer", complete=False)
    mock_model.responses_text("whole answer")
    turn = run(mock_model)
    assert turn.text == "whole answer"
    assert turn.messages == ["whole answer"]
    assert "ended before response.completed" in turn.retries[0].reason
    assert len(mock_model.requests) == 2


def test_unreachable_base_url_without_retries(mock_model: MockModelServer) -> None:
    provider = ModelProviderInfo(id="gone", name="Gone", base_url="http://127.0.0.1:9/v1", request_max_retries=0)
    with pytest.raises(ProviderError) as info:
        asyncio.run(run_turn(ResponsesApi(), prompt_for(), provider))
    message = str(info.value)
    assert "could not reach 'Gone' at http://127.0.0.1:9/v1/responses" in message
    assert "request_max_retries" in message


def test_missing_base_url_is_explained() -> None:
    provider = ModelProviderInfo(id="nowhere", name="Nowhere")
    with pytest.raises(ProviderError, match=r"model_providers\.nowhere\.base_url"):
        asyncio.run(run_turn(ResponsesApi(), prompt_for(), provider))


def test_keep_alive_reuses_one_connection(mock_model: MockModelServer) -> None:
    api = ResponsesApi()
    provider = provider_for(mock_model)

    async def three_turns() -> list[str]:
        texts = []
        for word in ("one", "two", "three"):
            mock_model.responses_text(word)
            texts.append((await run_turn(api, prompt_for(), provider, close=False)).text)
        await api.aclose()
        return texts

    assert asyncio.run(three_turns()) == ["one", "two", "three"]
    assert mock_model.connections == 1
