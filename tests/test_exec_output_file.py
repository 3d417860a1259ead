"""`codex exec -o FILE`: checked before the task starts, written in one step.

A bad -o used to surface after the model had done the work (a traceback for a missing directory)
or silently wrote a file where a directory was meant (`-o out/`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import RunCodex
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)


@pytest.fixture
def model(mock_model_config: MockModelServer) -> MockModelServer:
    mock_model_config.responses_text("the answer")
    return mock_model_config


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/answer.txt", "the directory missing does not exist; create it first (mkdir -p missing)"),
        ("out/", "ends with '/', so it names a directory; give a file, e.g. out/answer.txt"),
        ("existing", "is a directory; give a file in it, e.g. existing/answer.txt"),
        ("", "the file name is empty"),
    ],
    ids=["missing-dir", "trailing-slash", "directory", "empty"],
)
@pytest.mark.parametrize("route", [[], ["-m", "mock-model"]], ids=["fast-path", "click"])
def test_a_bad_output_file_stops_before_the_model_is_asked(
    target: str, message: str, route: list[str], model: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    (git_workspace / "existing").mkdir()
    before = sorted(p.name for p in git_workspace.iterdir())
    result = run_codex(*route, "exec", "-o", target, "hi", cwd=git_workspace)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"codex: error: -o/--output-last-message {target}: {message}".replace(
        "--output-last-message : ", "--output-last-message: "
    )
    assert model.requests == []
    assert sorted(p.name for p in git_workspace.iterdir()) == before  # no `out` file, nothing else


def test_the_answer_replaces_the_file_in_one_step(
    model: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    answer = git_workspace / "answer.txt"
    answer.write_text("previous answer\n", encoding="utf-8")
    answer.chmod(0o600)
    with answer.open(encoding="utf-8") as reader_of_the_old_file:
        result = run_codex("exec", "-o", "answer.txt", "hi", cwd=git_workspace)
        assert result.returncode == 0, result.stderr
        # written beside and renamed over: a reader that had the old file never sees a mix
        assert reader_of_the_old_file.read() == "previous answer\n"
    assert answer.read_text(encoding="utf-8") == "the answer\n"
    assert stat.S_IMODE(answer.stat().st_mode) == 0o600  # the file's mode is kept
    assert [p.name for p in git_workspace.iterdir() if p.name.startswith(".answer")] == []


def test_a_new_file_gets_the_usual_mode_and_a_symlink_stays_a_link(
    model: MockModelServer, git_workspace: Path, run_codex: RunCodex, permissive_umask: None
) -> None:
    model.responses_text("second answer")
    (git_workspace / "logs").mkdir()
    result = run_codex("exec", "-o", "logs/new.txt", "hi", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    created = git_workspace / "logs" / "new.txt"
    assert created.read_text(encoding="utf-8") == "the answer\n"
    assert stat.S_IMODE(created.stat().st_mode) == 0o644

    link = git_workspace / "latest.txt"
    link.symlink_to(created)
    result = run_codex("exec", "-o", str(link), "again", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(created)
    assert created.read_text(encoding="utf-8") == "second answer\n"


def test_dev_stdout_is_written_in_place(model: MockModelServer, git_workspace: Path, run_codex: RunCodex) -> None:
    result = run_codex("exec", "-o", "/dev/stdout", "hi", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "the answer\nthe answer\n"  # once as exec's answer, once through -o
