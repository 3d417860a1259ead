"""The Chat Completions wire API against the mock model server: messages out, items back."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from codex_openai.chat import ChatCompletionsApi

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.protocol import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
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

APPLY_PATCH = ToolSpec(name="apply_patch", description="Edit files", parameters={"type": "grammar"}, kind="freeform")


def provider_for(mock: MockModelServer, **fields: Any) -> ModelProviderInfo:
    return ModelProviderInfo(id="mock", **mock.provider_info("chat", **fields))


def prompt_for(*items: Any, tools: list[ToolSpec] | None = None) -> Prompt:
    return Prompt(model="gpt-oss:20b", instructions="You are terse.", input=list(items) or [Message("user", "hi")],
                  tools=tools or [], session_id="sess-1")


def run(mock: MockModelServer, prompt: Prompt | None = None, **provider_fields: Any) -> TurnResult:
    return asyncio.run(run_turn(ChatCompletionsApi(), prompt or prompt_for(), provider_for(mock, **provider_fields)))


HISTORY = [
    Message("user", "list files"),
    Reasoning(content=["I should run ls."]),
    Message("assistant", "Let me look."),
    FunctionCall(call_id="call_1", name="shell", arguments='{"command":["ls"]}'),
    FunctionCall(call_id="call_2", name="shell", arguments='{"command":["pwd"]}'),
    FunctionCallOutput(call_id="call_1", output="a.py"),
    FunctionCallOutput(call_id="call_2", output="/work"),
    Reasoning(summary=["Patch it"]),
    CustomToolCall(call_id="call_3", name="apply_patch", input="*** Begin Patch"),
    CustomToolCallOutput(call_id="call_3", output="Done!"),
    Message("developer", "Be careful."),
    Message("user", "thanks"),
]


def test_request_messages_tools_and_headers(mock_model: MockModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_KEY", "local-secret")
    mock_model.chat_text("ok")
    run(mock_model, prompt_for(*HISTORY, tools=[SHELL, APPLY_PATCH]), env_key="LOCAL_KEY",
        query_params={"mode": "fast"})
    [request] = mock_model.requests
    assert request.path == "/v1/chat/completions"
    assert request.query == {"mode": "fast"}
    assert request.headers["authorization"] == "Bearer local-secret"
    assert request.headers["originator"] == "codex_py"
    assert request.headers["session_id"] == "sess-1"
    body = request.json
    assert body["model"] == "gpt-oss:20b"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["tool_choice"] == "auto"
    assert body["tools"] == [
        {"type": "function", "function": {"name": "shell", "description": "Run a command",
                                          "parameters": SHELL.parameters}},
        {"type": "function", "function": {"name": "apply_patch", "description": "Edit files", "parameters": {
            "type": "object", "properties": {"input": {"type": "string", "description": "the tool's input text"}},
            "required": ["input"], "additionalProperties": False}}},
    ]
    # A local server gets reasoning back on the assistant message that followed it.
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "list files"},
        {"role": "assistant", "content": "Let me look.", "reasoning": "I should run ls.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "shell", "arguments": '{"command":["ls"]}'}},
            {"id": "call_2", "type": "function", "function": {"name": "shell", "arguments": '{"command":["pwd"]}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a.py"},
        {"role": "tool", "tool_call_id": "call_2", "content": "/work"},
        {"role": "assistant", "content": None, "reasoning": "Patch it", "tool_calls": [
            {"id": "call_3", "type": "function",
             "function": {"name": "apply_patch", "arguments": '{"input": "*** Begin Patch"}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_3", "content": "Done!"},
        {"role": "system", "content": "Be careful."},
        {"role": "user", "content": "thanks"},
    ]
    assert set(body) == {"model", "messages", "stream", "stream_options", "tools", "tool_choice"}


def test_reasoning_is_dropped_when_the_provider_option_is_off(mock_model: MockModelServer) -> None:
    mock_model.chat_text("ok")
    run(mock_model, prompt_for(*HISTORY[:4]), chat_send_reasoning=False, chat_include_usage=False)
    body = mock_model.requests[0].json
    assert all("reasoning" not in message for message in body["messages"])
    assert "stream_options" not in body
    assert "tools" not in body
    assert body["messages"][2] == {"role": "assistant", "content": "Let me look.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "shell", "arguments": '{"command":["ls"]}'}}]}


def test_reasoning_is_not_sent_to_remote_servers_by_default() -> None:
    from codex_openai.chat import build_body

    remote = ModelProviderInfo(id="r", base_url="https://api.example.com/v1", wire_api="chat")
    local = ModelProviderInfo(id="l", base_url="http://localhost:11434/v1", wire_api="chat")
    prompt = prompt_for(*HISTORY[:4])
    assert "reasoning" not in build_body(prompt, remote)["messages"][2]
    assert build_body(prompt, local)["messages"][2]["reasoning"] == "I should run ls."


def test_text_streams_as_deltas_then_a_message(mock_model: MockModelServer) -> None:
    mock_model.chat_text("Hello from chat.")
    turn = run(mock_model)
    deltas = [e.delta for e in turn.events if type(e).__name__ == "OutputTextDelta"]
    assert deltas == ["Hello", " from", " chat."]
    assert turn.messages == ["Hello from chat."]
    assert turn.calls == []
    assert turn.response_id == "chatcmpl-1"
    assert turn.usage == TokenUsage(input_tokens=12, cached_input_tokens=2, output_tokens=7,
                                    reasoning_output_tokens=3, total_tokens=19)


def test_one_tool_call(mock_model: MockModelServer) -> None:
    mock_model.chat_call("shell", {"command": ["ls", "-la"]})
    turn = run(mock_model)
    assert turn.calls == [FunctionCall(call_id="call_1", name="shell", arguments='{"command": ["ls", "-la"]}')]
    assert turn.messages == []


@pytest.mark.parametrize("interleave", [False, True])
def test_several_tool_calls_aggregate_by_index(mock_model: MockModelServer, interleave: bool) -> None:
    mock_model.chat_turn(
        Text("Three things."),
        Call("shell", {"command": ["ls"]}),
        Call("read_file", {"path": "a.py", "limit": 10}),
        Call("shell", {"command": ["git", "status"]}),
        interleave=interleave,
    )
    turn = run(mock_model)
    assert turn.messages == ["Three things."]
    assert [(c.call_id, c.name, json.loads(c.arguments)) for c in turn.calls] == [
        ("call_1", "shell", {"command": ["ls"]}),
        ("call_2", "read_file", {"path": "a.py", "limit": 10}),
        ("call_3", "shell", {"command": ["git", "status"]}),
    ]


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_reasoning_deltas_from_open_model_servers(mock_model: MockModelServer, field: str) -> None:
    mock_model.chat_turn(Thinking(content=["Let me think step by step."]), Text("42"), reasoning_field=field)
    turn = run(mock_model)
    assert turn.reasoning_content == "Let me think step by step."
    assert turn.reasoning == [Reasoning(content=["Let me think step by step."])]
    assert turn.messages == ["42"]
    # Items come reasoning first, then the message.
    assert [item.type for item in turn.items] == ["reasoning", "message"]


def test_missing_call_ids_are_generated_and_distinct(mock_model: MockModelServer) -> None:
    chunk = {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": None}]}

    def frame(delta: dict[str, Any], finish: str | None = None) -> tuple[None, str]:
        return None, json.dumps({**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    mock_model.sse([
        frame({"tool_calls": [{"index": 0, "function": {"name": "shell", "arguments": '{"command":'}}]}),
        frame({"tool_calls": [{"index": 1, "function": {"name": "shell", "arguments": '{"command":["b"]}'}}]}),
        frame({"tool_calls": [{"index": 0, "function": {"arguments": '["a"]}'}}]}),
        frame({}, "tool_calls"),
        (None, "[DONE]"),
    ])
    turn = run(mock_model)
    assert [(c.name, c.arguments) for c in turn.calls] == [
        ("shell", '{"command":["a"]}'), ("shell", '{"command":["b"]}')]
    ids = [c.call_id for c in turn.calls]
    assert all(i.startswith("call_") for i in ids) and len(set(ids)) == 2
    assert turn.usage is None and turn.completed


def test_freeform_tool_calls_come_back_as_custom_calls(mock_model: MockModelServer) -> None:
    mock_model.chat_turn(CustomCall("apply_patch", "*** Begin Patch\n*** End Patch"))
    turn = run(mock_model, prompt_for(Message("user", "patch"), tools=[APPLY_PATCH]))
    assert turn.calls == [CustomToolCall(call_id="call_1", name="apply_patch", input="*** Begin Patch\n*** End Patch")]


def test_finish_reason_without_done_still_completes(mock_model: MockModelServer) -> None:
    mock_model.chat_text("no done marker", done=False)
    turn = run(mock_model)
    assert turn.messages == ["no done marker"]
    assert turn.retries == []


def test_stream_ending_before_finish_is_retried(mock_model: MockModelServer) -> None:
    reply = mock_model.chat_text("cut short answer")
    # Cut after the second text delta: the stream ends cleanly, but without finish_reason.
    reply.body = reply.body[: reply.event_ends[2]] + b""
    reply.event_ends = reply.event_ends[:3]
    mock_model.chat_text("complete answer")
    turn = run(mock_model)
    assert turn.text == "complete answer"
    assert turn.messages == ["complete answer"]
    assert "ended before the answer finished" in turn.retries[0].reason


def test_error_chunk_surfaces_the_message(mock_model: MockModelServer) -> None:
    mock_model.sse([(None, '{"error": {"message": "model \'nope\' not found", "code": "model_not_found"}}')])
    with pytest.raises(ProviderError, match="model 'nope' not found"):
        run(mock_model)
    assert len(mock_model.requests) == 1
