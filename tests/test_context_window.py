"""The context window: which window a session has, how its use is counted, how tool output
is cut for the model, how a provider's refusal is recognised, and how compaction rebuilds the
history. Pure logic; the end-to-end runs are in test_long_session.py."""

from __future__ import annotations

import json
import re

import httpx2
import pytest

from codex.compaction import SUMMARY_TAG, compacted_history, current_plan, summary_input
from codex.config.model import Config, ModelProviderInfo
from codex.context_window import (
    ContextTracker,
    auto_compact_limit_for,
    context_window_for,
    estimate_item_tokens,
    estimate_prompt_tokens,
    known_context_window,
    tool_output_budget_for,
    truncate_for_model,
)
from codex.http import error_for_event, error_for_status
from codex.protocol import FunctionCall, FunctionCallOutput, Message, Prompt, TokenUsage
from codex.rollout import RolloutRecorder, read_session
from codex.wire import ContextWindowExceeded, RetryableError

OPENING = [Message("user", "<environment_context>\n  <cwd>/w</cwd>\n</environment_context>")]


@pytest.mark.parametrize(
    ("model", "window"),
    [
        ("gpt-5-codex", 272_000),
        ("gpt-5", 272_000),
        ("openai/gpt-5-mini", 272_000),
        ("o3", 200_000),
        ("o4-mini", 200_000),
        ("gpt-4.1", 1_047_576),
        ("gpt-4o", 128_000),
        ("gpt-oss:20b", 96_000),
        ("gpt-oss-120b", 96_000),
        ("some-local-model", None),
    ],
)
def test_known_windows_of_common_models(model: str, window: int | None) -> None:
    assert known_context_window(model) == window


def test_window_comes_from_config_then_provider_then_known_models() -> None:
    provider = ModelProviderInfo(id="oss", context_window=32_768)
    assert context_window_for(Config(), provider, "gpt-oss:20b") == 32_768  # the oss num_ctx, not 96k
    assert context_window_for(Config(model_context_window=50_000), provider, "gpt-oss:20b") == 50_000
    assert context_window_for(Config(), ModelProviderInfo(id="openai"), "o3") == 200_000
    assert context_window_for(Config(), ModelProviderInfo(id="x"), "mystery") is None


def test_threshold_and_tool_budget_defaults_follow_the_window() -> None:
    assert auto_compact_limit_for(Config(), 32_000) == 25_600
    assert auto_compact_limit_for(Config(model_auto_compact_token_limit=10_000), 32_000) == 10_000
    assert auto_compact_limit_for(Config(model_auto_compact_token_limit=90_000), 32_000) == 32_000
    assert auto_compact_limit_for(Config(), None) is None
    assert tool_output_budget_for(Config(), 32_000) == 2_000
    assert tool_output_budget_for(Config(), 272_000) == 10_000
    assert tool_output_budget_for(Config(tool_output_token_limit=123), 32_000) == 123


def test_tool_output_over_budget_keeps_head_and_tail_with_a_marker() -> None:
    text = "".join(f"line {n}\n" for n in range(1, 5001))  # ~44 KB
    cut = truncate_for_model(text, 500)
    assert cut.startswith("line 1\nline 2\n")
    assert cut.endswith("line 5000\n")
    assert len(cut.encode()) < 500 * 4 + 200
    assert "left out to save context" in cut
    head, tail = cut.split("\n[…")[0], cut.split("…]\n")[1]
    match = re.search(r"\[… ([\d,]+) bytes \(([\d,]+) lines", cut)
    assert match is not None
    assert len(head) + int(match.group(1).replace(",", "")) + len(tail) == len(text)  # nothing lost unsaid
    assert truncate_for_model("short\n", 500) == "short\n"


def test_tracker_anchors_on_reported_usage_and_estimates_what_came_since() -> None:
    tracker = ContextTracker(window=10_000, auto_compact_limit=8_000, tool_output_budget=1_000)
    history: list = [*OPENING, Message("user", "go"), FunctionCall("c1", "shell", '{"command":["ls"]}')]
    tracker.anchor(len(history), TokenUsage(input_tokens=5_000, output_tokens=100))
    output = FunctionCallOutput("c1", "x" * 8_000)
    history.append(output)
    tokens = tracker.tokens_for(Prompt("m", "instructions", history))
    assert tokens == 5_100 + estimate_item_tokens(output)
    assert tracker.percent_left() == round(100 * (1 - tokens / 10_000))
    assert tracker.should_compact(tokens) is False
    history.append(FunctionCallOutput("c2", "y" * 12_000))
    assert tracker.should_compact(tracker.tokens_for(Prompt("m", "instructions", history)))
    tracker.forget()  # after a compaction: the estimate alone
    assert tracker.tokens_for(Prompt("m", "", OPENING)) == estimate_prompt_tokens(Prompt("m", "", OPENING))


def test_a_usage_without_input_count_does_not_anchor() -> None:
    tracker = ContextTracker(window=1_000, auto_compact_limit=800, tool_output_budget=100)
    tracker.anchor(3, TokenUsage(input_tokens=0, output_tokens=50))  # an old Ollama, prompt cached
    prompt = Prompt("m", "", [Message("user", "z" * 4_000)])
    assert tracker.tokens_for(prompt) > 1_000


def test_context_length_refusals_are_recognised_in_status_and_stream() -> None:
    provider = ModelProviderInfo(id="openai", name="OpenAI")
    body = json.dumps({"error": {"message": "Your input exceeds the context window of this model.",
                                 "type": "invalid_request_error", "code": "context_length_exceeded"}}).encode()
    assert isinstance(error_for_status(provider, 400, httpx2.Headers(), body), ContextWindowExceeded)
    vllm = json.dumps({"message": "This model's maximum context length is 8192 tokens."}).encode()
    assert isinstance(error_for_status(provider, 400, httpx2.Headers(), vllm), ContextWindowExceeded)
    assert not isinstance(error_for_status(provider, 400, httpx2.Headers(), b'{"error":"bad tool"}'),
                          ContextWindowExceeded)
    assert isinstance(error_for_event(provider, "too long", "context_length_exceeded"), ContextWindowExceeded)
    assert isinstance(error_for_event(provider, "busy", "server_is_overloaded"), RetryableError)


def test_chat_sends_the_session_cache_key_to_openai_only() -> None:
    from codex_openai.chat import build_body

    prompt = Prompt("gpt-4.1", "instructions", [Message("user", "hi")], session_id="sid-7")
    assert build_body(prompt, ModelProviderInfo(id="openai", wire_api="chat"))["prompt_cache_key"] == "sid-7"
    local = ModelProviderInfo(id="lm", base_url="http://127.0.0.1:1234/v1", wire_api="chat")
    assert "prompt_cache_key" not in build_body(prompt, local)


def test_summary_input_leaves_out_the_oldest_whole_calls_first() -> None:
    history: list = [*OPENING, Message("user", "go")]
    for n in range(10):
        history += [FunctionCall(f"c{n}", "shell", "{}"), FunctionCallOutput(f"c{n}", "o" * 4_000)]
    total = sum(estimate_item_tokens(i) for i in history)
    kept, left_out = summary_input(history, total - 3_500)
    assert kept[: len(OPENING)] == OPENING
    assert left_out > 0
    rest = kept[len(OPENING):]
    assert isinstance(rest[0], FunctionCall)  # never an output without its call
    assert sum(estimate_item_tokens(i) for i in kept) <= 3_500
    assert summary_input(history, 0) == (history, 0)


def test_compacted_history_keeps_opening_recent_messages_summary_and_plan() -> None:
    plan = {"plan": [{"step": "read", "status": "completed"}, {"step": "fix", "status": "in_progress"}]}
    history: list = [
        *OPENING,
        Message("user", "first request"),
        FunctionCall("p", "update_plan", json.dumps(plan)),
        FunctionCallOutput("p", "Plan updated"),
        Message("assistant", "working"),
        Message("user", "second request"),
        FunctionCall("c", "shell", "{}"),
        FunctionCallOutput("c", "out"),
    ]
    replaced = compacted_history(history, "SUMMARY TEXT", 32_000)
    texts = [i.text for i in replaced if isinstance(i, Message)]
    assert replaced[0] == OPENING[0]
    assert texts[1:3] == ["first request", "second request"]
    assert texts[3].startswith(f"<{SUMMARY_TAG}>") and "SUMMARY TEXT" in texts[3]
    assert texts[4] == "<current_plan>\n- [x] read\n- [~] fix\n</current_plan>"
    assert not any(isinstance(i, FunctionCall | FunctionCallOutput) for i in replaced)
    # compacting again keeps the plan (no new update_plan since) and not the old summary as a request
    again = compacted_history([*replaced, Message("user", "third")], "S2", 32_000)
    again_texts = [i.text for i in again if isinstance(i, Message)]
    assert current_plan(again) == "- [x] read\n- [~] fix"
    assert again_texts[1:4] == ["first request", "second request", "third"]
    assert sum("SUMMARY TEXT" in t for t in again_texts) == 0


def test_rollout_resumes_from_the_compaction(tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder = RolloutRecorder.create(tmp_path, "sid-1", {"cwd": "/w"})
    for item in [*OPENING, Message("user", "go"), FunctionCall("c", "shell", "{}"), FunctionCallOutput("c", "x" * 900)]:
        recorder.record_item(item)
    replacement = [*OPENING, Message("user", "go"), Message("user", f"<{SUMMARY_TAG}>\nS\n</{SUMMARY_TAG}>")]
    recorder.record_compaction("S", replacement, "auto")
    recorder.record_item(Message("assistant", "after"))
    recorder.close()
    saved = read_session(recorder.path)
    assert saved.items == [*replacement, Message("assistant", "after")]
    lines = [json.loads(line) for line in recorder.path.read_text().splitlines()]
    # the original items, full outputs included, are still in the file for the person
    assert any(line.get("item", {}).get("output") == "x" * 900 for line in lines)
    assert [line["type"] for line in lines].count("compacted") == 1


def test_an_image_counts_as_the_most_it_costs_not_by_its_bytes() -> None:
    from codex.context_window import IMAGE_TOKENS
    from codex.protocol import ImageInput

    big = ImageInput("/w/shot.png", "image/png", 5_000_000, "0" * 64, b"\x89PNG" + b"\0" * 100)
    plain = estimate_item_tokens(Message("user", "look"))
    with_images = estimate_item_tokens(Message("user", "look", images=(big, big)))
    assert with_images - plain == 2 * IMAGE_TOKENS
