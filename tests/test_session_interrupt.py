"""Interrupting a turn: the model stream and running commands stop, the session stays usable."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from codex import events as ev
from codex.config.loader import load_config
from codex.engine import open_session
from codex.plugins import make_plugin_manager
from tests.mock_model import Call, MockModelServer, Text


@pytest.mark.parametrize(
    "sandbox",
    [
        pytest.param(
            "workspace-write",
            marks=pytest.mark.skipif(sys.platform != "linux", reason="confined commands need the Linux backend"),
        ),
        "danger-full-access",
    ],
)
@pytest.mark.parametrize("fork_server", [True, False])
def test_interrupt_kills_the_command_and_the_session_goes_on(
    mock_model: MockModelServer, tmp_path: Path, sandbox: str, fork_server: bool
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    pidfile = ws / "pid"
    script = f"echo $$ > {pidfile}; sleep 30; touch {ws / 'finished'}"
    mock_model.responses_turn(Call("shell", {"command": ["bash", "-c", script]}, "c1"))
    mock_model.responses_turn(Text("second turn works"))

    async def scenario() -> list[str]:
        loaded = load_config(
            home=tmp_path,
            cwd=ws,
            cli_overrides=[
                *mock_model.config_overrides(),
                f"sandbox_fork_server={'true' if fork_server else 'false'}",
            ],
            flags={"approval_policy": "never", "sandbox_mode": sandbox},
        )
        session = await open_session(make_plugin_manager(), loaded, record=False)
        seen: list[str] = []
        try:
            async with asyncio.timeout(30):
                session.submit(ev.UserInput("run it"))
                while True:
                    msg = (await session.next_event()).msg
                    seen.append(msg.type)
                    if isinstance(msg, ev.ExecCommandBegin):
                        for _ in range(200):
                            if pidfile.exists() and pidfile.read_text().strip():
                                break
                            await asyncio.sleep(0.02)
                        session.submit(ev.Interrupt())
                    if isinstance(msg, ev.TurnAborted):
                        break
                session.submit(ev.UserInput("again"))
                while True:
                    msg = (await session.next_event()).msg
                    seen.append(msg.type)
                    if isinstance(msg, ev.TaskComplete):
                        assert msg.last_agent_message == "second turn works"
                        break
        except TimeoutError:
            raise AssertionError(f"stuck after events {seen}") from None
        finally:
            await session.close()
        return seen

    started = time.monotonic()
    seen = asyncio.run(scenario())
    assert time.monotonic() - started < 25
    assert "turn_aborted" in seen and seen[-1] == "task_complete"
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (ws / "finished").exists()

