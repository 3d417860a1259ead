"""The example sandbox plugin (examples/codex-sandbox-bwrap), installed as published, under the
built-in backend's own escape tests: the tests of tests/landlock/test_landlock_escape.py that
are about the policy (files outside, protected paths, the network, what must keep working) run
here a second time with this backend's command lines instead of the landlock helper's.

Left out are the tests of what only Landlock and seccomp do (Landlock alone without the mount
layer, io_uring, x32, set-id bits, exit statuses 126 and 127); the plugin's README lists these
differences. Where bwrap denies the same thing with another error (a process outside is not
there at all in a new PID namespace; an empty network namespace has no route), the test is
written again below with bwrap's error and the same checks on the host.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from codex_sandbox_bwrap import BwrapBackend

from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text

_LANDLOCK_TESTS = Path(__file__).resolve().parents[1] / "landlock"
if str(_LANDLOCK_TESTS) not in sys.path:  # the escape tests import their helpers by module name
    sys.path.insert(0, str(_LANDLOCK_TESTS))

from landlock_fixtures import Sandbox, make_outside, make_project, remove_tree  # noqa: E402
from test_landlock_escape import (  # noqa: E402, F401  (tests and fixtures, collected again here)
    nothing_arrived,
    tcp_listener,
    test_dev_null_and_reading_home_work,
    test_git_commit_fails_under_workspace_write,
    test_hard_linking_an_outside_file_into_the_workspace_is_denied,
    test_making_devices_in_the_workspace_is_denied,
    test_metadata_changes_outside_are_denied,
    test_own_children_can_be_signalled,
    test_protected_directories_stay_read_only,
    test_read_only_mode_denies_workspace_and_tmp_writes,
    test_renaming_across_the_boundary_is_denied,
    test_tcp_works_when_the_policy_allows_network,
    test_terminal_input_injection_is_denied,
    test_tmp_is_writable_under_workspace_write,
    test_unix_sockets_still_work,
    test_workspace_writes_and_moves_work,
    test_writing_outside_by_plain_path_is_denied,
    test_writing_through_a_symlink_in_the_workspace_is_denied,
    test_writing_through_proc_self_root_is_denied,
    unchanged,
    victim,
)

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (apt install bubblewrap)")


@pytest.fixture(scope="module")
def backend() -> BwrapBackend:
    backend = BwrapBackend()
    assert backend.availability().available, backend.availability().reason
    return backend


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A project directory with .git/config, .codex/config.toml and src/hello.txt."""
    root = make_project("codex-bwrap-workspace-")
    yield root
    remove_tree(root)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside every writable root, holding victim.txt ("original")."""
    root = make_outside("codex-bwrap-outside-")
    yield root
    remove_tree(root)


@pytest.fixture
def sandbox(workspace: Path, backend: BwrapBackend) -> Sandbox:
    return Sandbox(workspace, backend)  # type: ignore[arg-type]


# --- the same denials, with bwrap's errors ------------------------------------------------------


def test_the_network_is_unreachable_with_network_off(sandbox: Sandbox, tcp_listener: socket.socket) -> None:
    port = tcp_listener.getsockname()[1]
    tcp = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'x')"
    assert sandbox.attempt(tcp) in ("DENIED ENETUNREACH", "DENIED ECONNREFUSED")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.setblocking(False)
        address = receiver.getsockname()
        udp = f"import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', {address!r})"
        sandbox.attempt(udp)  # sent, to the sandbox's own loopback: nothing listens there
        assert nothing_arrived(receiver)
    assert nothing_arrived(tcp_listener)


def test_processes_outside_cannot_be_reached(sandbox: Sandbox, victim: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert sandbox.attempt(f"os.kill({sleeper.pid}, 9)") == "DENIED ESRCH"
        ptrace = (
            "import ctypes\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            f"if libc.ptrace(16, {sleeper.pid}, None, None) != 0:  # PTRACE_ATTACH\n"
            "    raise OSError(ctypes.get_errno(), 'ptrace')"
        )
        assert sandbox.attempt(ptrace) == "DENIED ESRCH"
        fd = os.open(victim, os.O_RDWR)  # held open by this process, outside the sandbox
        try:
            for target in (f"/proc/{os.getpid()}/fd/{fd}", f"/proc/{os.getpid()}/root{victim}"):
                assert sandbox.attempt(f"open({target!r}, 'a').write('pwned')") == "DENIED ENOENT"
        finally:
            os.close(fd)
        assert sleeper.poll() is None and "TracerPid:\t0" in Path(f"/proc/{sleeper.pid}/status").read_text()
        assert unchanged(victim)
    finally:
        sleeper.kill()
        sleeper.wait(timeout=10)


def test_the_command_runs_without_privileges_or_new_user_namespaces(sandbox: Sandbox) -> None:
    status = sandbox.run("cat", "/proc/self/status").stdout
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[key], 16) == 0, key
    assert fields["NoNewPrivs"].strip() == "1"
    body = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER\n"
        "    raise OSError(ctypes.get_errno(), 'unshare(CLONE_NEWUSER)')"
    )
    assert sandbox.attempt(body) == "DENIED ENOSPC"  # --disable-userns: no user namespaces left


def test_exit_status_working_directory_and_environment_pass_through(sandbox: Sandbox, workspace: Path) -> None:
    result = sandbox.run("sh", "-c", 'pwd; echo "$CODEX_SANDBOX $CODEX_SANDBOX_NETWORK_DISABLED"; exit 3')
    assert result.returncode == 3
    assert result.stdout.splitlines() == [str(workspace), "bwrap 1"]


# --- through codex ------------------------------------------------------------------------------


def test_codex_exec_runs_the_models_commands_under_bwrap(
    mock_model: MockModelServer, write_config: object, workspace: Path, outside: Path, run_codex: RunCodex
) -> None:
    write_config(  # type: ignore[operator]
        'model = "mock-model"\nmodel_provider = "mock"\nsandbox_backend = "bwrap"\n'
        + mock_model.provider_toml("mock", "responses")
    )
    victim_path = outside / "victim.txt"
    script = f"echo made > inside.txt; echo pwned > {victim_path}; echo hook > .git/hooks/pre-commit"
    mock_model.responses_turn(Call("shell", {"command": ["sh", "-c", script]}, "call_1"))
    mock_model.responses_turn(Text("done"))

    result = run_codex("exec", "-s", "workspace-write", "--skip-git-repo-check", "go", cwd=workspace, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "[bwrap]" in result.stderr
    assert (workspace / "inside.txt").read_text() == "made\n"
    assert victim_path.read_text() == "original\n"
    assert not (workspace / ".git" / "hooks" / "pre-commit").exists()
    told = next(i["output"] for i in mock_model.requests[1].json["input"] if i.get("type") == "function_call_output")
    assert "Read-only file system" in json.dumps(told)
