"""Commands never outlive codex: ``kill -9`` of ``codex exec`` ends the command it was running.

Each test scripts the mock model to run a shell command that first writes ``started``, then
sleeps and writes ``marker``. Once ``started`` exists, codex is killed with SIGKILL (no clean-up
of its own can run). The command must then be gone: no process carrying this test's token in
its environment remains, and ``marker`` never appears, even after the sleep would have ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)

LINUX = sys.platform.startswith("linux")
START_SECONDS = 60  # codex start-up plus the first model turn, on a loaded machine
GONE_SECONDS = 6  # how long the processes may take to disappear after codex is killed (loaded CI)
# The command sleeps this long before writing its marker; the test waits past it.
SLEEP_SECONDS = 3
PROBE_VARIABLE = "CODEX_LIFETIME_PROBE"


@pytest.fixture
def workspace(git_workspace: Path) -> Path:
    return git_workspace


def processes_with(token: str) -> list[int]:
    """Pids whose environment carries ``PROBE_VARIABLE=token`` (codex, its helpers, commands)."""
    needle = f"{PROBE_VARIABLE}={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                variables = handle.read().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or a kernel thread
        if needle in variables:
            found.append(int(entry))
    return found


def wait_for(predicate: object, seconds: float) -> bool:
    """Poll ``predicate`` (a callable) until it is true or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        if predicate():  # type: ignore[operator]
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class KilledCodex:
    """A ``codex exec`` run in a subprocess, killed with SIGKILL once its command has started."""

    def __init__(self, codex_home: Path, workspace: Path, token: str) -> None:
        self.codex_home, self.workspace, self.token = codex_home, workspace, token
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, script: str, *options: str) -> None:
        env = {**os.environ, PROBE_VARIABLE: self.token}
        log = (self.workspace.parent / "codex-stderr.txt").open("wb")
        with log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "codex", "exec", "-a", "never", *options, "run it"],
                cwd=self.workspace,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        started = self.workspace / "started"
        if not wait_for(lambda: started.exists() or self.process.poll() is not None, START_SECONDS):  # type: ignore[union-attr]
            pytest.fail("the command never started")
        assert started.exists(), (self.workspace.parent / "codex-stderr.txt").read_text()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=START_SECONDS)

    def close(self) -> None:
        """Kill whatever is left (a failing test must not leave sleepers behind)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in processes_with(self.token):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def killed_codex(codex_home: Path, workspace: Path, mock_model: MockModelServer) -> Iterator[KilledCodex]:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )
    run = KilledCodex(codex_home, workspace, uuid.uuid4().hex)
    yield run
    run.close()


def script_command(mock: MockModelServer, script: str) -> None:
    mock.responses_call("shell", {"command": ["sh", "-c", script]}, call_id="call_1")
    mock.responses_text("the command ended")  # only reached if the command was not killed


def assert_the_command_is_gone(run: KilledCodex) -> None:
    killed_at = time.monotonic()
    left = processes_with(run.token)
    assert wait_for(lambda: not processes_with(run.token), GONE_SECONDS), f"still running: {left}"
    # Past the moment the sleep would have ended and the marker would have been written.
    time.sleep(max(0.0, killed_at + SLEEP_SECONDS + 1 - time.monotonic()))
    assert not (run.workspace / "marker").exists()


SLEEPER = f"touch started; sleep {SLEEP_SECONDS}; touch marker"


@pytest.mark.skipif(not LINUX, reason="the Landlock backend is Linux-only")
def test_a_command_from_the_fork_server_dies_with_codex(
    killed_codex: KilledCodex, mock_model: MockModelServer
) -> None:
    script_command(mock_model, SLEEPER)
    killed_codex.run(SLEEPER, "-s", "workspace-write")
    assert_the_command_is_gone(killed_codex)


@pytest.mark.skipif(not LINUX, reason="the Landlock backend is Linux-only")
def test_a_command_from_the_per_command_helper_dies_with_codex(
    killed_codex: KilledCodex, mock_model: MockModelServer
) -> None:
    script_command(mock_model, SLEEPER)
    killed_codex.run(SLEEPER, "-s", "workspace-write", "-c", "sandbox_fork_server=false")
    assert_the_command_is_gone(killed_codex)


@pytest.mark.skipif(not LINUX, reason="reads /proc to find the command's processes")
def test_an_unsandboxed_command_dies_with_codex(killed_codex: KilledCodex, mock_model: MockModelServer) -> None:
    script_command(mock_model, SLEEPER)
    killed_codex.run(SLEEPER, "-s", "danger-full-access")
    assert_the_command_is_gone(killed_codex)


@pytest.mark.skipif(not LINUX, reason="the Landlock backend is Linux-only")
def test_a_double_forked_setsid_escapee_from_the_fork_server_dies_with_codex(
    killed_codex: KilledCodex, mock_model: MockModelServer
) -> None:
    # The subshell exits at once, so the escapee is an orphan in a session and group of its own;
    # the command itself stays busy, so codex is killed in the middle of the call.
    escapee = (
        f"(setsid sh -c 'sleep {SLEEP_SECONDS}; touch marker' > /dev/null 2>&1 < /dev/null &); "
        "touch started; sleep 30"
    )
    script_command(mock_model, escapee)
    killed_codex.run(escapee, "-s", "workspace-write")
    assert_the_command_is_gone(killed_codex)


@pytest.mark.skipif(not LINUX, reason="the Landlock backend is Linux-only; reads /proc")
@pytest.mark.parametrize(
    "options",
    [
        ("-s", "workspace-write"),
        ("-s", "workspace-write", "-c", "sandbox_fork_server=false"),
        ("-s", "danger-full-access"),
    ],
    ids=["fork-server", "helper", "unsandboxed"],
)
def test_a_background_job_ends_when_codex_exec_ends(
    options: tuple[str, ...], codex_home: Path, workspace: Path, mock_model: MockModelServer
) -> None:
    """A command that returns at once but leaves a job running in the background (its output
    redirected, so nothing waits for it): the job ends with codex, not 60 seconds later."""
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )
    token = uuid.uuid4().hex
    script_command(mock_model, f"(sleep {SLEEP_SECONDS}; touch marker) > /dev/null 2>&1 < /dev/null &")
    done = subprocess.run(
        [sys.executable, "-m", "codex", "exec", "-a", "never", *options, "run it"],
        cwd=workspace, env={**os.environ, PROBE_VARIABLE: token},
        capture_output=True, text=True, timeout=START_SECONDS, check=False,
    )
    try:
        assert done.returncode == 0, done.stderr
        assert done.stdout == "the command ended\n"
        assert wait_for(lambda: not processes_with(token), GONE_SECONDS), processes_with(token)
        time.sleep(SLEEP_SECONDS + 1)
        assert not (workspace / "marker").exists()
    finally:
        for pid in processes_with(token):
            os.kill(pid, signal.SIGKILL)


# A program that runs commands through the execution layer, then dies by SIGKILL. Its first
# command leaves a background job; between the two commands its watchdog is killed too.
_SPAWNER = """
import asyncio, os, sys
from pathlib import Path
from codex.execution import run_command

here = Path.cwd()
env = dict(os.environ)
asyncio.run(run_command(["sh", "-c", "sleep 60 > /dev/null 2>&1 < /dev/null & echo $! > job.pid"], here, env))
# Any thread may have started the watchdog: read the children of every task of this process.
children = []
for task in os.listdir(f"/proc/{os.getpid()}/task"):
    with open(f"/proc/{os.getpid()}/task/{task}/children") as listing:
        children += listing.read().split()
for child in children:
    with open(f"/proc/{child}/cmdline", "rb") as cmdline:
        if b"-I\\0-S\\0-c\\0" in cmdline.read():
            os.kill(int(child), 9)  # the watchdog
            os.waitpid(int(child), 0)
            print("killed the watchdog", flush=True)
asyncio.run(run_command(["sh", "-c", "echo $$ > second.pid; exec sleep 60"], here, env, timeout_ms=60_000))
"""


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_a_killed_watchdog_is_replaced_and_still_knows_earlier_commands(tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-c", _SPAWNER], cwd=tmp_path, env={**os.environ, PROBE_VARIABLE: token},
        stdout=subprocess.PIPE, text=True,
    )
    try:
        second = tmp_path / "second.pid"
        assert wait_for(lambda: second.exists() and second.read_text().strip(), START_SECONDS)
        job = int((tmp_path / "job.pid").read_text())
        os.kill(job, 0)  # the background job of the first command is still running
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=START_SECONDS)
        assert process.stdout is not None and process.stdout.read() == "killed the watchdog\n"
        assert wait_for(lambda: not processes_with(token), GONE_SECONDS), processes_with(token)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in processes_with(token):
            os.kill(pid, signal.SIGKILL)
