"""The sandbox's fork server starts when a turn begins under a confining policy, so its
interpreter boots while the model answers instead of delaying the turn's first command; under
danger-full-access no command is confined and none starts."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from codex import events as ev
from codex.config.loader import load_config
from codex.engine import open_session
from codex.plugins import make_plugin_manager
from tests.mock_model import MockModelServer, Text
from tests.processes import child_pids, command_line

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the Landlock backend's fork server; reads /proc")


def fork_servers() -> list[int]:
    """Our child processes that run the Landlock fork server."""
    return [pid for pid in child_pids() if b"forkserver" in command_line(pid)]


async def servers_after_a_text_answer(mock_model: MockModelServer, tmp_path: Path, sandbox: str) -> list[int]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    loaded = load_config(
        home=tmp_path,
        cwd=workspace,
        cli_overrides=mock_model.config_overrides(),
        flags={"approval_policy": "never", "sandbox_mode": sandbox},
    )
    session = await open_session(make_plugin_manager(), loaded, record=False)
    try:
        assert fork_servers() == []  # nothing before the first turn
        session.submit(ev.UserInput("just answer"))
        for _ in range(100):  # a text answer brings a handful of events
            msg = (await asyncio.wait_for(session.next_event(), 30)).msg
            if isinstance(msg, ev.TaskComplete):
                break
        return fork_servers()
    finally:
        await session.close()
        assert fork_servers() == []  # closing the session ends it


@pytest.mark.parametrize(("sandbox", "started"), [("read-only", True), ("danger-full-access", False)])
def test_the_fork_server_starts_with_a_confined_turn(
    mock_model: MockModelServer, tmp_path: Path, sandbox: str, started: bool
) -> None:
    mock_model.responses_turn(Text("an answer, no command"))

    servers = asyncio.run(servers_after_a_text_answer(mock_model, tmp_path, sandbox))

    assert len(servers) == (1 if started else 0), servers
