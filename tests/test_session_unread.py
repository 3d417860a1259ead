"""``open_session(unread=...)``: a face that shows whole items is not sent their streamed pieces.

exec's renderers never show deltas, so the session skips queueing them (a put, a get and a
wake-up per delta of a long answer); a face that reads them (the terminal UI, the MCP server)
still gets every one. Observing plugins see deltas either way: tests/test_observer_notify.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codex import events as ev
from codex.config.loader import load_config
from codex.engine import open_session
from codex.plugins import make_plugin_manager
from tests.mock_model import Call, MockModelServer, Text


async def event_types(mock_model: MockModelServer, tmp_path: Path, unread: frozenset[type]) -> list[str]:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    loaded = load_config(
        home=tmp_path,
        cwd=workspace,
        cli_overrides=mock_model.config_overrides(),
        flags={"approval_policy": "never", "sandbox_mode": "danger-full-access"},
    )
    session = await open_session(make_plugin_manager(), loaded, record=False, unread=unread)
    try:
        session.submit(ev.UserInput("go"))
        events: list[ev.EventMsg] = []
        for _ in range(200):  # a turn of one call and one answer brings a few dozen events
            events.append((await asyncio.wait_for(session.next_event(), 30)).msg)
            if isinstance(events[-1], ev.TaskComplete):
                break
    finally:
        await session.close()
    done = events[-1]
    assert isinstance(done, ev.TaskComplete) and done.last_agent_message == "one two three"
    return [msg.type for msg in events]


def script_turn(mock_model: MockModelServer) -> None:
    mock_model.responses_turn(Call("shell", {"command": ["echo", "out"]}, "call_1"))
    mock_model.responses_turn(Text("one two three", deltas=["one ", "two ", "three"]))


@pytest.mark.parametrize(
    ("unread", "pieces_expected"), [(frozenset(), True), (ev.STREAMED_PIECES, False)], ids=["ui", "exec"]
)
def test_streamed_pieces_reach_only_a_face_that_reads_them(
    mock_model: MockModelServer, tmp_path: Path, unread: frozenset[type], pieces_expected: bool
) -> None:
    script_turn(mock_model)

    seen = asyncio.run(event_types(mock_model, tmp_path, unread))

    pieces = [kind for kind in seen if kind in ("agent_message_delta", "exec_command_output_delta")]
    if pieces_expected:
        assert seen.count("agent_message_delta") == 3 and "exec_command_output_delta" in pieces
    else:
        assert pieces == []
    # The whole items are there either way.
    assert seen.index("exec_command_begin") < seen.index("exec_command_end") < seen.index("agent_message")
