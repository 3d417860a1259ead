"""Real commands under the helper, trying to get out; the host is checked afterwards.

Victims live in directories the fixtures make under /var/tmp, outside every writable root.
Listeners bind 127.0.0.1 / ::1 only and are read without blocking once the command has exited
(loopback delivery is synchronous, so anything sent has arrived by then).
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from codex_landlock.backend import LandlockBackend
from landlock_fixtures import LANDLOCK_ABI, LINUX, Sandbox, make_scratch_dir, remove_tree

from codex.sandbox import SANDBOX_SETUP_FAILED

pytestmark = pytest.mark.skipif(not LINUX or LANDLOCK_ABI < 1, reason="needs Linux 5.13+ with Landlock enabled")
needs_scoping = pytest.mark.skipif(
    LANDLOCK_ABI < 6, reason="signal and abstract-socket scoping need Landlock ABI 6 (Linux 6.12)"
)

DENIED = ("DENIED EACCES", "DENIED EPERM", "DENIED EROFS", "DENIED EXDEV")


def assert_denied(outcome: str) -> None:
    assert outcome in DENIED, f"expected a denial, the sandboxed command reported {outcome!r}"


@pytest.fixture
def victim(outside: Path) -> Path:
    """outside/victim.txt with a known, old modification time."""
    path = outside / "victim.txt"
    os.utime(path, (1_000_000_000, 1_000_000_000))
    return path


def unchanged(path: Path) -> bool:
    """victim.txt still holds what the fixture wrote, with its mode, owner, time and links."""
    info = path.stat()
    return (
        path.read_text() == "original\n"
        and info.st_mode & 0o7777 == 0o644
        and (info.st_uid, info.st_gid) == (os.getuid(), os.getgid())
        and info.st_mtime == 1_000_000_000
        and info.st_nlink == 1
    )


# --- files outside the writable roots -----------------------------------------------------------

# Content writes must hold with Landlock alone (no mount namespace), so those tests run twice.
both_layers = pytest.mark.parametrize("layers", ["all", "landlock-only"])


@both_layers
@pytest.mark.parametrize("mode", ["workspace-write", "read-only"])
def test_writing_outside_by_plain_path_is_denied(sandbox: Sandbox, victim: Path, mode: str, layers: str) -> None:
    write = f"open({str(victim)!r}, 'a').write('pwned')"
    assert_denied(sandbox.attempt(write, mode=mode, layers=layers))
    create = f"open({str(victim.parent / 'new.txt')!r}, 'x')"
    assert_denied(sandbox.attempt(create, mode=mode, layers=layers))
    assert unchanged(victim)
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.txt"]


@both_layers
def test_writing_through_a_symlink_in_the_workspace_is_denied(
    sandbox: Sandbox, workspace: Path, victim: Path, layers: str
) -> None:
    body = f"os.symlink({str(victim)!r}, 'link')\nopen('link', 'w').write('pwned')"
    assert_denied(sandbox.attempt(body, layers=layers))
    assert (workspace / "link").is_symlink()  # making the link itself is allowed
    assert unchanged(victim)


@both_layers
def test_hard_linking_an_outside_file_into_the_workspace_is_denied(
    sandbox: Sandbox, workspace: Path, victim: Path, layers: str
) -> None:
    assert_denied(sandbox.attempt(f"os.link({str(victim)!r}, 'hard')", layers=layers))
    assert not (workspace / "hard").exists()
    assert unchanged(victim)


@both_layers
def test_renaming_across_the_boundary_is_denied(sandbox: Sandbox, workspace: Path, victim: Path, layers: str) -> None:
    assert_denied(sandbox.attempt(f"os.rename({str(victim)!r}, 'stolen.txt')", layers=layers))
    dropped = str(victim.parent / "dropped.txt")
    assert_denied(sandbox.attempt(f"os.rename('src/hello.txt', {dropped!r})", layers=layers))
    assert unchanged(victim)
    assert (workspace / "src" / "hello.txt").read_text() == "hello\n"
    assert not (victim.parent / "dropped.txt").exists()


@both_layers
def test_writing_through_proc_self_root_is_denied(sandbox: Sandbox, victim: Path, layers: str) -> None:
    body = f"open('/proc/self/root' + {str(victim)!r}, 'a').write('pwned')"
    assert_denied(sandbox.attempt(body, layers=layers))
    assert unchanged(victim)


@both_layers
@pytest.mark.parametrize("link", ["fd", "root", "cwd"])
def test_reaching_through_another_process_in_proc_is_denied(
    sandbox: Sandbox, victim: Path, link: str, layers: str
) -> None:
    # This test process (outside the sandbox) holds the victim open and sits in its directory;
    # Landlock refuses these ptrace-class lookups into a process outside the sandbox.
    fd = os.open(victim, os.O_RDWR)
    old_cwd = os.getcwd()
    os.chdir(victim.parent)
    try:
        target = {
            "fd": f"/proc/{os.getpid()}/fd/{fd}",
            "root": f"/proc/{os.getpid()}/root{victim}",
            "cwd": f"/proc/{os.getpid()}/cwd/victim.txt",
        }[link]
        assert_denied(sandbox.attempt(f"open({target!r}, 'a').write('pwned')", layers=layers))
        assert_denied(sandbox.attempt(f"os.chmod({target!r}, 0o777)", layers=layers))
    finally:
        os.chdir(old_cwd)
        os.close(fd)
    assert unchanged(victim)


@pytest.mark.parametrize(
    "body",
    [
        "os.truncate(VICTIM, 0)",
        "os.close(os.open(VICTIM, os.O_WRONLY | os.O_TRUNC))",
        "os.chmod(VICTIM, 0o777)",
        "os.chown(VICTIM, 1, 1)",
        "os.utime(VICTIM, (0, 0))",
        "os.setxattr(VICTIM, 'user.codex', b'pwned')",
        "os.setxattr(os.path.dirname(VICTIM), 'user.codex', b'pwned')",
        "os.chmod(os.path.dirname(VICTIM), 0o777)",
    ],
    ids=["truncate", "open-trunc", "chmod", "chown", "utime", "xattr", "dir-xattr", "dir-chmod"],
)
def test_metadata_changes_outside_are_denied(sandbox: Sandbox, victim: Path, body: str) -> None:
    """The mount layer's job: Landlock has no rights for chmod, chown, utime or xattrs."""
    assert_denied(sandbox.attempt(body.replace("VICTIM", repr(str(victim)))))
    assert unchanged(victim)
    assert os.listxattr(victim) == [] and os.listxattr(victim.parent) == []
    assert victim.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(LANDLOCK_ABI < 3, reason="truncation is a Landlock right from ABI 3 (Linux 6.2)")
@pytest.mark.parametrize("how", ["os.truncate(VICTIM, 0)", "open(VICTIM, 'w')"], ids=["truncate", "open-trunc"])
def test_landlock_alone_denies_truncating_outside(sandbox: Sandbox, victim: Path, how: str) -> None:
    outcome = sandbox.attempt(how.replace("VICTIM", repr(str(victim))), layers="landlock-only")
    assert_denied(outcome)
    assert unchanged(victim)


def test_landlock_alone_still_lets_the_workspace_be_written(sandbox: Sandbox, workspace: Path) -> None:
    result = sandbox.run("sh", "-c", "echo data > made.txt && mv made.txt src/", layers="landlock-only")
    assert result.returncode == 0, result.stderr
    assert (workspace / "src" / "made.txt").read_text() == "data\n"


def test_host_filesystem_takes_user_xattrs(outside: Path) -> None:
    """Control for the xattr cases above: the host could have set them, the sandbox could not."""
    control = outside / "control.txt"
    control.write_text("")
    os.setxattr(control, "user.codex", b"ok")
    assert os.getxattr(control, "user.codex") == b"ok"


# --- inside the workspace -----------------------------------------------------------------------


def test_making_devices_in_the_workspace_is_denied(sandbox: Sandbox, workspace: Path) -> None:
    assert_denied(sandbox.attempt("os.mknod('null', 0o666 | 0o020000, os.makedev(1, 3))"))
    assert not (workspace / "null").exists()
    assert sandbox.attempt("os.mkfifo('fifo')") == "ALLOWED"
    assert (workspace / "fifo").is_fifo()


@pytest.mark.parametrize("name", [".git", ".codex"])
def test_protected_directories_stay_read_only(sandbox: Sandbox, workspace: Path, name: str) -> None:
    protected = workspace / name
    before = sorted(str(p.relative_to(workspace)) for p in protected.rglob("*"))
    inner = "config" if name == ".git" else "config.toml"
    content = (protected / inner).read_text()
    assert_denied(sandbox.attempt(f"open('{name}/{inner}', 'a').write('[alias]\\n')"))
    assert_denied(sandbox.attempt(f"open('{name}/planted', 'w').write('#!/bin/sh\\n')"))
    assert_denied(sandbox.attempt(f"os.remove('{name}/{inner}')"))
    assert_denied(sandbox.attempt(f"os.chmod('{name}/{inner}', 0o777)"))
    assert sandbox.attempt(f"os.rename('{name}', 'moved')").startswith("DENIED")  # EBUSY: a mount point
    result = sandbox.run("rm", "-rf", name)
    assert result.returncode != 0
    assert sorted(str(p.relative_to(workspace)) for p in protected.rglob("*")) == before
    assert (protected / inner).read_text() == content


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_commit_fails_under_workspace_write(sandbox: Sandbox, workspace: Path) -> None:
    shutil.rmtree(workspace / ".git")
    subprocess.run(["git", "init", "-q", str(workspace)], check=True, timeout=60)
    head_before = (workspace / ".git" / "HEAD").read_text()
    (workspace / "new.txt").write_text("x\n")
    result = sandbox.run("git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qam", "x")
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert (workspace / ".git" / "HEAD").read_text() == head_before
    assert not (workspace / ".git" / "index.lock").exists()


def test_set_id_bits_cannot_be_set_on_workspace_files(sandbox: Sandbox, workspace: Path) -> None:
    (workspace / "tool").write_text("#!/bin/sh\n")
    assert sandbox.attempt("os.chmod('tool', 0o4755)") == "DENIED EPERM"
    assert sandbox.attempt("os.chmod('tool', 0o2755)") == "DENIED EPERM"
    assert sandbox.attempt("os.close(os.open('made', os.O_CREAT | os.O_WRONLY, 0o4755))") == "DENIED EPERM"
    assert not (workspace / "made").exists()
    assert (workspace / "tool").stat().st_mode & 0o7777 == 0o644
    assert sandbox.run("chmod", "+x", "tool").returncode == 0
    assert (workspace / "tool").stat().st_mode & 0o7777 == 0o755


# --- network ------------------------------------------------------------------------------------


@pytest.fixture
def tcp_listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 that the sandbox must not reach."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        yield listener


def nothing_arrived(listener: socket.socket) -> bool:
    """No pending connection (TCP) or datagram (UDP) on a non-blocking socket."""
    try:
        if listener.type == socket.SOCK_STREAM:
            listener.accept()[0].close()
        else:
            listener.recvfrom(64)
    except BlockingIOError:
        return True
    return False


def test_tcp_to_loopback_is_denied_with_network_off(sandbox: Sandbox, tcp_listener: socket.socket) -> None:
    port = tcp_listener.getsockname()[1]
    body = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'x')"
    assert sandbox.attempt(body) == "DENIED EPERM"
    assert nothing_arrived(tcp_listener)


def test_udp_to_loopback_is_denied_with_network_off(sandbox: Sandbox) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.setblocking(False)
        port = receiver.getsockname()[1]
        body = f"import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', {port}))"
        assert sandbox.attempt(body) == "DENIED EPERM"
        assert nothing_arrived(receiver)


def test_ipv6_to_loopback_is_denied_with_network_off(sandbox: Sandbox) -> None:
    try:
        listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.bind(("::1", 0))
    except OSError as error:
        pytest.skip(f"this machine has no IPv6 loopback: {error}")
    with listener:
        listener.listen(4)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        body = f"import socket\nsocket.create_connection(('::1', {port}), timeout=5).sendall(b'x')"
        assert sandbox.attempt(body) == "DENIED EPERM"
        assert nothing_arrived(listener)


def test_tcp_works_when_the_policy_allows_network(sandbox: Sandbox, tcp_listener: socket.socket) -> None:
    port = tcp_listener.getsockname()[1]
    body = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'hello')"
    assert sandbox.attempt(body, network=True) == "ALLOWED"
    tcp_listener.setblocking(True)
    tcp_listener.settimeout(5)
    connection, _ = tcp_listener.accept()
    with connection:
        connection.settimeout(5)
        assert connection.recv(16) == b"hello"


def test_unix_sockets_still_work(sandbox: Sandbox, workspace: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(workspace / "agent.sock"))
        listener.listen(1)
        body = (
            "import socket\n"
            "a, b = socket.socketpair()\n"
            "a.sendall(b'pair')\n"
            "assert b.recv(4) == b'pair'\n"
            "c = socket.socket(socket.AF_UNIX)\n"
            "c.connect('agent.sock')\n"
            "c.sendall(b'ping')"
        )
        assert sandbox.attempt(body) == "ALLOWED"
        listener.settimeout(5)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            assert connection.recv(4) == b"ping"


def test_daemon_control_sockets_are_masked(sandbox: Sandbox, outside: Path) -> None:
    """A socket on the mask list (docker.sock, systemd, tmux...) is covered with /dev/null."""
    path = outside / "daemon.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(1)
        listener.setblocking(False)
        body = f"import socket\nc = socket.socket(socket.AF_UNIX)\nc.connect({str(path)!r})\nc.sendall(b'run')"
        outcome = sandbox.attempt(body, policy_keys={"mask_sockets": [str(path)]})
        assert outcome == "DENIED ECONNREFUSED"
        assert nothing_arrived(listener)
        # Without the mask the same connect goes through: pathname sockets are not confined.
        assert sandbox.attempt(body) == "ALLOWED"


@pytest.mark.skipif(not LINUX, reason="Linux paths")
def test_the_default_mask_list_covers_the_callers_tmux_sockets() -> None:
    from codex_landlock import helper

    tmux = Path(f"/tmp/tmux-{os.getuid()}")
    created = not tmux.exists()
    tmux.mkdir(mode=0o700, exist_ok=True)
    server = tmux / f"codex-landlock-test-{os.getpid()}"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(server))
            assert str(server) in helper.sockets_to_mask((), os.getuid())
    finally:
        server.unlink(missing_ok=True)
        if created:
            tmux.rmdir()


@needs_scoping
def test_abstract_unix_sockets_outside_the_sandbox_are_unreachable(sandbox: Sandbox) -> None:
    name = f"\0codex-landlock-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(name)
        listener.listen(1)
        listener.setblocking(False)
        body = f"import socket\nc = socket.socket(socket.AF_UNIX)\nc.connect({name!r})"
        assert sandbox.attempt(body) == "DENIED EPERM"
        assert nothing_arrived(listener)


# --- kernel interfaces --------------------------------------------------------------------------


def test_io_uring_is_denied(sandbox: Sandbox) -> None:
    body = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "params = ctypes.create_string_buffer(120)\n"
        "if libc.syscall(425, 4, params) < 0:\n"
        "    raise OSError(ctypes.get_errno(), 'io_uring_setup')"
    )
    assert sandbox.attempt(body) == "DENIED EPERM"


def test_x32_syscalls_are_denied(sandbox: Sandbox) -> None:
    if os.uname().machine != "x86_64":
        pytest.skip("x32 exists only on x86_64")
    body = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "if libc.syscall(0x40000000 | 39) < 0:\n"
        "    raise OSError(ctypes.get_errno(), 'x32 getpid')"
    )
    assert sandbox.attempt(body) == "DENIED EPERM"


def test_new_user_namespaces_are_denied(sandbox: Sandbox) -> None:
    body = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "if libc.unshare(0x10000000) != 0:\n"
        "    raise OSError(ctypes.get_errno(), 'unshare(CLONE_NEWUSER)')"
    )
    assert sandbox.attempt(body) == "DENIED EPERM"
    if shutil.which("unshare"):
        assert sandbox.run("unshare", "-U", "true").returncode != 0


def test_clone3_reports_enosys_so_libc_falls_back(sandbox: Sandbox) -> None:
    body = (
        "import ctypes, subprocess, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "assert libc.syscall(435, 0, 0) == -1 and ctypes.get_errno() == 38\n"
        "t = threading.Thread(target=print, args=('thread ran',)); t.start(); t.join()\n"
        "print(subprocess.run(['echo', 'child ran'], capture_output=True, text=True).stdout.strip())"
    )
    result = sandbox.python(body)
    assert result.stdout.splitlines() == ["thread ran", "child ran"], result.stderr


def test_terminal_input_injection_is_denied(sandbox: Sandbox) -> None:
    controller, terminal = pty.openpty()
    try:
        body = "import fcntl, termios\nfcntl.ioctl(0, termios.TIOCSTI, b'x')"
        assert sandbox.attempt(body, stdin=terminal) == "DENIED EPERM"
        os.set_blocking(terminal, False)
        with pytest.raises(BlockingIOError):
            os.read(terminal, 16)  # nothing was pushed into the terminal's input queue
    finally:
        os.close(controller)
        os.close(terminal)


@needs_scoping
def test_processes_outside_cannot_be_signalled(sandbox: Sandbox) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert sandbox.attempt(f"os.kill({sleeper.pid}, 9)") == "DENIED EPERM"
        assert sandbox.run("kill", "-TERM", str(sleeper.pid)).returncode != 0
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait(timeout=10)


def test_processes_outside_cannot_be_traced(sandbox: Sandbox) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        body = (
            "import ctypes\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            f"if libc.ptrace(16, {sleeper.pid}, None, None) != 0:  # PTRACE_ATTACH\n"
            "    raise OSError(ctypes.get_errno(), 'ptrace')"
        )
        assert sandbox.attempt(body) == "DENIED EPERM"
        status = Path(f"/proc/{sleeper.pid}/status").read_text()
        assert "TracerPid:\t0" in status
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait(timeout=10)


def test_own_children_can_be_signalled(sandbox: Sandbox) -> None:
    body = (
        "import subprocess, signal\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "child.send_signal(signal.SIGTERM)\n"
        "print(child.wait(timeout=10))"
    )
    assert sandbox.python(body).stdout.strip() == str(-signal.SIGTERM)


def test_the_command_runs_without_privileges(sandbox: Sandbox) -> None:
    status = sandbox.run("cat", "/proc/self/status").stdout
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[key], 16) == 0, key
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"
    # Python ignores SIGPIPE for itself; the helper must not pass that on to the command.
    assert int(fields["SigIgn"], 16) & (1 << (signal.SIGPIPE - 1)) == 0


# --- what stays allowed -------------------------------------------------------------------------


def test_workspace_writes_and_moves_work(sandbox: Sandbox, workspace: Path) -> None:
    script = (
        "set -e; mkdir -p build/out; echo data > build/out/a.txt; mv build/out/a.txt src/a.txt; "
        "ln -s a.txt src/link; ln src/a.txt src/hard; truncate -s 2 src/hello.txt; "
        "rm -r build; echo done"
    )
    result = sandbox.run("sh", "-c", script)
    assert (result.returncode, result.stdout) == (0, "done\n"), result.stderr
    assert (workspace / "src" / "a.txt").read_text() == "data\n"
    assert os.readlink(workspace / "src" / "link") == "a.txt"
    assert (workspace / "src" / "hard").stat().st_nlink == 2
    assert (workspace / "src" / "hello.txt").read_text() == "he"
    assert not (workspace / "build").exists()


def test_tmp_is_writable_under_workspace_write(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "scratch.txt"
    assert sandbox.attempt(f"open({str(target)!r}, 'w').write('kept')") == "ALLOWED"
    assert target.read_text() == "kept"


def test_read_only_mode_denies_workspace_and_tmp_writes(sandbox: Sandbox, workspace: Path, tmp_path: Path) -> None:
    assert_denied(sandbox.attempt("open('src/hello.txt', 'a').write('x')", mode="read-only"))
    assert_denied(sandbox.attempt(f"open({str(tmp_path / 'x')!r}, 'w')", mode="read-only"))
    assert (workspace / "src" / "hello.txt").read_text() == "hello\n"
    assert not (tmp_path / "x").exists()
    assert sandbox.run("cat", "src/hello.txt", mode="read-only").stdout == "hello\n"


@pytest.mark.parametrize("mode", ["workspace-write", "read-only"])
def test_dev_null_and_reading_home_work(sandbox: Sandbox, mode: str) -> None:
    home = os.path.expanduser("~")
    result = sandbox.run("sh", "-c", f'echo discarded > /dev/null && ls -A "{home}"', mode=mode)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted(os.listdir(home))


def test_terminals_can_be_opened(sandbox: Sandbox) -> None:
    assert sandbox.attempt("import pty\nos.close(pty.openpty()[0])") == "ALLOWED"


def test_exit_status_working_directory_and_environment_pass_through(sandbox: Sandbox, workspace: Path) -> None:
    result = sandbox.run("sh", "-c", 'pwd; echo "$CODEX_SANDBOX $CODEX_SANDBOX_NETWORK_DISABLED"; exit 3')
    assert result.returncode == 3
    assert result.stdout.splitlines() == [str(workspace), "landlock 1"]


def test_a_missing_command_exits_127(sandbox: Sandbox) -> None:
    result = sandbox.run("codex-no-such-command-here")
    assert result.returncode == 127
    assert result.stderr == "codex-sandbox: command not found: codex-no-such-command-here\n"


def test_a_missing_working_directory_is_a_setup_failure(sandbox: Sandbox, workspace: Path) -> None:
    argv, env = sandbox.command(["true"])
    policy_index = argv.index("--policy") + 1
    argv[policy_index] = argv[policy_index].replace(f'"cwd":"{workspace}"', '"cwd":"/nonexistent/dir"')
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == SANDBOX_SETUP_FAILED
    assert result.stderr.startswith("codex-sandbox: cannot enter the working directory /nonexistent/dir")


# --- an unprivileged user -----------------------------------------------------------------------


def runs_as(uid: int, python: str) -> bool:
    """Whether ``uid`` can start ``python`` (a root-only pyenv under /root cannot be)."""
    try:
        subprocess.run([python, "-c", ""], user=uid, group=uid, extra_groups=[], timeout=60, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


@pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="needs root to start the helper as nobody")
def test_unprivileged_users_get_a_user_and_mount_namespace() -> None:
    nobody = 65534
    scratch = make_scratch_dir("codex-landlock-nobody-")
    try:
        (scratch / "ws").mkdir()
        (scratch / "out").mkdir()
        victim = scratch / "out" / "victim.txt"
        victim.write_text("original\n")
        os.chmod(scratch, 0o755)
        for path in (scratch / "ws", scratch / "out", victim):
            os.chown(path, nobody, nobody)
        # The helper is stdlib-only: any Python 3 that nobody may execute will do.
        python = next((p for p in (sys.executable, "/usr/bin/python3") if runs_as(nobody, p)), None)
        if python is None:
            pytest.skip("no Python interpreter here is executable by nobody")
        backend = LandlockBackend(python=python)
        probe = subprocess.run(
            [python, "-I", "-S", backend.helper_program(), "--probe"],
            user=nobody,
            group=nobody,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if '"mount_namespace": "user+mount namespace"' not in probe.stdout:
            pytest.skip(f"unprivileged user namespaces are disabled here: {probe.stdout}")
        workspace = Sandbox(scratch / "ws", backend)
        argv, env = workspace.command(
            ["sh", "-c", f"echo ok > mine.txt; chmod 777 {victim}; echo pwned > {victim}; id -u"]
        )
        result = subprocess.run(
            argv,
            env=env,
            cwd=scratch / "ws",
            user=nobody,
            group=nobody,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout == f"{nobody}\n", result.stderr
        assert "Read-only file system" in result.stderr
        assert (scratch / "ws" / "mine.txt").read_text() == "ok\n"
        assert victim.read_text() == "original\n"
        assert victim.stat().st_mode & 0o777 == 0o644
    finally:
        remove_tree(scratch)


# --- where the kernel refuses a mount namespace -------------------------------------------------


def test_without_a_mount_namespace_the_helper_warns_and_confines_with_landlock(
    sandbox: Sandbox, workspace: Path
) -> None:
    """Run the helper inside a sandbox, where unshare() is refused: the fallback path, for real."""
    from codex_landlock import helper

    inner_policy = json.dumps({"mode": "read-only", "cwd": str(workspace)})
    inner = [sys.executable, "-I", "-S", helper.__file__, "--policy", inner_policy, "--"]
    # The outer (workspace-write) sandbox lets the workspace be written; the inner read-only one,
    # reduced to Landlock, must not.
    script = "echo inner ran; echo pwned > src/hello.txt"
    result = sandbox.run("env", "CODEX_LANDLOCK_VERBOSE=1", *inner, "sh", "-c", script)
    assert result.stdout == "inner ran\n"
    assert "codex-sandbox: warning: no mount namespace (unshare(CLONE_NEWNS): Operation not permitted" in result.stderr
    assert "Permission denied" in result.stderr
    assert (workspace / "src" / "hello.txt").read_text() == "hello\n"

    strict = json.dumps({"mode": "read-only", "cwd": str(workspace), "require_mount_namespace": True})
    inner[inner.index(inner_policy)] = strict
    result = sandbox.run(*inner, "echo", "must not run")
    assert result.returncode == SANDBOX_SETUP_FAILED
    assert result.stdout == ""
    assert result.stderr.startswith("codex-sandbox: a mount namespace is required but unavailable")


@needs_scoping
def test_abstract_unix_sockets_on_the_host_are_reachable_with_network_on(sandbox: Sandbox) -> None:
    """Network on means sockets behave as on the host: an abstract name is an address like any."""
    name = f"\0codex-landlock-test-on-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(name)
        listener.listen(1)
        body = f"import socket\nc = socket.socket(socket.AF_UNIX)\nc.connect({name!r})\nc.sendall(b'hello')"
        assert sandbox.attempt(body, network=True) == "ALLOWED"
        listener.settimeout(5)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            assert connection.recv(16) == b"hello"


@needs_scoping
def test_abstract_unix_sockets_on_the_host_are_reachable_from_the_fork_server_with_network_on(
    workspace: Path,
) -> None:
    from codex_landlock.forkserver import ForkServer

    from codex.sandbox import SandboxMode, SandboxPolicy

    name = f"\0codex-landlock-test-fs-{os.getpid()}"
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=workspace, network_access=True)
    code = f"import socket\nc = socket.socket(socket.AF_UNIX)\nc.connect({name!r})\nc.sendall(b'hello')"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener, ForkServer() as server:
        listener.bind(name)
        listener.listen(1)
        read_end, write_end = os.pipe()
        try:
            argv = [sys.executable, "-c", code]
            pid = server.spawn(argv, policy, workspace, dict(os.environ), 0, write_end, write_end)
        finally:
            os.close(write_end)
        returncode = server.wait(pid, timeout=60)
        with os.fdopen(read_end, "rb") as output:
            assert returncode == 0, output.read().decode()
        listener.settimeout(5)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            assert connection.recv(16) == b"hello"
