"""Real confinement under /usr/bin/sandbox-exec; these need a Mac and are skipped elsewhere."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from codex_seatbelt.backend import SeatbeltBackend
from seatbelt_fixtures import Workspace

from codex.sandbox import SandboxPolicy

pytestmark = pytest.mark.skipif(
    sys.platform != "darwin", reason="Seatbelt (sandbox-exec) exists only on macOS"
)


def run_confined(argv: list[str], policy: SandboxPolicy, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` under the backend exactly as the execution layer would."""
    command = SeatbeltBackend().prepare(argv, policy, cwd)
    return subprocess.run(
        command.argv,
        cwd=cwd,
        env={**os.environ, **command.env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_file(path: Path) -> list[str]:
    """A shell command that writes one line to ``path``."""
    return ["/bin/sh", "-c", 'echo written > "$1"', "sh", str(path)]


def test_write_inside_a_root_succeeds(workspace: Workspace) -> None:
    target = workspace.project / "out.txt"
    result = run_confined(write_file(target), workspace.two_roots(), workspace.project)
    assert result.returncode == 0, result.stderr
    assert target.read_text() == "written\n"


def test_write_outside_the_roots_is_denied(workspace: Workspace) -> None:
    target = workspace.base / "outside.txt"
    result = run_confined(write_file(target), workspace.two_roots(), workspace.project)
    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr
    assert not target.exists()


def test_write_into_git_is_denied(workspace: Workspace) -> None:
    hook = workspace.project / ".git" / "hooks-pre-commit"
    result = run_confined(write_file(hook), workspace.two_roots(), workspace.project)
    assert result.returncode != 0
    assert not hook.exists()
    assert (workspace.project / ".git" / "config").read_text() == "[core]\n"


def test_read_only_denies_writes_but_allows_reads(workspace: Workspace) -> None:
    result = run_confined(
        ["/bin/cat", str(workspace.project / "main.py")], workspace.read_only(), workspace.project
    )
    assert result.returncode == 0 and result.stdout == "print('hi')\n"
    target = workspace.project / "new.txt"
    assert run_confined(write_file(target), workspace.read_only(), workspace.project).returncode
    assert not target.exists()


CONNECT = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 for the connect attempts; closed after the test."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server
    server.close()


def test_network_is_blocked_unless_allowed(workspace: Workspace, listener: socket.socket) -> None:
    port = str(listener.getsockname()[1])
    argv = [sys.executable, "-c", CONNECT, port]
    blocked = run_confined(argv, workspace.two_roots(), workspace.project)
    assert blocked.returncode != 0
    assert "PermissionError" in blocked.stderr or "not permitted" in blocked.stderr
    allowed = run_confined(argv, workspace.with_network(), workspace.project)
    assert allowed.returncode == 0, allowed.stderr
