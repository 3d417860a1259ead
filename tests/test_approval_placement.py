"""Where an approved command runs: the prediction from its words (codex.approval.placement)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex.approval.placement import predict_placement, write_targets
from codex.sandbox import SandboxMode, SandboxPolicy


@pytest.mark.parametrize(
    ("argv", "targets"),
    [
        (["touch", "a", "b"], ["a", "b"]),
        (["bash", "-lc", "echo hi > /etc/motd && mkdir -p out"], ["/etc/motd", "out"]),
        (["cp", "-r", "src", "/opt/dest"], ["/opt/dest"]),
        (["bash", "-c", "CC=gcc touch built; ls /etc | tee list.txt"], ["built", "list.txt"]),
        (["chmod", "+x", "run.sh"], ["run.sh"]),
        (["python", "build.py", "/etc/passwd"], []),  # reads are not writes
        (["bash", "-c", "echo 'unbalanced"], []),
    ],
)
def test_write_targets(argv: list[str], targets: list[str]) -> None:
    assert write_targets(argv) == targets


def test_workspace_write_runs_inside_unless_a_target_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, ws, exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
    assert predict_placement(["touch", "x", "sub/y"], policy, ws) == (False, "")
    outside, why = predict_placement(["bash", "-c", f"echo > {tmp_path}/elsewhere"], policy, ws)
    assert outside and f"{tmp_path}/elsewhere" in why
    assert predict_placement(["bash", "-c", "echo > /dev/null"], policy, ws) == (False, "")
    assert predict_placement(["touch", "../escape"], policy, ws)[0]
    assert predict_placement(["touch", ".git/hooks/pre-commit"], policy, ws)[0]  # a protected path


def test_read_only_always_runs_outside(tmp_path: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.READ_ONLY, tmp_path)
    outside, why = predict_placement(["python", "build.py"], policy, tmp_path)
    assert outside and "read-only" in why
