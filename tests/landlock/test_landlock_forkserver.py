"""The per-session fork server: same confinement as the helper, streams passed as descriptors."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from codex_landlock.forkserver import ForkServer, ForkServerError
from landlock_fixtures import LANDLOCK_ABI, LINUX

from codex.sandbox import SANDBOX_SETUP_FAILED, SandboxMode, SandboxPolicy

pytestmark = pytest.mark.skipif(not LINUX or LANDLOCK_ABI < 1, reason="needs Linux 5.13+ with Landlock enabled")

WAIT_SECONDS = 30


@pytest.fixture
def server() -> Iterator[ForkServer]:
    with ForkServer() as running:
        yield running


def run(
    server: ForkServer, argv: list[str], workspace: Path, mode: str = "workspace-write", stdin: bytes = b""
) -> tuple[int, str]:
    """Spawn through the server with pipes for the streams; return (returncode, output)."""
    policy = SandboxPolicy.build(SandboxMode(mode), cwd=workspace)
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    os.write(in_write, stdin)
    os.close(in_write)
    env = {"PATH": os.environ["PATH"], "CODEX_SANDBOX": "landlock"}
    try:
        pid = server.spawn(argv, policy, workspace, env, stdin=in_read, stdout=out_write, stderr=out_write)
    finally:
        os.close(in_read)
        os.close(out_write)
    returncode = server.wait(pid, timeout=WAIT_SECONDS)
    with os.fdopen(out_read, "rb") as output:
        return returncode, output.read().decode()


def test_commands_run_confined_with_their_streams(server: ForkServer, workspace: Path, outside: Path) -> None:
    victim = outside / "victim.txt"
    script = f'read line; echo "got $line in $(pwd) as $CODEX_SANDBOX"; echo pwned > {victim}; exit 3'
    returncode, output = run(server, ["sh", "-c", script], workspace, stdin=b"hello\n")
    assert returncode == 3
    lines = output.splitlines()
    assert lines[0] == f"got hello in {workspace} as landlock"
    assert "Read-only file system" in lines[1]
    assert victim.read_text() == "original\n"


def test_workspace_writes_land_and_protected_dirs_do_not(server: ForkServer, workspace: Path) -> None:
    returncode, output = run(server, ["sh", "-c", "echo new > made.txt; echo x >> .git/config"], workspace)
    assert returncode != 0
    assert "Read-only file system" in output
    assert (workspace / "made.txt").read_text() == "new\n"
    assert (workspace / ".git" / "config").read_text() == "[core]\n"


def test_read_only_mode_and_several_commands_in_a_row(server: ForkServer, workspace: Path) -> None:
    for _ in range(3):
        returncode, _ = run(server, ["sh", "-c", "echo x > made.txt"], workspace, mode="read-only")
        assert returncode != 0
    assert not (workspace / "made.txt").exists()
    assert run(server, ["cat", "src/hello.txt"], workspace, mode="read-only") == (0, "hello\n")


def test_missing_command_and_setup_failure_statuses(server: ForkServer, workspace: Path) -> None:
    returncode, output = run(server, ["codex-no-such-command"], workspace)
    assert (returncode, output) == (127, "codex-sandbox: command not found: codex-no-such-command\n")
    missing = workspace / "gone"
    returncode, output = run(server, ["true"], missing)
    assert returncode == SANDBOX_SETUP_FAILED
    assert output.startswith(f"codex-sandbox: cannot enter the working directory {missing}")


def test_signals_report_as_negative_returncodes(server: ForkServer, workspace: Path) -> None:
    returncode, _ = run(server, ["sh", "-c", "kill -TERM $$"], workspace)
    assert returncode == -15


def test_a_bad_request_is_an_error_not_a_crash(server: ForkServer, workspace: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.READ_ONLY, cwd=workspace)
    with pytest.raises(ForkServerError, match="bad request"):
        server.spawn([], policy, workspace, {}, stdin=0, stdout=1, stderr=2)
    assert run(server, ["true"], workspace) == (0, "")


def test_the_server_exits_when_the_engine_closes_it(workspace: Path) -> None:
    server = ForkServer()
    pid = server.server_pid
    assert Path(f"/proc/{pid}").exists()
    server.close()  # waits (bounded) for the server to notice the closed socket and exit
    assert not Path(f"/proc/{pid}").exists()


def test_the_server_script_needs_its_descriptor() -> None:
    from codex_landlock import forkserver

    result = subprocess.run(
        [sys.executable, "-I", "-S", forkserver.__file__], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "usage: forkserver.py --fd FD" in result.stderr


def test_ready_children_serve_later_commands_confined_and_without_stray_descriptors(
    server: ForkServer, workspace: Path, outside: Path
) -> None:
    """From the second command of a policy on, a pre-confined child runs it: same confinement."""
    victim = outside / "victim.txt"
    results = [
        run(server, ["sh", "-c", f"echo {i} >> log.txt; echo pwned > {victim}; ls /proc/self/fd"], workspace)
        for i in range(4)
    ]
    assert (workspace / "log.txt").read_text() == "0\n1\n2\n3\n"
    assert victim.read_text() == "original\n"
    for returncode, output in results:
        assert returncode == 0 or "Read-only file system" in output
        descriptors = {line for line in output.splitlines() if line.isdigit()}
        # 0-2 plus the one `ls` opens to read the directory: nothing leaked from the server.
        assert descriptors <= {"0", "1", "2", "3"}, output
    # A different policy gets its own (here read-only) confinement, not the ready workspace child.
    returncode, output = run(server, ["sh", "-c", "echo x > ro.txt"], workspace, mode="read-only")
    assert returncode != 0 and not (workspace / "ro.txt").exists()
    assert run(server, ["sh", "-c", "echo 4 >> log.txt"], workspace)[0] == 0
    assert (workspace / "log.txt").read_text().endswith("3\n4\n")


def test_a_missing_program_from_a_ready_child_is_127(server: ForkServer, workspace: Path) -> None:
    run(server, ["true"], workspace)  # leaves a ready child for this policy
    returncode, output = run(server, ["no-such-program-xyz"], workspace)
    assert returncode == 127
    assert "command not found: no-such-program-xyz" in output


def test_a_server_that_ran_a_command_ends_on_its_own_when_closed(workspace: Path) -> None:
    server = ForkServer()
    assert run(server, ["true"], workspace)[0] == 0
    server.close()
    assert server._process.returncode == 0  # it saw the closed socket and exited, not killed


def test_the_event_loop_api_serves_several_commands_waiting_at_once(workspace: Path) -> None:
    import asyncio

    policy = SandboxPolicy.build(SandboxMode("workspace-write"), cwd=workspace)
    env = {"PATH": os.environ["PATH"]}

    async def one(server: ForkServer, index: int, delay: str) -> tuple[int, str]:
        read_end, write_end = os.pipe()
        script = f"sleep {delay}; echo done-{index} > {workspace / f'out{index}'}; exit {index}"
        try:
            pid = await server.spawn_async(["sh", "-c", script], policy, workspace, env, 0, write_end, write_end)
        finally:
            os.close(write_end)
        os.close(read_end)
        return await server.wait_async(pid), (workspace / f"out{index}").read_text().strip()

    async def scenario() -> list[tuple[int, str]]:
        with ForkServer() as server:
            async with asyncio.timeout(WAIT_SECONDS):
                # Finishing in the reverse order of starting: every waiter gets its own answer.
                return await asyncio.gather(*(one(server, i, d) for i, d in enumerate(["0.3", "0.15", "0"])))

    assert asyncio.run(scenario()) == [(0, "done-0"), (1, "done-1"), (2, "done-2")]


def test_the_event_loop_api_reports_a_server_that_died(workspace: Path) -> None:
    import asyncio

    policy = SandboxPolicy.build(SandboxMode("read-only"), cwd=workspace)

    async def scenario() -> None:
        server = ForkServer()
        try:
            read_end, write_end = os.pipe()
            pid = await server.spawn_async(["sleep", "5"], policy, workspace, {"PATH": os.environ["PATH"]}, 0,
                                           write_end, write_end)
            os.close(write_end)
            os.close(read_end)
            os.kill(server.server_pid, 9)
            async with asyncio.timeout(WAIT_SECONDS):
                with pytest.raises(ForkServerError, match="the fork server exited"):
                    await server.wait_async(pid)
            # The command had PR_SET_PDEATHSIG towards the server: it is gone or going.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, 9)
        finally:
            server.close()

    asyncio.run(scenario())


def test_the_backend_starts_its_server_from_fresh_bytecode(workspace: Path) -> None:
    from codex_landlock.backend import LandlockBackend

    with LandlockBackend().fork_server() as server:
        program = server._process.args[3]  # type: ignore[index]
        assert program.endswith(".pyc") and "__pycache__" in program  # no compile per session
        # Run from __pycache__, it still finds the helper next to its source.
        assert run(server, ["sh", "-c", "echo from-bytecode"], workspace, mode="read-only") == (0, "from-bytecode\n")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for init to reap it counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def wait_until_dead(pid: int, seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_closing_the_server_ends_what_its_commands_left_behind(workspace: Path) -> None:
    """A double-forked, setsid() escapee is re-parented to the server, which ends it on close."""
    escapee = "(setsid sh -c 'echo $$ > escapee.pid; exec sleep 60' > /dev/null 2>&1 < /dev/null &)"
    server = ForkServer()
    try:
        assert run(server, ["sh", "-c", escapee], workspace) == (0, "")
        pidfile = workspace / "escapee.pid"
        deadline = time.monotonic() + WAIT_SECONDS
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the escapee never wrote its pid"
            time.sleep(0.02)
        pid = int(pidfile.read_text())
        assert alive(pid)
        assert os.getsid(pid) == pid  # out of the command's session and process group
    finally:
        server.close()
    assert not alive(pid)


def test_a_killed_server_takes_its_commands_with_it(workspace: Path) -> None:
    """SIGKILL of the server itself (no clean-up can run): PR_SET_PDEATHSIG ends the command."""
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=workspace)
    server = ForkServer()
    try:
        pids = []
        for _ in range(2):  # the first forked afresh, the second from a ready child
            read_end, write_end = os.pipe()
            try:
                pids.append(server.spawn(["sleep", "60"], policy, workspace, {"PATH": os.environ["PATH"]},
                                         0, write_end, write_end))
            finally:
                os.close(write_end)
                os.close(read_end)
        os.kill(server.server_pid, 9)
        for pid in pids:
            assert wait_until_dead(pid), f"command {pid} outlived its killed server"
    finally:
        server.close()


def test_orphans_re_parented_to_the_server_are_reaped(workspace: Path) -> None:
    """The server inherits orphans as a subreaper; once they exit it reaps them (no zombies)."""
    with ForkServer() as server:
        script = "(sh -c 'echo $$ > orphan.pid; exec sleep 0.2' > /dev/null 2>&1 < /dev/null &)"
        assert run(server, ["sh", "-c", script], workspace) == (0, "")
        pidfile = workspace / "orphan.pid"
        deadline = time.monotonic() + WAIT_SECONDS
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the orphan never wrote its pid"
            time.sleep(0.02)
        orphan = int(pidfile.read_text())
        # Gone from the process table altogether: exited and reaped, not a zombie.
        deadline = time.monotonic() + WAIT_SECONDS
        while Path(f"/proc/{orphan}").exists():
            assert time.monotonic() < deadline, f"orphan {orphan} was never reaped"
            time.sleep(0.05)


def test_a_terminated_server_ends_its_commands_first(workspace: Path) -> None:
    """SIGTERM (a polite stop, as at shutdown) runs the same clean-up as a closed socket."""
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=workspace)
    server = ForkServer()
    try:
        read_end, write_end = os.pipe()
        script = "(setsid sh -c 'echo $$ > escapee.pid; exec sleep 60' > /dev/null 2>&1 < /dev/null &); sleep 60"
        try:
            pid = server.spawn(["sh", "-c", script], policy, workspace, {"PATH": os.environ["PATH"]},
                               0, write_end, write_end)
        finally:
            os.close(write_end)
            os.close(read_end)
        pidfile = workspace / "escapee.pid"
        deadline = time.monotonic() + WAIT_SECONDS
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the escapee never wrote its pid"
            time.sleep(0.02)
        escapee = int(pidfile.read_text())
        os.kill(server.server_pid, 15)
        assert server._process.wait(timeout=WAIT_SECONDS) == 0  # it ran its clean-up and exited
        assert not alive(pid) and not alive(escapee)
    finally:
        server.close()
