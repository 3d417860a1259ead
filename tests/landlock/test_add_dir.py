"""`--add-dir DIR`: one more writable root for this run, enforced by the real Landlock sandbox.

The model (the mock server) asks to write into the added directory and into one that was not
added; the first write lands, the second is refused by the kernel. Both directories lie outside
/tmp, which workspace-write grants anyway.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from landlock_fixtures import LANDLOCK_ABI, LINUX, make_scratch_dir, remove_tree

from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(not LINUX or LANDLOCK_ABI < 1, reason="needs Linux with Landlock")


@pytest.fixture
def added() -> Iterator[Path]:
    root = make_scratch_dir("codex-add-dir-")
    yield root
    remove_tree(root)


def script(mock: MockModelServer, added: Path, outside: Path) -> None:
    mock.responses_turn(Call("shell", {"command": ["bash", "-c", f"echo in > {added}/ok.txt"]}, "c1"))
    mock.responses_turn(Call("shell", {"command": ["bash", "-c", f"echo out > {outside}/no.txt"]}, "c2"))
    mock.responses_turn(Text("tried both"))


def outputs(mock: MockModelServer) -> dict[str, str]:
    body: dict[str, Any] = mock.requests[-1].json
    return {i["call_id"]: i["output"] for i in body["input"] if i.get("type") == "function_call_output"}


def configure(codex_home: Path, mock: MockModelServer) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\nsandbox_backend = "landlock"\n'
        + mock.provider_toml(request_max_retries=0, stream_max_retries=0),
        encoding="utf-8",
    )


@pytest.mark.parametrize("where", ["before", "after"], ids=["codex --add-dir exec", "codex exec --add-dir"])
def test_exec_may_write_in_an_added_dir_and_nowhere_else(
    where: str, workspace: Path, outside: Path, added: Path,
    mock_model: MockModelServer, codex_home: Path, run_codex: RunCodex,
) -> None:
    configure(codex_home, mock_model)
    script(mock_model, added, outside)
    flag = ["--add-dir", str(added)]
    args = [*flag, "exec"] if where == "before" else ["exec", *flag]
    result = run_codex(*args, "-s", "workspace-write", "--skip-git-repo-check", "write", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert (added / "ok.txt").read_text() == "in\n"
    assert not (outside / "no.txt").exists()
    assert "the sandbox denied it" in outputs(mock_model)["c2"]
    # the model was told where it may write
    assert str(added) in str(mock_model.requests[0].json["input"])


def test_the_interactive_command_takes_it_too(
    workspace: Path, outside: Path, added: Path, mock_model: MockModelServer, codex_home: Path
) -> None:
    configure(codex_home, mock_model)
    script(mock_model, added, outside)
    completed = subprocess.run(
        [sys.executable, "-m", "codex", "--add-dir", str(added), "-s", "workspace-write", "-a", "never", "write"],
        cwd=workspace, input="", capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert (added / "ok.txt").read_text() == "in\n"
    assert not (outside / "no.txt").exists()


def test_under_read_only_it_says_it_has_no_effect(
    workspace: Path, added: Path, mock_model: MockModelServer, codex_home: Path, run_codex: RunCodex
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["bash", "-c", f"echo in > {added}/ok.txt"]}, "c1"))
    mock_model.responses_turn(Text("could not"))
    result = run_codex("exec", "--add-dir", str(added), "--skip-git-repo-check", "write", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert (
        f"codex: warning: --add-dir {added} has no effect under the read-only sandbox, where commands write "
        "nowhere; add -s workspace-write to let them write there"
    ) in result.stderr
    assert not (added / "ok.txt").exists()


def test_a_missing_dir_is_a_usage_error(workspace: Path, codex_home: Path, run_codex: RunCodex) -> None:
    result = run_codex("exec", "--add-dir", str(workspace / "nope"), "--skip-git-repo-check", "hi", cwd=workspace)
    assert result.returncode == 2
    assert "Invalid value for '--add-dir'" in result.stderr and "does not exist" in result.stderr


def test_the_mcp_server_takes_it_for_every_session(
    workspace: Path, outside: Path, added: Path, mock_model: MockModelServer, tmp_path: Path
) -> None:
    from tests.mcp.harness import SdkClient, text_of

    home = tmp_path / "codex-home"
    home.mkdir()
    configure(home, mock_model)
    script(mock_model, added, outside)
    with SdkClient(home, workspace, args=("--add-dir", str(added), "-s", "workspace-write", "-a", "never")) as server:
        result = server.call("codex", {"prompt": "write"})
    assert text_of(result) == "tried both"
    assert (added / "ok.txt").read_text() == "in\n"
    assert not (outside / "no.txt").exists()
