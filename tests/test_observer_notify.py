"""The observer hook (``codex_event``) and ``notify``, the built-in observer, through ``codex exec``.

Throwaway observer plugins (``plugin_site``) write what they see to a file; ``notify`` runs a
small script that saves the JSON it was given. The notify program is started and not waited
for, so its file is polled for, a bounded number of times.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PluginSite, RunCodex
from tests.mock_model import Call, MockModelServer, Text

RECORDER_PLUGIN = '''
import os

import pluggy

hookimpl = pluggy.HookimplMarker("codex")


@hookimpl
def codex_event(event, context):
    with open(os.environ["EVENT_LOG"], "a") as log:
        log.write(event.id + " " + event.msg.type + "\\n")
'''

RAISING_PLUGIN = '''
import pluggy

hookimpl = pluggy.HookimplMarker("codex")


@hookimpl(tryfirst=True)
def codex_event(event, context):
    raise RuntimeError("observer exploded")
'''

# An async observer that never finishes: it is given a few seconds, then dropped.
HANGING_PLUGIN = '''
import asyncio

import pluggy

hookimpl = pluggy.HookimplMarker("codex")


@hookimpl
async def codex_event(event, context):
    await asyncio.sleep(3600)
'''

NOTIFY_SCRIPT = """
import sys
from pathlib import Path

Path(sys.argv[1]).write_text(sys.argv[-1])
"""

EXEC_TIMEOUT = 60


def write_mock_config(codex_home: Path, mock: MockModelServer, extra: str = "") -> None:
    (codex_home / "config.toml").write_text(
        extra + 'model = "mock-model"\nmodel_provider = "mock"\n' + mock.provider_toml(request_max_retries=0)
    )


def script_shell_turn(mock: MockModelServer) -> None:
    mock.responses_turn(Call("shell", {"command": ["echo", "hi"]}, "call_1"))
    mock.responses_turn(Text("all done"))


def run_exec(run_codex: RunCodex, workspace: Path, env: dict[str, str]) -> Any:
    return run_codex("exec", "-s", "workspace-write", "go", cwd=workspace, env=env, timeout=EXEC_TIMEOUT)


def test_an_observer_sees_every_event_of_the_turn_in_order(
    mock_model: MockModelServer, codex_home: Path, plugin_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex, tmp_path: Path,
) -> None:
    plugin_site.add("recorder", RECORDER_PLUGIN)
    write_mock_config(codex_home, mock_model)
    script_shell_turn(mock_model)
    log = tmp_path / "events.txt"

    result = run_exec(run_codex, git_workspace, {**plugin_site.env, "EVENT_LOG": str(log)})

    assert result.returncode == 0, result.stderr
    seen = [line.split(" ", 1) for line in log.read_text().splitlines()]
    kinds = [kind for _, kind in seen]
    assert kinds[0] == "session_configured" and seen[0][0] == "0"
    assert kinds[1] == "task_started"
    assert kinds.index("exec_command_begin") < kinds.index("exec_command_end") < kinds.index("agent_message")
    assert {"agent_message_delta", "token_count"} <= set(kinds)
    assert kinds[-2:] == ["task_complete", "shutdown_complete"]
    turn = next(turn_id for turn_id, kind in seen if kind == "task_started")
    assert all(turn_id == turn for turn_id, kind in seen if kind.startswith(("exec_command", "agent_message")))


def test_a_raising_observer_is_reported_once_and_others_still_see_everything(
    mock_model: MockModelServer, codex_home: Path, plugin_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex, tmp_path: Path,
) -> None:
    plugin_site.add("recorder", RECORDER_PLUGIN)
    plugin_site.add("raising", RAISING_PLUGIN)
    write_mock_config(codex_home, mock_model)
    script_shell_turn(mock_model)
    log = tmp_path / "events.txt"

    result = run_exec(run_codex, git_workspace, {**plugin_site.env, "EVENT_LOG": str(log)})

    assert result.returncode == 0, result.stderr
    assert result.stdout == "all done\n"
    warning = "plugin 'raising' failed in codex_event: RuntimeError: observer exploded"
    assert result.stderr.count(warning) == 1, result.stderr
    kinds = [line.split(" ", 1)[1] for line in log.read_text().splitlines()]
    # The warning comes before the event the raising observer broke on (the first one), which
    # the recorder got all the same, and every event after it.
    assert kinds[:2] == ["background_event", "session_configured"]
    assert kinds[-2:] == ["task_complete", "shutdown_complete"]


def test_an_async_observer_that_never_finishes_does_not_hold_up_the_run(
    mock_model: MockModelServer, codex_home: Path, plugin_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex,
) -> None:
    plugin_site.add("hanging", HANGING_PLUGIN)
    write_mock_config(codex_home, mock_model)
    script_shell_turn(mock_model)

    result = run_exec(run_codex, git_workspace, plugin_site.env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "all done\n"


def wait_for_file(path: Path, attempts: int = 100) -> str:
    """The file's text once the detached notify program has written it (at most ~10 s)."""
    for _ in range(attempts):
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def test_notify_runs_the_program_with_the_turn_complete_json(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex, tmp_path: Path,
) -> None:
    script = tmp_path / "notify.py"
    script.write_text(NOTIFY_SCRIPT)
    received = tmp_path / "received.json"
    notify = json.dumps([sys.executable, str(script), str(received)])
    write_mock_config(codex_home, mock_model, f"notify = {notify}\n")
    script_shell_turn(mock_model)

    result = run_codex("exec", "--json", "-s", "workspace-write", "go", cwd=git_workspace, timeout=EXEC_TIMEOUT)

    assert result.returncode == 0, result.stderr
    payload = json.loads(wait_for_file(received))
    thread = next(json.loads(line) for line in result.stdout.splitlines() if '"thread.started"' in line)
    assert payload == {
        "type": "agent-turn-complete",
        "thread-id": thread["thread_id"],
        "turn-id": "1",
        "cwd": str(git_workspace),
        "client": "codex_py",
        "input-messages": ["go"],
        "last-assistant-message": "all done",
    }


@pytest.mark.parametrize("program", ["/nonexistent/notifier"])
def test_a_notify_program_that_cannot_start_is_one_warning(
    program: str, mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
) -> None:
    write_mock_config(codex_home, mock_model, f"notify = {json.dumps([program])}\n")
    mock_model.responses_turn(Text("all done"))

    result = run_exec(run_codex, git_workspace, {})

    assert result.returncode == 0, result.stderr
    assert result.stdout == "all done\n"
    lines = [line for line in result.stderr.splitlines() if "notify program" in line]
    assert len(lines) == 1 and f"the notify program {program!r} could not be started" in lines[0], result.stderr
    assert "plugin 'core-notify' failed in codex_event" in lines[0]
    assert "fix `notify` in config.toml" in lines[0] and "CODEX_DISABLE_PLUGINS" not in lines[0]


def test_an_async_observer_that_raises_is_reported_once_and_not_called_again() -> None:
    import asyncio

    from codex import events as ev
    from codex.hook_calls import EventObservers
    from codex.hookspecs import hookimpl
    from codex.plugins import make_plugin_manager

    calls: list[str] = []

    class Failing:
        @hookimpl
        async def codex_event(self, event: Any, context: Any) -> None:
            calls.append(event.msg.type)
            raise ValueError("async observer exploded")

    warnings: list[str] = []

    async def run() -> None:
        pm = make_plugin_manager(autoload=False, builtins=False, extra=[("failing", Failing())])
        observers = EventObservers(pm, None, warnings.append)
        observers.deliver(ev.Event("1", ev.TaskStarted()))
        await observers.drain()
        observers.deliver(ev.Event("1", ev.AgentMessage("hi")))
        await observers.drain()

    asyncio.run(run())

    assert calls == ["task_started"]
    assert len(warnings) == 1
    assert warnings[0].startswith("plugin 'failing' failed in codex_event: ValueError: async observer exploded")
