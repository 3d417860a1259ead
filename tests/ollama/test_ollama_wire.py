"""The `ollama` wire API against the fake server: what is sent, and what comes back."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from codex_ollama.wire import OllamaChatApi, build_messages
from fake_ollama import FakeOllama

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.protocol import (
    Completed,
    FunctionCall,
    FunctionCallOutput,
    Message,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    Reasoning,
    ReasoningContentDelta,
    ResponseEvent,
    ToolSpec,
)

SHELL = ToolSpec("shell", "Run a command", {"type": "object", "properties": {"command": {"type": "array"}}})


def provider_for(fake: FakeOllama, **extra: Any) -> ModelProviderInfo:
    return ModelProviderInfo(id="oss", name="Ollama", base_url=fake.base_url, wire_api="ollama", **extra)


def prompt(*items: Any, tools: list[ToolSpec] | None = None, model: str = "gpt-oss:20b", **kw: Any) -> Prompt:
    return Prompt(model=model, instructions="You are codex.", input=list(items) or [Message("user", "hi")],
                  tools=tools if tools is not None else [SHELL], session_id="s-1", **kw)


def collect(api: OllamaChatApi, p: Prompt, provider: ModelProviderInfo) -> list[ResponseEvent]:
    async def run() -> list[ResponseEvent]:
        try:
            return [event async for event in api.stream(p, provider)]
        finally:
            await api.aclose()

    return asyncio.run(run())


@pytest.fixture
def gpt_oss(fake_ollama: FakeOllama) -> FakeOllama:
    fake_ollama.installed.append("gpt-oss:20b")
    return fake_ollama


def test_text_and_thinking_stream_as_deltas_then_items(gpt_oss: FakeOllama) -> None:
    gpt_oss.answer("It is sunny.", thinking="The user asks about weather.")
    events = collect(OllamaChatApi(), prompt(), provider_for(gpt_oss))

    thinking = "".join(e.delta for e in events if isinstance(e, ReasoningContentDelta))
    text = "".join(e.delta for e in events if isinstance(e, OutputTextDelta))
    items = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert thinking == "The user asks about weather."
    assert text == "It is sunny."
    assert items == [Reasoning(content=["The user asks about weather."]), Message("assistant", "It is sunny.")]
    done = events[-1]
    assert isinstance(done, Completed) and done.usage is not None
    assert (done.usage.input_tokens, done.usage.output_tokens) == (1200, 42)
    assert done.usage.cached_input_tokens == 1024  # prompt_eval_cached_count (newer Ollama releases)


def test_every_request_carries_the_same_fixed_window(gpt_oss: FakeOllama) -> None:
    api = OllamaChatApi()
    provider = provider_for(gpt_oss, context_window=65536)
    gpt_oss.answer("one")
    gpt_oss.answer("two")
    collect(api, prompt(), provider)
    collect(api, prompt(Message("user", "a much longer prompt " * 50)), provider)

    bodies = gpt_oss.chat_requests()
    assert [b["options"]["num_ctx"] for b in bodies] == [65536, 65536]
    assert all(b["stream"] is True and b["model"] == "gpt-oss:20b" for b in bodies)
    assert bodies[0]["tools"][0] == {"type": "function", "function": {
        "name": "shell", "description": "Run a command", "parameters": SHELL.parameters}}


def test_window_defaults_to_32768(gpt_oss: FakeOllama) -> None:
    gpt_oss.answer("ok")
    collect(OllamaChatApi(), prompt(), provider_for(gpt_oss))
    assert gpt_oss.chat_requests()[0]["options"] == {"num_ctx": 32768}


def test_tool_call_arrives_with_json_arguments_and_a_clean_name(gpt_oss: FakeOllama) -> None:
    gpt_oss.call("functions.shell<|channel|>commentary", {"command": ["ls", "-la"]}, thinking="List files.")
    events = collect(OllamaChatApi(), prompt(), provider_for(gpt_oss))
    calls = [e.item for e in events if isinstance(e, OutputItemDone) and isinstance(e.item, FunctionCall)]
    assert len(calls) == 1
    assert calls[0].name == "shell"
    assert json.loads(calls[0].arguments) == {"command": ["ls", "-la"]}
    assert calls[0].call_id


def test_arguments_that_are_not_json_pass_through_verbatim(gpt_oss: FakeOllama) -> None:
    gpt_oss.call("shell", '{"command": ["ls",')
    events = collect(OllamaChatApi(), prompt(), provider_for(gpt_oss))
    calls = [e.item for e in events if isinstance(e, OutputItemDone) and isinstance(e.item, FunctionCall)]
    assert calls[0].arguments == '{"command": ["ls",'


def test_stray_tokens_never_reach_the_answer(gpt_oss: FakeOllama) -> None:
    gpt_oss.answer("<|channel|>final<|message|>All tests pass.<|return|>")
    events = collect(OllamaChatApi(), prompt(), provider_for(gpt_oss))
    text = "".join(e.delta for e in events if isinstance(e, OutputTextDelta))
    assert text == "All tests pass."
    assert [e.item for e in events if isinstance(e, OutputItemDone)] == [Message("assistant", "All tests pass.")]


def test_reasoning_goes_back_as_thinking_with_the_tool_call() -> None:
    history = [
        Message("user", "count lines"),
        Reasoning(content=["I should run wc."]),
        FunctionCall("call_1", "shell", '{"command": ["wc", "-l", "a.py"]}'),
        FunctionCallOutput("call_1", "3 a.py", True),
        Reasoning(content=["Three lines."]),
        Message("assistant", "a.py has 3 lines."),
        FunctionCall("call_2", "shell", "{not json"),
        FunctionCallOutput("call_2", "error: arguments are not valid JSON", False),
    ]
    messages = build_messages(prompt(*history))
    assert messages[0] == {"role": "system", "content": "You are codex."}
    assert messages[2] == {
        "role": "assistant",
        "content": "",
        "thinking": "I should run wc.",
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "shell", "arguments": {"command": ["wc", "-l", "a.py"]}}}],
    }
    assert messages[3] == {"role": "tool", "content": "3 a.py", "tool_call_id": "call_1", "tool_name": "shell"}
    assert messages[4]["thinking"] == "Three lines." and messages[4]["content"] == "a.py has 3 lines."
    # The call with broken arguments joins that message, with an object Ollama can parse.
    assert messages[4]["tool_calls"][0]["function"]["arguments"] == {}


def test_gpt_oss_gets_a_reasoning_level_other_models_none(gpt_oss: FakeOllama) -> None:
    gpt_oss.installed.append("qwen3:8b")
    gpt_oss.answer("a")
    gpt_oss.answer("b")
    collect(OllamaChatApi(), prompt(reasoning_effort="high"), provider_for(gpt_oss))
    collect(OllamaChatApi(), prompt(model="qwen3:8b", reasoning_effort="high"), provider_for(gpt_oss))
    first, second = gpt_oss.chat_requests()
    assert first["think"] == "high"
    assert "think" not in second


def test_error_inside_the_stream_is_a_provider_error(gpt_oss: FakeOllama) -> None:
    gpt_oss.fail_chat("model requires more system memory (16.0 GiB) than is available (8.0 GiB)")
    with pytest.raises(ProviderError, match="more system memory"):
        collect(OllamaChatApi(), prompt(), provider_for(gpt_oss))


def test_missing_model_is_reported_with_ollamas_message(fake_ollama: FakeOllama) -> None:
    with pytest.raises(ProviderError, match="not found, try pulling it first"):
        collect(OllamaChatApi(), prompt(), provider_for(fake_ollama))


def test_a_prompt_near_the_window_warns_once(gpt_oss: FakeOllama, caplog: pytest.LogCaptureFixture) -> None:
    api = OllamaChatApi()
    provider = provider_for(gpt_oss, context_window=4096)
    big = Message("user", "x" * 4096 * 4)
    for _ in range(2):
        gpt_oss.answer("ok")
        with caplog.at_level(logging.WARNING, logger="codex.ollama"):
            collect(api, prompt(big), provider)
    warnings = [r.getMessage() for r in caplog.records if r.name == "codex.ollama"]
    assert len(warnings) == 1
    assert "no longer fits the model's context window of 4096 tokens" in warnings[0]
    assert "oss.context_window" in warnings[0]


def test_small_prompts_do_not_warn(gpt_oss: FakeOllama, caplog: pytest.LogCaptureFixture) -> None:
    gpt_oss.answer("ok")
    with caplog.at_level(logging.WARNING, logger="codex.ollama"):
        collect(OllamaChatApi(), prompt(), provider_for(gpt_oss))
    assert not [r for r in caplog.records if r.name == "codex.ollama"]
