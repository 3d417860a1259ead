"""A per-session fork server: confined commands in ~2 ms instead of a ~20 ms helper start.

Starting ``python helper.py`` costs an interpreter start-up and imports per command. The server
is that interpreter, started once per session: for each request it forks, the child applies the
same layers as the helper (``helper.confine``) and execs the command. Standard streams travel as
file descriptors over a ``SOCK_SEQPACKET`` socket pair (SCM_RIGHTS), so the command writes
straight into the engine's pipes.

Wire protocol, one JSON object per datagram:

- engine -> server: ``{"id": 1, "argv": [...], "env": {...}, "policy": {...}}`` with three
  descriptors (stdin, stdout, stderr) attached;
- server -> engine: ``{"id": 1, "pid": 4242}`` once forked, then ``{"id": 1, "returncode": 0}``
  when the command ends (negative: killed by that signal). A child that cannot be confined
  writes its ``codex-sandbox:`` line to the command's stderr and ends with 126, like the helper.

Lifetime: the server is a child subreaper in a session of its own, so every process a command
leaves behind (double-forked, ``setsid``, anything) is re-parented to it rather than to init.
When the engine's end closes, whether the engine closed it or died (even by SIGKILL, since the
kernel closes a dead process's descriptors), the server SIGKILLs every process below it, reaps
them, and exits. Each child also has ``PR_SET_PDEATHSIG`` = SIGKILL towards the server, so a
command's first process dies with a server that was itself killed. Example::

    with ForkServer() as server:
        pid = server.spawn(["make", "test"], policy, cwd, env, stdin=0, stdout=w, stderr=w)
        returncode = server.wait(pid, timeout=60)
"""

from __future__ import annotations

import array
import os
import select
import socket
import sys
import time

# The server half runs under -I -S, where codex is not importable, and its start-up delays the
# first command: it imports only what serving needs (no typing, json, subprocess or pathlib; the
# helper reads and writes the messages). mypy reads the block below; Python skips it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from pathlib import Path
    from types import TracebackType
    from typing import Any

    from codex.plugin import SandboxPolicy

SERVER_PATH = os.path.realpath(__file__)
MAX_MESSAGE = 1 << 20  # argv + env + policy of one command
START_TIMEOUT_SECONDS = 10.0
# prctl(2) options (linux/prctl.h) and the signal a child gets when the server dies.
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
SIGKILL = 9
# Ending every process below the server: bounded, so a process stuck in the kernel (D state)
# cannot keep the server from exiting.
END_SECONDS = 5.0
# Orphans re-parented to the server are reaped at least this often (a zombie holds a pid).
REAP_INTERVAL_MS = 2000


def _exits_within(pid: int, timeout: float) -> bool:
    """Whether ``pid`` ends within ``timeout``, woken by its exit (a pidfd) rather than by
    Popen.wait's sleep-and-poll loop, which overshoots the server's ~1 ms shutdown by a few ms."""
    try:
        descriptor = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return True  # no pidfd here: Popen.wait's own loop does the waiting
    try:
        ready, _, _ = select.select([descriptor], [], [], timeout)
    finally:
        os.close(descriptor)
    return bool(ready)


class ForkServerError(Exception):
    """The fork server is gone or answered something unexpected."""


class ForkServer:
    """Engine-side handle of one fork server process (see the module docstring)."""

    def __init__(self, python: str | None = None, program: str | None = None) -> None:
        """Start the server with ``python`` (default: this interpreter) running ``program``
        (default: this file; the backend passes its fresh bytecode, which starts faster)."""
        import subprocess

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        try:
            # A session of its own: a Ctrl-C at the terminal or a kill of the engine's process
            # group must not take the server down before it has ended the commands.
            self._process = subprocess.Popen(
                [python or sys.executable, "-I", "-S", program or SERVER_PATH, "--fd", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            theirs.close()
        self._next_id = 0
        self._pids: dict[int, int] = {}  # request id -> pid
        self._returncodes: dict[int, int] = {}  # pid -> returncode
        self._arrival: asyncio.Future[None] | None = None  # resolved when the socket is readable

    @property
    def server_pid(self) -> int:
        """The server process's pid (for diagnostics)."""
        return self._process.pid

    def spawn(
        self,
        argv: list[str],
        policy: SandboxPolicy,
        cwd: Path,
        env: dict[str, str],
        stdin: int,
        stdout: int,
        stderr: int,
    ) -> int:
        """Start ``argv`` confined by ``policy`` with the given descriptors; return its pid."""
        request_id = self._send(argv, policy, cwd, env, (stdin, stdout, stderr))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while request_id not in self._pids:
            self._receive(deadline)
        return self._pids.pop(request_id)

    async def spawn_async(
        self,
        argv: list[str],
        policy: SandboxPolicy,
        cwd: Path,
        env: dict[str, str],
        stdin: int,
        stdout: int,
        stderr: int,
    ) -> int:
        """``spawn`` for the event loop: the answer is awaited, no thread blocks on it."""
        import asyncio  # here: the server half of this file must start without it

        request_id = self._send(argv, policy, cwd, env, (stdin, stdout, stderr))
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            while request_id not in self._pids:
                await self._next_message()
        return self._pids.pop(request_id)

    async def wait_async(self, pid: int) -> int:
        """``wait`` for the event loop (several commands may wait at once)."""
        while pid not in self._returncodes:
            await self._next_message()
        return self._returncodes.pop(pid)

    def _send(
        self, argv: list[str], policy: SandboxPolicy, cwd: Path, env: dict[str, str], fds: tuple[int, ...]
    ) -> int:
        import json

        from codex_landlock.payload import policy_payload

        self._next_id += 1
        request = {"id": self._next_id, "argv": argv, "env": env, "policy": policy_payload(policy, cwd)}
        try:
            self._socket.sendmsg(
                [json.dumps(request).encode()],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())],
            )
        except OSError as error:
            raise ForkServerError(f"the fork server is gone: {error}") from None
        return self._next_id

    async def _next_message(self) -> None:
        """Wait until the socket is readable, then take in every message waiting there.

        One reader serves every waiting coroutine: each re-checks its own answer afterwards.
        """
        import asyncio

        if self._arrival is None:
            loop = asyncio.get_running_loop()
            arrival: asyncio.Future[None] = loop.create_future()
            fd = self._socket.fileno()

            def readable() -> None:
                loop.remove_reader(fd)
                self._arrival = None
                try:
                    while True:
                        self._take(self._socket.recv(MAX_MESSAGE, socket.MSG_DONTWAIT))
                except BlockingIOError:
                    arrival.set_result(None)
                except Exception as error:
                    arrival.set_exception(error)

            loop.add_reader(fd, readable)
            self._arrival = arrival
        await asyncio.shield(self._arrival)

    def wait(self, pid: int, timeout: float | None = None) -> int:
        """Block until ``pid`` (from ``spawn``) ends; return its returncode."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while pid not in self._returncodes:
            self._receive(deadline)
        return self._returncodes.pop(pid)

    def close(self) -> None:
        """Stop the server; it ends every process its commands started before it exits."""
        import subprocess

        self._socket.close()
        if not _exits_within(self._process.pid, START_TIMEOUT_SECONDS):
            self._process.kill()
        try:
            self._process.wait(timeout=START_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _receive(self, deadline: float | None) -> None:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self._socket], [], [], remaining)
        if not ready:
            raise TimeoutError("no answer from the fork server in time")
        self._take(self._socket.recv(MAX_MESSAGE))

    def _take(self, data: bytes) -> None:
        if not data:
            raise ForkServerError(f"the fork server exited (status {self._process.poll()})")
        import json

        message: dict[str, Any] = json.loads(data)
        if "error" in message:
            raise ForkServerError(str(message["error"]))
        if "returncode" in message:
            self._returncodes[int(message["pid"])] = int(message["returncode"])
        elif "pid" in message:
            self._pids[int(message["id"])] = int(message["pid"])


# --- the server process (run as a script; imports the helper from its own directory) ----------


def serve(channel: socket.socket, helper: Any) -> None:
    """Answer requests on ``channel`` until the engine closes it.

    For each policy seen, one child is kept ready: forked and confined ahead of time, waiting
    only for argv, environment and descriptors. A request for that policy then costs a message
    and an exec; the next ready child is prepared while the command runs.
    """
    poller = select.poll()
    poller.register(channel, select.POLLIN)
    children: dict[int, tuple[int, int, int]] = {}  # pidfd -> (request id, pid, pidfd)
    ready: dict[str, tuple[int, socket.socket]] = {}  # policy key -> (pid, its channel)
    try:
        while True:
            events = poller.poll(REAP_INTERVAL_MS)
            tracked = {pid for _, pid, _ in children.values()} | {pid for pid, _ in ready.values()}
            _reap_orphans(tracked)
            for fd, _events in events:
                if fd == channel.fileno():
                    try:
                        data, ancillary, _flags, _address = channel.recvmsg(
                            MAX_MESSAGE, socket.CMSG_SPACE(3 * 4)
                        )
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        return
                    fds = _received_fds(ancillary)
                    try:
                        request = helper.parse_json(data.decode())
                        key = helper.dump_json(request["policy"], sort_keys=True)
                        request_id, pid = _start_command(request, key, fds, channel, helper, ready)
                    except (ValueError, KeyError, TypeError, OSError) as error:
                        channel.send(helper.dump_json({"error": f"bad request: {error}"}).encode())
                        continue
                    finally:
                        for received in fds:
                            os.close(received)
                    pidfd = os.pidfd_open(pid)
                    children[pidfd] = (request_id, pid, pidfd)
                    poller.register(pidfd, select.POLLIN)
                    channel.send(helper.dump_json({"id": request_id, "pid": pid}).encode())
                    _prepare_ready_child(request, key, channel, helper, ready)
                else:
                    request_id, pid, pidfd = children.pop(fd)
                    poller.unregister(pidfd)
                    os.close(pidfd)
                    _, status = os.waitpid(pid, 0)
                    returncode = os.waitstatus_to_exitcode(status)
                    channel.send(
                        helper.dump_json({"id": request_id, "pid": pid, "returncode": returncode}).encode()
                    )
    finally:
        for _pid, link in ready.values():
            link.close()
        end_descendants()


def end_descendants(deadline_seconds: float = END_SECONDS) -> None:
    """SIGKILL every process below this one and reap them, until none is left (bounded).

    As a subreaper this process inherits every orphan below it, so "no child left" means no
    descendant left. A SIGKILLed process can fork no more; a child forked just before its parent
    was killed is found on the next pass, once it has been re-parented here.
    """
    deadline = time.monotonic() + deadline_seconds
    me = os.getpid()
    while True:
        for pid in _descendants(me):
            try:
                os.kill(pid, SIGKILL)
            except OSError:
                pass  # already gone
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        if time.monotonic() > deadline:
            return
        time.sleep(0.005)


def _reap_orphans(tracked: set[int]) -> None:
    """Reap the exited children that are not commands: orphans re-parented to this subreaper."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children", "rb") as listing:
            mine = [int(pid) for pid in listing.read().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN
        mine = _children_by_parent().get(me, [])
    for pid in mine:
        if pid not in tracked:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _descendants(root: int) -> list[int]:
    """Every live process below ``root``, from one pass over /proc."""
    children = _children_by_parent()
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), ()):
            found.append(child)
            pending.append(child)
    return found


def _children_by_parent() -> dict[int, list[int]]:
    """Parent pid -> its children's pids, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # After the command name: state, ppid, ... (the name itself may hold spaces and ")").
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _die_with_the_server(helper: Any, server: int) -> None:
    """In a fresh child: SIGKILL when the server dies (exit now if it already has)."""
    helper.prctl(PR_SET_PDEATHSIG, SIGKILL)
    if os.getppid() != server:
        os._exit(helper.SETUP_FAILED)


def _start_command(
    request: dict[str, Any],
    key: str,
    fds: list[int],
    channel: socket.socket,
    helper: Any,
    ready: dict[str, tuple[int, socket.socket]],
) -> tuple[int, int]:
    """Hand the command to the ready child for its policy, or fork one the slow way."""
    prepared = ready.pop(key, None)
    if prepared is not None:
        pid, link = prepared
        message = helper.dump_json({"argv": request["argv"], "env": request["env"]}).encode()
        try:
            link.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())])
            return int(request["id"]), pid
        except OSError:
            pass  # it died (a signal, a failed setup it will report to nobody): fork afresh
        finally:
            link.close()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return _fork_command(request, fds, channel, helper)


def _prepare_ready_child(
    request: dict[str, Any],
    key: str,
    channel: socket.socket,
    helper: Any,
    ready: dict[str, tuple[int, socket.socket]],
) -> None:
    """Fork and confine the next child for this policy; it waits for its command."""
    if key in ready:
        return
    policy = helper.decode_policy(helper.dump_json(request["policy"]))
    _warm_seccomp(helper, policy.network)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = os.getpid()
    pid = os.fork()
    if pid:
        theirs.close()
        ready[key] = (pid, ours)
        return
    # The ready child: never return into the server loop, whatever happens.
    try:
        _die_with_the_server(helper, server)
        channel.close()
        ours.close()
        for _pid, link in ready.values():
            link.close()
        os.setpgid(0, 0)
        setup_error: str | None = None
        try:
            helper.confine(policy)
        except helper.SetupError as error:
            setup_error = str(error)
        data, ancillary, _flags, _address = theirs.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(3 * 4))
        fds = _received_fds(ancillary)
        if not data or len(fds) != 3:
            os._exit(0)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in set(fds) - {0, 1, 2}:
            os.close(fd)  # received after confine() marked descriptors close-on-exec
        if setup_error is not None:
            os.write(2, f"codex-sandbox: {setup_error}\n".encode())
            os._exit(helper.SETUP_FAILED)
        command = helper.parse_json(data.decode())
        argv = [str(arg) for arg in command["argv"]]
        env = {str(k): str(v) for k, v in command["env"].items()}
        try:
            os.execvpe(argv[0], argv, env)
        except FileNotFoundError:
            os.write(2, f"codex-sandbox: command not found: {argv[0]}\n".encode())
            os._exit(helper.COMMAND_NOT_FOUND)
    except BaseException as error:
        try:
            os.write(2, f"codex-sandbox: cannot start the command: {error}\n".encode())
        except OSError:
            pass
    os._exit(helper.SETUP_FAILED)


def _received_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return list(fds)


def _warm_seccomp(helper: Any, network: bool) -> None:
    """Assemble the seccomp program here, once per network setting, so children inherit it.

    Built in the child, it was rebuilt for every command (~1 ms of Python struct packing).
    """
    machine = os.uname().machine
    key = (machine, network)
    if machine in helper.ARCHES and key not in helper._packed_filters:
        helper._packed_filters[key] = helper.pack_filter(helper.build_seccomp_filter(machine, network))


def _fork_command(request: dict[str, Any], fds: list[int], channel: socket.socket, helper: Any) -> tuple[int, int]:
    request_id = int(request["id"])
    argv = [str(arg) for arg in request["argv"]]
    env = {str(key): str(value) for key, value in request["env"].items()}
    if len(fds) != 3 or not argv:
        raise ValueError("a request needs argv and exactly three descriptors")
    policy = helper.decode_policy(helper.dump_json(request["policy"]))
    _warm_seccomp(helper, policy.network)
    server = os.getpid()
    pid = os.fork()
    if pid:
        return request_id, pid
    # The child: never return into the server loop, whatever happens.
    try:
        _die_with_the_server(helper, server)
        channel.close()
        os.setpgid(0, 0)  # its own process group, so the engine can signal the whole command
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        helper.confine(policy)
        try:
            os.execvpe(argv[0], argv, env)
        except FileNotFoundError:
            os.write(2, f"codex-sandbox: command not found: {argv[0]}\n".encode())
            os._exit(helper.COMMAND_NOT_FOUND)
    except helper.SetupError as error:
        os.write(2, f"codex-sandbox: {error}\n".encode())
    except BaseException as error:
        os.write(2, f"codex-sandbox: cannot start {argv[0]}: {error}\n".encode())
    os._exit(helper.SETUP_FAILED)


def main(args: list[str]) -> int:
    """``forkserver.py --fd N``: serve on the inherited socket N."""
    if len(args) != 2 or args[0] != "--fd":
        sys.stderr.write("usage: forkserver.py --fd FD\n")
        return 2
    # -I keeps this directory off sys.path; the helper next to this file is the one to use (run
    # from its bytecode, this file is in __pycache__, one level below).
    here = os.path.dirname(SERVER_PATH)
    if os.path.basename(here) == "__pycache__":
        here = os.path.dirname(here)
    sys.path.insert(0, here)
    import signal

    import helper  # type: ignore[import-not-found]

    # Children inherit ignored signals through exec; Python ignores these two for itself.
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(signum, signal.SIG_DFL)
    # Orphans below the server come back to it (not to init), so it can end them all.
    helper.prctl(PR_SET_CHILD_SUBREAPER, 1)
    # A polite stop (SIGTERM, SIGHUP) runs serve()'s clean-up instead of leaving commands behind.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    serve(socket.socket(fileno=int(args[1])), helper)
    return 0


def _stop(signum: int, frame: object) -> None:
    import signal

    # One stop is enough: a second signal must not cut the clean-up short.
    for other in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(other, signal.SIG_IGN)
    raise SystemExit(0)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    # The engine waits for this exit when its session closes; tearing down the interpreter
    # module by module would add ~20 ms to every session for nothing.
    os._exit(code)
