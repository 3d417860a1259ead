"""End to end: the real `codex exec --oss` in a subprocess against the fake Ollama."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from codex_ollama.install import install_instructions
from fake_ollama import FakeOllama
from ollama_fixtures import free_port

pytestmark = pytest.mark.usefixtures("codex_home")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "work"
    directory.mkdir()
    (directory / "notes.txt").write_text("one\ntwo\nthree\n")
    # The server log of a launched Ollama goes under the user's state directory: keep it here.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in ("CODEX_OSS_BASE_URL", "CODEX_OSS_PORT", "OLLAMA_CONTEXT_LENGTH"):
        monkeypatch.delenv(name, raising=False)
    return directory


def test_exec_oss_pulls_runs_a_command_and_answers(
    fake_ollama: FakeOllama, run_codex: Any, workdir: Path
) -> None:
    fake_ollama.call("shell", {"command": ["cat", "notes.txt"]}, thinking="I should read the notes file.")
    fake_ollama.answer("The notes list three numbers.", thinking="The file holds one, two, three.")

    result = run_codex(
        "exec", "--oss", "--skip-git-repo-check", "-c", "oss.context_window=16384", "what is in notes.txt?",
        env={"CODEX_OSS_BASE_URL": fake_ollama.base_url}, cwd=workdir,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "The notes list three numbers.\n"
    # The model was missing, so it was pulled with progress before the first turn.
    assert f"Ollama 0.12.3 at {fake_ollama.root}" in result.stderr
    assert "pulling gpt-oss:20b: pulling manifest" in result.stderr
    assert "pulled gpt-oss:20b (3.0 MB)" in result.stderr
    assert fake_ollama.paths()[:3] == ["GET /api/version", "GET /api/tags", "POST /api/pull"]

    first, second = fake_ollama.chat_requests()
    # One fixed window for the whole session, so Ollama never reloads the model.
    assert first["options"] == second["options"] == {"num_ctx": 16384}
    assert first["model"] == second["model"] == "gpt-oss:20b"
    assert any(tool["function"]["name"] == "shell" for tool in first["tools"])
    # The reasoning round trip: the first answer's thinking comes back with its tool call.
    assistant = next(m for m in second["messages"] if m["role"] == "assistant")
    assert assistant["thinking"] == "I should read the notes file."
    assert assistant["tool_calls"][0]["function"] == {"name": "shell", "arguments": {"command": ["cat", "notes.txt"]}}
    tool = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool["tool_name"] == "shell"
    assert "one\ntwo\nthree" in tool["content"]


def test_exec_oss_launches_ollama_when_autostart_is_on(
    ollama_bin: Path, run_codex: Any, workdir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "PATH": f"{ollama_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "CODEX_OSS_PORT": str(port),
        "FAKE_OLLAMA_MODELS": "gpt-oss:20b",
    }
    result = run_codex(
        "exec", "--oss", "--skip-git-repo-check", "-c", "oss.autostart=true", "hello", env=env, cwd=workdir
    )

    assert result.returncode == 0, result.stderr
    log = tmp_path / "state" / "codex" / "log" / "ollama-serve.log"
    assert f"waiting up to 30 s for it at http://localhost:{port}" in result.stderr
    assert f"Log: {log}" in result.stderr
    assert "It stays running for later sessions" in result.stderr
    assert "OLLAMA_CONTEXT_LENGTH=32768" in log.read_text()
    # The server codex started answered the turn (it has no script: its stock reply).
    assert result.stdout == "(the fake has no scripted answer left)\n"


def test_exec_oss_without_ollama_installed_exits_1_with_install_advice(
    run_codex: Any, workdir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {"PATH": str(empty), "CODEX_OSS_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    result = run_codex("exec", "--oss", "--skip-git-repo-check", "hello", env=env, cwd=workdir)

    assert result.returncode == 1
    assert install_instructions() in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_exec_oss_reports_a_failed_pull(fake_ollama: FakeOllama, run_codex: Any, workdir: Path) -> None:
    result = run_codex(
        "exec", "--oss", "-m", "gpt-oss:7b", "--skip-git-repo-check", "hello",
        env={"CODEX_OSS_BASE_URL": fake_ollama.base_url}, cwd=workdir,
    )
    assert result.returncode == 1
    assert "Ollama does not know the model 'gpt-oss:7b'" in result.stderr
    assert fake_ollama.chat_requests() == []
    assert json.dumps(fake_ollama.requests[-1].body) == '{"model": "gpt-oss:7b", "name": "gpt-oss:7b", "stream": true}'
