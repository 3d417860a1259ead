"""What lands where on the screen: order in the scrollback, /status rows, approvals at any width.

Each test reads the screen through pyte (a terminal emulator), so "above", "after" and "cut off"
mean what a person sees, scrollback included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.mock_model import Call, MockModelServer, Text, Thinking
from tests.tui.pty_harness import PtyCodex

READY = "⏎ send"
StartCodex = Callable[..., PtyCodex]


def shell(script: str) -> Call:
    return Call("shell", {"command": ["bash", "-c", script]})


def rows(text: str) -> list[str]:
    """The non-blank rows of a screen, stripped."""
    return [row.strip() for row in text.splitlines() if row.strip()]


def use_chat_wire(codex_home: Path, mock_model: MockModelServer, **provider: object) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n\n'
        + mock_model.provider_toml(wire_api="chat", request_max_retries=0, stream_max_retries=0, **provider),
        encoding="utf-8",
    )


def test_reasoning_that_streams_after_the_answer_began_is_shown_after_it_not_inside(
    start_codex: StartCodex, mock_model: MockModelServer, codex_home: Path
) -> None:
    # Chat servers may stream reasoning after the first content deltas; the finished items then
    # come reasoning first, while the answer's last paragraph is still on its way.
    use_chat_wire(codex_home, mock_model)
    mock_model.chat_turn(Text("First paragraph.\n\nSecond paragraph."), Thinking(content=["A late thought."]))
    term = start_codex()
    term.wait_for(READY)
    term.send("go\r")
    term.wait_for("tokens:")
    shown = rows(term.text())
    first, second = shown.index("First paragraph."), shown.index("Second paragraph.")
    assert second == first + 1, shown[first : second + 1]  # nothing between the answer's paragraphs
    assert shown.index("A late thought.") > second


def test_a_prompt_from_the_command_line_comes_after_the_session_header(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    mock_model.responses_text("Hello back.")
    term = start_codex("say hello")
    term.wait_for("Hello back.")
    shown = rows(term.text())
    header = next(i for i, row in enumerate(shown) if row.startswith(">_ codex"))
    session = next(i for i, row in enumerate(shown) if row.startswith("session"))
    asked = shown.index("› say hello")
    assert header < session < asked < shown.index("Hello back.")
    assert sum(row == "› say hello" for row in shown) == 1


def test_the_plan_is_shown_before_the_answer_that_follows_it(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    plan = [{"step": "Read the code", "status": "completed"}, {"step": "Write the fix", "status": "in_progress"}]
    mock_model.responses_calls(Call("update_plan", {"plan": plan}))
    mock_model.responses_text("Here is what I did.")
    term = start_codex()
    term.wait_for(READY)
    term.send("fix it\r")
    term.wait_for("tokens:")
    term.wait_for(READY)
    shown = rows(term.text())
    assert shown.index("✔ Read the code") < shown.index("▸ Write the fix") < shown.index("Here is what I did.")
    assert sum(row == "✔ Read the code" for row in shown) == 1


def test_status_separates_labels_from_values_and_shows_the_context_window(
    start_codex: StartCodex, mock_model: MockModelServer, codex_home: Path
) -> None:
    term = start_codex()
    term.wait_for(READY)
    term.send("/status\r")
    screen = term.wait_for("tokens ")
    recorded = re.search(r"recorded in\s+(\S+)", screen)
    assert recorded is not None and recorded.group(1).startswith("/"), screen
    assert re.search(r"context window\s+unknown", screen)
    term.send("\x04")
    term.wait_exit()

    with (codex_home / "config.toml").open("a", encoding="utf-8") as config:
        config.write("context_window = 128000\n")  # the [model_providers.mock] table is the last one
    term = start_codex()
    term.wait_for(READY)
    term.send("/status\r")
    screen = term.wait_for("tokens ")
    assert re.search(r"context window\s+128,000 tokens", screen), screen


def test_ctrl_c_at_an_approval_says_once_that_the_turn_was_aborted(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("touch never.txt"))
    term = start_codex("-a", "untrusted", "-s", "danger-full-access")
    term.wait_for(READY)
    term.send("touch it\r")
    term.wait_for("Run this command?")
    term.send("\x03")
    term.wait_for("aborted")
    term.wait_for(READY)
    term.settle()
    after = term.text().split("$ touch never.txt", 1)[1]
    told = [row for row in rows(after) if "abort" in row or "■" in row or "✗" in row]
    assert len(told) == 1, told
    assert not (workspace / "never.txt").exists()


def test_at_60_columns_the_approval_keys_wrap_instead_of_being_cut(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("touch ok.txt"))
    mock_model.responses_text("Made it.")
    term = start_codex("-a", "untrusted", "-s", "danger-full-access", columns=60)
    term.wait_for(READY)
    term.send("touch it\r")
    term.wait_for("Run this command?")
    term.settle()
    keys = term.visible().split("Run this command?", 1)[1]
    for choice in ("y yes", "a yes, always this session", "n no, tell codex why", "q abort"):
        assert choice in keys, keys
    assert "…" not in keys
    term.send("y")
    term.wait_for("Made it.")
    assert (workspace / "ok.txt").exists()
