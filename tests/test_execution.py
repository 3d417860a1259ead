"""The execution layer: real subprocesses, process groups, timeouts, capped output, env policy."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from codex.config.model import ShellEnvironmentPolicy
from codex.execution import TIMEOUT_EXIT_CODE, CappedBuffer, ExecResult, build_env, run_command
from tests.processes import child_pids


def run(argv: list[str], cwd: Path, **kwargs: Any) -> ExecResult:
    return asyncio.run(run_command(argv, cwd, dict(os.environ), **kwargs))


def test_exit_code_and_both_streams(tmp_path: Path) -> None:
    result = run(["bash", "-c", "echo out; echo err >&2; exit 3"], tmp_path)
    assert result.exit_code == 3
    text = result.for_model()
    assert "Exit code: 3" in text
    assert "Stdout:\nout" in text
    assert "Stderr:\nerr" in text


def test_output_is_streamed_as_it_arrives(tmp_path: Path) -> None:
    chunks: list[tuple[str, bytes]] = []
    run(["bash", "-c", "echo one; echo two >&2"], tmp_path, on_output=lambda s, c: chunks.append((s, c)))
    assert ("stdout", b"one\n") in chunks
    assert ("stderr", b"two\n") in chunks


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild-survived"
    script = f"(sleep 2; touch {marker}) & sleep 30"
    result = run(["bash", "-c", script], tmp_path, timeout_ms=300)
    assert result.exit_code == TIMEOUT_EXIT_CODE
    assert result.timed_out
    assert "timed out" in result.for_model()
    time.sleep(2.5)
    assert not marker.exists(), "the background grandchild outlived the timeout"


def test_cancelling_kills_the_command(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"

    async def scenario() -> int:
        task = asyncio.create_task(
            run_command(["bash", "-c", f"echo $$ > {pidfile}; sleep 30"], tmp_path, dict(os.environ))
        )
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return int(pidfile.read_text())

    pid = asyncio.run(scenario())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_missing_program_is_exit_127_not_a_crash(tmp_path: Path) -> None:
    result = run(["definitely-not-a-program-xyz"], tmp_path)
    assert result.exit_code == 127
    assert "could not start" in result.for_model()


def test_capped_buffer_keeps_head_and_tail_and_says_what_was_cut() -> None:
    buffer = CappedBuffer(head=10, tail=10)
    for i in range(100):
        buffer.write(f"line{i:03d}\n".encode())
    text = buffer.text()
    assert text.startswith("line000\nli")
    assert text.endswith("e099\n")
    assert f"{800 - 20} of 800 bytes" in text
    assert "lines) omitted" in text


def test_env_policy_drops_secrets_by_default() -> None:
    base = {"PATH": "/bin", "OPENAI_API_KEY": "sk", "GH_TOKEN": "t", "MY_SECRET_X": "s", "HOME": "/h"}
    env = build_env(ShellEnvironmentPolicy(), base)
    assert env == {"PATH": "/bin", "HOME": "/h"}


def test_env_patterns_ignore_case_both_ways() -> None:
    base = {"PATH": "/bin", "my_api_key": "sk", "Github_Token": "t", "keyboard": "us", "editor": "vi"}
    assert build_env(ShellEnvironmentPolicy(), base) == {"PATH": "/bin", "editor": "vi"}
    custom = build_env(ShellEnvironmentPolicy(exclude=["Edi*"], include_only=["path", "EDITOR", "e*"]), base)
    assert custom == {"PATH": "/bin"}


def test_env_policy_core_set_exclude_include_only() -> None:
    base = {"PATH": "/bin", "HOME": "/h", "EDITOR": "vi", "LC_ALL": "C", "FOO_KEY": "k"}
    core = build_env(ShellEnvironmentPolicy(inherit="core"), base)
    assert core == {"PATH": "/bin", "HOME": "/h", "LC_ALL": "C"}
    custom = build_env(
        ShellEnvironmentPolicy(ignore_default_excludes=True, exclude=["EDI*"], set={"X": "1"}), base
    )
    assert custom == {"PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "FOO_KEY": "k", "X": "1"}
    only = build_env(ShellEnvironmentPolicy(include_only=["PATH", "X"], set={"X": "1"}), base)
    assert only == {"PATH": "/bin", "X": "1"}
    assert build_env(ShellEnvironmentPolicy(inherit="none"), base) == {}


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to find the command")
def test_a_command_is_in_the_watchdogs_care_before_codex_yields_after_spawning_it(tmp_path: Path) -> None:
    """Between starting a command and registering its group, codex must not give the event loop
    away: a kill -9 landing meanwhile (a loaded machine can stall a loop for tens of
    milliseconds) would leave the command running after codex. The first time the loop gets
    control back with the command among our children, its group is already tracked."""
    from codex.execution import COMMAND_GROUPS, kill_process_group

    async def scenario() -> None:
        before = child_pids()
        start = asyncio.ensure_future(run_command(["sleep", "30"], tmp_path, dict(os.environ)))
        new: set[int] = set()
        for _ in range(50):  # each turn of the loop lets the command's task run to its next await
            await asyncio.sleep(0)
            new = child_pids() - before
            if new:
                break
        try:
            assert len(new) == 1, new
            assert all(pid in COMMAND_GROUPS for pid in new), new
        finally:
            for pid in new:
                kill_process_group(pid)
            await start

    asyncio.run(scenario())
