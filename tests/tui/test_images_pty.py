"""Images in the interactive terminal: ``codex -i FILE`` and a pasted image path, in a pty.

The screen shows the attachment as ``[image: name.png]``; the request the mock model receives
carries the image as an input image right after the text.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from tests.mock_model import MockModelServer
from tests.test_exec_images_schema import png
from tests.tui.pty_harness import PtyCodex

READY = "⏎ send"
StartCodex = Callable[..., PtyCodex]
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def sent_content(mock: MockModelServer, request: int = 0) -> list[dict[str, object]]:
    user = [item for item in mock.requests[request].json["input"] if item.get("role") == "user"]
    content: list[dict[str, object]] = user[-1]["content"]
    return content


def image_part(data: bytes) -> dict[str, object]:
    return {"type": "input_image", "image_url": "data:image/png;base64," + base64.b64encode(data).decode(),
            "detail": "auto"}


def test_dash_i_attaches_the_image_to_the_prompt(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    (workspace / "shot.png").write_bytes(png())
    mock_model.responses_text("A red square.")

    term = start_codex("-i", "shot.png", "what is this?")

    screen = term.wait_for("A red square.")
    assert "› what is this?" in screen
    assert "[image: shot.png]" in screen
    assert sent_content(mock_model) == [{"type": "input_text", "text": "what is this?"}, image_part(png())]


def test_a_pasted_image_path_becomes_an_attachment(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "My Screenshots"
    folder.mkdir()
    (folder / "dialog.png").write_bytes(png(3, 3))
    mock_model.responses_text("The dialog is cut off.")
    mock_model.responses_text("It is plain text.")
    term = start_codex()
    term.wait_for(READY)

    # As a terminal pastes a dropped file: the path with its space escaped.
    term.send(PASTE_START + str(folder / "dialog.png").replace(" ", "\\ ") + PASTE_END)
    screen = term.wait_for("[image: dialog.png]")
    assert "My\\ Screenshots" not in screen
    term.send(" why is it broken?\r")

    screen = term.wait_for("The dialog is cut off.")
    assert "› [image: dialog.png] why is it broken?" in screen
    assert sent_content(mock_model) == [
        {"type": "input_text", "text": "[image: dialog.png] why is it broken?"},
        image_part(png(3, 3)),
    ]

    # A pasted path of a file that is not an image stays text, and nothing is attached.
    (workspace / "notes.png").write_text("plain\n")
    term.send(PASTE_START + "notes.png" + PASTE_END + " what is it?\r")
    term.wait_for("It is plain text.")
    assert sent_content(mock_model, 1) == [{"type": "input_text", "text": "notes.png what is it?"}]
