"""`codex exec` end to end: the real CLI in a subprocess, a mock model on a loopback socket.

The scenario runs a shell command under the Landlock sandbox, applies a patch that adds and
updates files, updates the plan and answers; it is checked on disk, on stdout, in --json lines
and in the request bodies the model received back.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

PATCH = """*** Begin Patch
*** Add File: src/new.py
+def greet():
+    return "hello"
*** Update File: a.txt
@@
 alpha
-beta
+BETA
 gamma
*** End Patch
"""
PLAN = {"plan": [{"step": "write out.txt", "status": "completed"}, {"step": "patch", "status": "in_progress"}]}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "a.txt").write_text("alpha\nbeta\ngamma\n")
    return root


def configure(codex_home: Path, mock: MockModelServer, wire: str) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock.provider_toml("mock", wire, request_max_retries=0, stream_max_retries=0)
    )


def script_scenario(mock: MockModelServer, wire: str) -> None:
    turns: list[list[Any]] = [
        [Call("shell", {"command": ["bash", "-c", "echo hi > out.txt"]}, "call_1")],
        [Call("apply_patch", {"input": PATCH}, "call_2")],
        [Call("update_plan", PLAN, "call_3")],
        [Text("All done: out.txt written, files patched.")],
    ]
    for parts in turns:
        if wire == "responses":
            mock.responses_turn(*parts)
        else:
            mock.chat_turn(*parts)


def tool_outputs(body: dict[str, Any], wire: str) -> dict[str, str]:
    """call_id -> output text the model received, for either wire."""
    if wire == "responses":
        return {i["call_id"]: i["output"] for i in body["input"] if i.get("type") == "function_call_output"}
    return {m["tool_call_id"]: m["content"] for m in body["messages"] if m.get("role") == "tool"}


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_exec_scenario(
    wire: str, mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, wire)
    script_scenario(mock_model, wire)

    result = run_codex("exec", "-s", "workspace-write", "do the thing", cwd=workspace)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "All done: out.txt written, files patched.\n"
    assert (workspace / "out.txt").read_text() == "hi\n"
    assert (workspace / "src/new.py").read_text() == 'def greet():\n    return "hello"\n'
    assert (workspace / "a.txt").read_text() == "alpha\nBETA\ngamma\n"
    # The transcript is on stderr: header, the command, the patch summary, the plan.
    assert "sandbox: workspace-write" in result.stderr
    assert "echo hi > out.txt" in result.stderr
    assert "A src/new.py" in result.stderr and "M a.txt" in result.stderr
    assert "[~] patch" in result.stderr

    requests = mock_model.requests
    assert len(requests) == 4
    first = requests[0].json
    if wire == "responses":
        assert first["model"] == "mock-model"
        assert {t["name"] for t in first["tools"]} >= {"shell", "apply_patch", "update_plan"}
        user_texts = [i["content"][0]["text"] for i in first["input"] if i.get("role") == "user"]
        assert "do the thing" in user_texts
        assert any("<environment_context>" in t and "workspace-write" in t for t in user_texts)
    else:
        assert first["messages"][0]["role"] == "system"
        assert {t["function"]["name"] for t in first["tools"]} >= {"shell", "apply_patch", "update_plan"}
    outputs = tool_outputs(requests[3].json, wire)
    assert outputs["call_1"].startswith("Exit code: 0\n")
    assert "Stdout:\n(empty)" in outputs["call_1"]
    assert outputs["call_2"].splitlines() == [
        "Success. Updated the following files:",
        "A src/new.py",
        "M a.txt",
    ]
    assert outputs["call_3"] == "Plan updated"


def test_exec_json_lines(mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex) -> None:
    configure(codex_home, mock_model, "responses")
    script_scenario(mock_model, "responses")

    result = run_codex("exec", "--json", "--full-auto", "do the thing", cwd=workspace)

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [(line["type"], line.get("item", {}).get("type")) for line in lines]
    assert kinds == [
        ("thread.started", None),
        ("turn.started", None),
        ("item.started", "command_execution"),
        ("item.completed", "command_execution"),
        ("item.completed", "file_change"),
        ("item.started", "todo_list"),
        ("item.completed", "agent_message"),
        ("item.completed", "todo_list"),
        ("turn.completed", None),
    ]
    command = lines[3]["item"]
    assert list(command) == ["id", "type", "command", "aggregated_output", "exit_code", "status"]
    assert command["command"] == "bash -c 'echo hi > out.txt'"
    assert (command["exit_code"], command["status"]) == (0, "completed")
    change = lines[4]["item"]
    assert change["changes"] == [
        {"path": str(workspace / "src/new.py"), "kind": "add"},
        {"path": str(workspace / "a.txt"), "kind": "update"},
    ]
    assert lines[6]["item"]["text"] == "All done: out.txt written, files patched."
    assert set(lines[-1]["usage"]) == {"input_tokens", "cached_input_tokens", "output_tokens"}


def test_exec_failure_exit_status_and_last_message_file(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "responses")
    mock_model.error(400, "model mock-model does not exist")
    out = workspace / "last.txt"

    result = run_codex("exec", "-o", str(out), "hello", cwd=workspace)

    assert result.returncode == 1
    assert "model mock-model does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert out.read_text() == ""


def test_exec_requires_git_repo_unless_skipped(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "responses")
    plain = tmp_path / "plain"
    plain.mkdir()
    refused = run_codex("exec", "hello", cwd=plain)
    assert refused.returncode == 1
    assert "not inside a git repository" in refused.stderr and "--skip-git-repo-check" in refused.stderr
    assert mock_model.requests == []

    mock_model.responses_text("hi there")
    out = plain / "answer.txt"
    ok = run_codex("exec", "--skip-git-repo-check", "-o", str(out), "hello", cwd=plain)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "hi there\n"
    assert out.read_text() == "hi there\n"


def test_stdin_is_appended_to_the_prompt(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model, "responses")
    mock_model.responses_text("reviewed")
    result = run_codex("exec", "review this", cwd=workspace, stdin="diff --git a b\n")
    assert result.returncode == 0, result.stderr
    texts = [i["content"][0]["text"] for i in mock_model.requests[0].json["input"] if i.get("role") == "user"]
    assert "review this\n\n<stdin>\ndiff --git a b\n</stdin>" in texts


def test_exec_never_asks_and_tells_the_model(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex, tmp_path: Path
) -> None:
    configure(codex_home, mock_model, "responses")
    outside = tmp_path / "outside.txt"
    patch = f"*** Begin Patch\n*** Add File: {outside}\n+x\n*** End Patch\n"
    mock_model.responses_call("apply_patch", {"input": patch}, call_id="c1")
    mock_model.responses_text("could not")
    result = run_codex(
        "exec", "-a", "untrusted", "-s", "workspace-write",
        "-c", "sandbox_workspace_write.exclude_slash_tmp=true",
        "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true",
        "write outside", cwd=workspace,
    )
    assert result.returncode == 0, result.stderr
    assert not outside.exists()
    output = tool_outputs(mock_model.requests[1].json, "responses")["c1"]
    assert "approval_policy = never" in output


def test_missing_api_key_fails_before_any_session_starts(
    mock_model: MockModelServer, codex_home: Path, workspace: Path, run_codex: RunCodex
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", env_key="CODEX_TEST_MISSING_KEY")
    )
    result = run_codex("exec", "hello", cwd=workspace)
    assert result.returncode == 1
    assert "CODEX_TEST_MISSING_KEY, which is not set" in result.stderr
    assert "session id" not in result.stderr
    assert not (codex_home / "sessions").exists()
    assert mock_model.requests == []


def test_an_empty_dot_git_above_is_no_repository(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    # What bubblewrap-based tools leave in /tmp: an empty .git, which git itself ignores.
    configure(codex_home, mock_model, "responses")
    (tmp_path / ".git").mkdir()
    plain = tmp_path / "plain"
    plain.mkdir()
    refused = run_codex("exec", "hello", cwd=plain)
    assert refused.returncode == 1 and "not inside a git repository" in refused.stderr

    worktree = tmp_path / "linked"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {tmp_path / 'elsewhere'}\n")
    mock_model.responses_text("hi there")
    linked = run_codex("exec", "hello", cwd=worktree)
    assert linked.returncode == 0, linked.stderr
