"""Long sessions through `codex exec`: a scripted model that reads every request (usage computed
from its size, a refusal past the window) drives a session of many large command outputs in a
small window. Checked: the session ends with no request over the window, the summary request
and the history that replaces the conversation, the tool output budget, the rollout, resume,
`exec resume --compact`, and a provider's context-length refusal survived."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex.compaction import SUMMARY_PROMPT, SUMMARY_TAG
from tests.conftest import RunCodex
from tests.long_session import LongSessionModel
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)

# Small enough that 20 commands need a few compactions; the base request (instructions and
# tool declarations) is about 3,000 tokens of it.
WINDOW = 8_000
BUDGET_MARK = "left out to save context"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def configure(codex_home: Path, mock: MockModelServer, extra: str = "") -> None:
    (codex_home / "config.toml").write_text(
        f'model = "mock-model"\nmodel_provider = "mock"\nmodel_context_window = {WINDOW}\n{extra}'
        + mock.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def items_of(lines: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The completed items of this type."""
    return [line["item"] for line in lines if line["type"] == "item.completed" and line["item"]["type"] == kind]


def texts(request_json: dict[str, Any]) -> list[str]:
    """The text of every message in a Responses request's input."""
    return ["".join(p["text"] for p in item["content"]) for item in request_json["input"] if item["type"] == "message"]


def rollout_lines(codex_home: Path) -> list[dict[str, Any]]:
    (path,) = (codex_home / "sessions").glob("*/*/*/rollout-*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_exec_long_session_compacts_and_ends_under_the_window(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    model = LongSessionModel(window=WINDOW, commands=20)
    mock_model.responder = model

    result = run_codex("exec", "--json", "run the numbered commands", cwd=workspace, timeout=180)

    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert items_of(lines, "agent_message")[-1]["text"] == "done: all 20 commands ran"
    assert model.calls_made == 20 and model.over_window == 0 and model.peak_tokens <= WINDOW
    assert model.summaries >= 2
    compactions = items_of(lines, "context_compaction")
    assert len(compactions) == model.summaries
    assert all(c["reason"] == "auto" and c["tokens_after"] < c["tokens_before"] for c in compactions)
    assert all(c["tokens_before"] > WINDOW * 0.8 for c in compactions)  # not before the threshold
    # usage per turn covers every request the model billed, summaries included
    completed = lines[-1]
    assert completed["type"] == "turn.completed"
    assert completed["usage"]["input_tokens"] == model.input_tokens
    assert completed["usage"]["cached_input_tokens"] == model.cached_tokens > 0
    assert completed["context"]["model_context_window"] == WINDOW
    assert completed["context"]["auto_compact_token_limit"] == WINDOW * 8 // 10

    requests = [r.json for r in mock_model.requests]
    thread_id = lines[0]["thread_id"]
    for number in model.summary_requests:
        summary, before, after = requests[number - 1], requests[number - 2], requests[number]
        # an ordinary request whose last message is ours...
        assert texts(summary)[-1] == SUMMARY_PROMPT
        # ...with the prefix of the request before it unchanged (the prompt cache hits)
        for key in ("instructions", "tools", "prompt_cache_key"):
            assert summary[key] == before[key]
        assert summary["input"][: len(before["input"])] == before["input"]
        assert summary["prompt_cache_key"] == thread_id
        # the next request carries the opening context, the person's message, the summary, nothing else
        assert after["instructions"] == summary["instructions"] and after["tools"] == summary["tools"]
        assert after["input"][0] == summary["input"][0]  # <environment_context>
        assert [item["type"] for item in after["input"]] == ["message"] * 3
        assert texts(after)[1] == "run the numbered commands"
        assert texts(after)[2].startswith(f"<{SUMMARY_TAG}>") and "SUMMARY" in texts(after)[2]

    # the tool output budget: the model gets head and tail, the person and the rollout the whole
    budget = WINDOW // 16
    sent = [item["output"] for item in requests[-1]["input"] if item["type"] == "function_call_output"]
    assert sent and all(BUDGET_MARK in output and len(output) < budget * 4 + 300 for output in sent)
    shown = items_of(lines, "command_execution")
    assert len(shown) == 20 and all(BUDGET_MARK not in c["aggregated_output"] for c in shown)
    assert all(c["aggregated_output"].endswith("\n4221\n4222\n") for c in shown)  # seq 1 4222, whole
    recorded = rollout_lines(codex_home)
    items = [line["item"] for line in recorded if line["type"] == "response_item"]
    outputs = [item["output"] for item in items if item["type"] == "function_call_output"]
    assert len(outputs) == 20 and all(BUDGET_MARK not in o and len(o) > budget * 4 for o in outputs)
    assert [line["type"] for line in recorded].count("compacted") == model.summaries


def test_resume_after_compaction_starts_from_the_summary(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    model = LongSessionModel(window=WINDOW, commands=12)
    mock_model.responder = model
    first = run_codex("exec", "--json", "run the numbered commands", cwd=workspace, timeout=120)
    assert first.returncode == 0, first.stderr
    assert model.summaries >= 1
    replacement = [line for line in rollout_lines(codex_home) if line["type"] == "compacted"][-1]
    asked = len(mock_model.requests)

    second = run_codex("exec", "--json", "resume", "--last", "what is left?", cwd=workspace, timeout=60)

    assert second.returncode == 0, second.stderr
    resumed = mock_model.requests[asked].json
    kept = replacement["replacement_history"]
    # the compacted history, then what came after it (the last calls and the answer), then the new message
    assert texts(resumed)[: len(kept)] == [item["text"] for item in kept]
    assert texts(resumed)[-1] == "what is left?"
    call_ids = {item["call_id"] for item in resumed["input"] if item["type"] == "function_call"}
    assert "call_1" not in call_ids  # the conversation before the compaction is not sent again
    assert resumed["prompt_cache_key"] == json_lines(first.stdout)[0]["thread_id"]


def test_exec_resume_compact_summarises_then_answers(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    model = LongSessionModel(window=WINDOW, commands=2)
    mock_model.responder = model
    assert run_codex("exec", "--json", "run two commands", cwd=workspace).returncode == 0
    assert model.summaries == 0

    only = run_codex("exec", "--json", "resume", "--last", "--compact", cwd=workspace)

    assert only.returncode == 0, only.stderr
    (compaction,) = items_of(json_lines(only.stdout), "context_compaction")
    assert compaction["reason"] == "manual" and model.summaries == 1
    assert texts(mock_model.requests[-1].json)[-1] == SUMMARY_PROMPT
    asked = len(mock_model.requests)

    # Right after a compaction there is nothing to summarise: no second summary request.
    then = run_codex("exec", "--json", "resume", "--last", "--compact", "and now?", cwd=workspace)

    assert then.returncode == 0, then.stderr
    assert model.summaries == 1 and len(mock_model.requests) == asked + 1
    assert not items_of(json_lines(then.stdout), "context_compaction")
    answered = mock_model.requests[asked].json
    assert texts(answered)[-1] == "and now?"
    assert not any(item["type"] == "function_call_output" for item in answered["input"])
    assert sum(text.startswith(f"<{SUMMARY_TAG}>") for text in texts(answered)) == 1


def test_compact_needs_resume(codex_home: Path, workspace: Path, run_codex: RunCodex,
                              mock_model: MockModelServer) -> None:
    configure(codex_home, mock_model)
    result = run_codex("exec", "--compact", "hello", cwd=workspace)
    assert result.returncode == 2
    assert "--compact only goes with `codex exec resume`" in result.stderr


def test_context_length_refusal_compacts_once_and_retries(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    # The third request is refused as too long (the provider counts differently from us).
    model = LongSessionModel(window=WINDOW, commands=3, refuse_request=3)
    mock_model.responder = model

    result = run_codex("exec", "--json", "run three commands", cwd=workspace, timeout=60)

    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert items_of(lines, "agent_message")[-1]["text"] == "done: all 3 commands ran"
    assert model.refused == 1 and model.summaries == 1 and model.over_window == 0
    (compaction,) = items_of(lines, "context_compaction")
    assert compaction["reason"] == "context_length_exceeded"
    errors = [e["message"] for e in items_of(lines, "error")]
    assert any("context window" in message and "retrying once" in message for message in errors)
    refused, summary, retried = (mock_model.requests[n].json for n in (2, 3, 4))
    assert texts(summary)[-1] == SUMMARY_PROMPT
    assert len(json.dumps(retried)) < len(json.dumps(refused))


def test_a_failed_automatic_compaction_lets_the_turn_go_on(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "model_auto_compact_token_limit = 4000\n")
    model = LongSessionModel(window=WINDOW, commands=4, summary_by_call=True)
    mock_model.responder = model

    result = run_codex("exec", "--json", "run four commands", cwd=workspace, timeout=60)

    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert items_of(lines, "agent_message")[-1]["text"] == "done: all 4 commands ran"
    assert model.summaries == 1  # asked once, not again on every later request of the turn
    assert not items_of(lines, "context_compaction")
    errors = [e["message"] for e in items_of(lines, "error")]
    assert any("compaction failed" in message for message in errors)
