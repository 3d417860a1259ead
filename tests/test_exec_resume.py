"""Sessions on disk: `codex exec resume` continues them, even after the process was killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer


@pytest.fixture
def workspace(git_workspace: Path) -> Path:
    return git_workspace


def configure(codex_home: Path, mock: MockModelServer) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )


def rollout_files(codex_home: Path) -> list[Path]:
    return sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))


def user_texts(body: dict[str, Any]) -> list[str]:
    return [i["content"][0]["text"] for i in body["input"] if i.get("role") == "user"]


def test_rollout_file_records_the_session(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_text("first answer")
    result = run_codex("exec", "hello", cwd=workspace)
    assert result.returncode == 0, result.stderr
    [path] = rollout_files(codex_home)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["type"] == "session_meta"
    assert lines[0]["cwd"] == str(workspace)
    assert path.name.endswith(f"-{lines[0]['id']}.jsonl")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    items = [line["item"] for line in lines[1:]]
    assert {"type": "message", "role": "user", "text": "hello", "id": None} in items
    assert items[-1]["role"] == "assistant" and items[-1]["text"] == "first answer"


def test_resume_last_and_by_id_continue_the_conversation(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_text("the answer is 42")
    assert run_codex("exec", "what is the answer?", cwd=workspace).returncode == 0
    [path] = rollout_files(codex_home)
    session_id = json.loads(path.read_text().splitlines()[0])["id"]

    mock_model.responses_text("you asked about the answer")
    resumed = run_codex("exec", "resume", "--last", "what did I ask?", cwd=workspace)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "you asked about the answer\n"
    body = mock_model.requests[1].json
    assert user_texts(body)[-2:] == ["what is the answer?", "what did I ask?"]
    assistant = [i for i in body["input"] if i.get("role") == "assistant"]
    assert assistant[0]["content"][0]["text"] == "the answer is 42"
    assert body["prompt_cache_key"] == session_id
    # Resuming appends to the same file rather than starting a new session.
    assert rollout_files(codex_home) == [path]

    mock_model.responses_text("third")
    by_id = run_codex("exec", "resume", session_id, "and now?", cwd=workspace)
    assert by_id.returncode == 0, by_id.stderr
    assert user_texts(mock_model.requests[2].json)[-3:] == ["what is the answer?", "what did I ask?", "and now?"]


def test_resume_of_an_unknown_id_is_a_clear_error(codex_home: Path, workspace: Path, run_codex: RunCodex) -> None:
    result = run_codex("exec", "resume", "no-such-id", "hi", cwd=workspace)
    assert result.returncode == 1
    assert "no session with id 'no-such-id'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_session_killed_mid_turn_still_resumes(
    mock_model: MockModelServer, codex_home: Path, workspace: Path
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["sleep", "5"]}, "call_slow"))
    env = {**os.environ, "CODEX_HOME": str(codex_home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex", "exec", "-s", "danger-full-access", "start a slow job"],
        cwd=workspace, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            files = rollout_files(codex_home)
            if files and "call_slow" in files[0].read_text():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the function call never reached the rollout file")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    [path] = rollout_files(codex_home)
    # Simulate the worst case too: a line torn in the middle of a write.
    with path.open("a") as handle:
        handle.write('{"type":"response_item","item":{"type":"mess')

    mock_model.responses_text("resumed fine")
    result = subprocess.run(
        [sys.executable, "-m", "codex", "exec", "resume", "--last", "continue"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "resumed fine\n"
    body = mock_model.requests[-1].json
    outputs = [i for i in body["input"] if i.get("type") == "function_call_output"]
    assert outputs == [
        {"type": "function_call_output", "call_id": "call_slow",
         "output": "error: the session ended before this call finished"}
    ]
    assert user_texts(body)[-2:] == ["start a slow job", "continue"]
    # The file stays readable: every line after the torn one is whole JSON.
    tail = path.read_text().splitlines()
    assert all(json.loads(line) for line in tail[tail.index(next(t for t in tail if t.endswith('"mess'))) + 1:])

