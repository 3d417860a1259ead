"""file_opener in the terminal UI: file citations in the answer become OSC 8 links to the editor."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mock_model import MockModelServer
from tests.tui.test_tui_pty import READY, StartCodex

ANSWER = "The bug is in src/app.py:2, see also `src/app.py` and notes.txt."


def ask(start_codex: StartCodex, mock_model: MockModelServer, workspace: Path, *args: str) -> bytes:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("x = 1\ny = 2\n")
    mock_model.responses_text(ANSWER)
    term = start_codex(*args)
    term.wait_for(READY)
    term.send("where is the bug?\r")
    screen = term.wait_for("notes.txt.")
    assert "The bug is in src/app.py:2, see also src/app.py and notes.txt." in screen  # the text is unchanged
    return bytes(term.raw)


@pytest.mark.parametrize("editor", ["vscode", "cursor"])
def test_file_citations_link_to_the_editor(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path, editor: str
) -> None:
    raw = ask(start_codex, mock_model, workspace, "-c", f"file_opener={editor}")
    target = f"{editor}://file{workspace.resolve()}/src/app.py"
    assert f"\x1b]8;;{target}:2\x1b\\src/app.py:2\x1b]8;;\x1b\\".encode() in raw
    assert f"\x1b]8;;{target}\x1b\\src/app.py\x1b]8;;\x1b\\".encode() in raw
    assert b"notes.txt\x1b]8;;" not in raw  # no such file: no link


def test_no_links_without_file_opener(start_codex: StartCodex, mock_model: MockModelServer, workspace: Path) -> None:
    raw = ask(start_codex, mock_model, workspace)
    assert b"\x1b]8;" not in raw
