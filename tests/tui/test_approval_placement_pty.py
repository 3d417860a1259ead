"""One approval per command in the terminal UI: the question says where the command will run.

Under ``untrusted`` with a read-only sandbox, ``touch x`` is asked about once, as "outside the
sandbox", and runs there; "always this session" covers only what was shown.
"""

from __future__ import annotations

from pathlib import Path

from tests.mock_model import MockModelServer
from tests.tui.test_tui_pty import READY, StartCodex, function_outputs, shell


def test_read_only_touch_is_asked_once_as_outside_and_made(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("touch x"))
    mock_model.responses_calls(shell("touch x"))
    mock_model.responses_text("Made x twice.")
    term = start_codex("-a", "untrusted", "-s", "read-only")
    term.wait_for(READY)
    term.send("make x\r")
    screen = term.wait_for("Run this command outside the sandbox?")
    assert "runs outside the sandbox" in screen and "read-only" in screen
    term.settle()
    assert not (workspace / "x").exists()

    term.send("a")
    screen = term.wait_for("Made x twice.")
    assert "approved the command outside the sandbox, and the same again for this session" in screen
    assert screen.count("codex wants to run a command") == 1
    assert "Run this command" not in screen.split("Made x twice.")[-1]
    assert (workspace / "x").exists()
    assert function_outputs(mock_model, 1)[0].startswith("Exit code: 0")
    assert function_outputs(mock_model, 2)[-1].startswith("Exit code: 0")


def test_read_only_touch_denied_is_not_made(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("touch x"))
    mock_model.responses_text("Left it.")
    term = start_codex("-a", "untrusted", "-s", "read-only")
    term.wait_for(READY)
    term.send("make x\r")
    term.wait_for("Run this command outside the sandbox?")
    term.send("n")
    term.wait_for("Tell codex what to do instead")
    term.send("\r")
    screen = term.wait_for("Left it.")
    assert screen.count("codex wants to run a command") == 1
    assert not (workspace / "x").exists()


def test_on_failure_denial_is_one_question_to_run_outside(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("touch x"))
    mock_model.responses_text("Made it outside.")
    term = start_codex("-a", "on-failure", "-s", "read-only")
    term.wait_for(READY)
    term.send("make x\r")
    screen = term.wait_for("Run this command outside the sandbox?")
    assert "sandbox denied" in screen
    term.send("y")
    screen = term.wait_for("Made it outside.")
    assert screen.count("codex wants to run a command") == 1
    assert (workspace / "x").exists()
