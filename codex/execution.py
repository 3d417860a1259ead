"""Spawning one command: environment, process group, timeout, streamed and capped output.

The command is already wrapped by a sandbox backend when it gets here. Output is read
asynchronously (the event loop never blocks); a timeout or a cancelled turn kills the whole
process group, so a shell's children die with it. A command spawned here is also registered
with a watchdog process (``CommandGroups``) that kills its process group once codex is gone,
however codex ended (a fork server does the same for the commands it starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import re
import signal
import subprocess  # asyncio imports it anyway
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.config.model import Config, ShellEnvironmentPolicy
    from codex.sandbox import ConfinedSpawner, SandboxBackend, SandboxedCommand, SandboxPolicy

DEFAULT_TIMEOUT_MS = 120_000
# Per stream, what the model sees: the first and last bytes, with an explicit marker between.
MODEL_HEAD_BYTES = 8 * 1024
MODEL_TAIL_BYTES = 8 * 1024
READ_CHUNK = 64 * 1024
# Exit status reported for a command killed by its timeout (as GNU timeout does).
TIMEOUT_EXIT_CODE = 124

CORE_ENV_VARS = ("HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP", "LANG")
# Names a command never sees unless ``ignore_default_excludes``: case-insensitive globs for the
# usual credential variables. ``*_PWD`` (MYSQL_PWD) spares PWD and OLDPWD; ``*AUTH*`` is left out
# because it would take GIT_AUTHOR_NAME too.
DEFAULT_EXCLUDES = (
    "*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*", "*PASSWD*", "*PASSPHRASE*", "*_PWD", "*CREDENTIAL*",
    "*COOKIE*",
)
# A config value shorter than this is no credential (DEBUG = "1"); only longer ones are hidden.
MIN_SECRET_LENGTH = 8
# A variable is also dropped when its value contains a credential at least this long (a key
# passed as "Bearer <key>" or inside a URL); shorter ones must match the whole value.
MIN_CONTAINED_SECRET_LENGTH = 16


@dataclass(frozen=True)
class CommandSecrets:
    """What no command may see, whatever ``[shell_environment_policy]`` says.

    ``names`` are variables removed by name (the provider's ``env_key``, the variables of
    ``env_http_headers`` and ``bearer_token_env_var``); ``values`` are credentials from config
    (``http_headers`` values, MCP ``env`` values, and the values of those variables): any
    variable holding one is removed too, so a copy under another name does not leak.
    """

    names: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()


def command_secrets(config: Config, base: Mapping[str, str] | None = None) -> CommandSecrets:
    """The credentials of ``config`` (every provider and MCP server) that commands must not see.

    ``base`` is the environment the key variables are read from (default: the process's).
    """
    source = os.environ if base is None else base
    names: set[str] = set()
    values: set[str] = set()
    for provider in config.model_providers.values():
        if provider.env_key:
            names.add(provider.env_key)
        names.update((provider.env_http_headers or {}).values())
        values.update(_header_credentials(provider.http_headers or {}))
    for server in config.mcp_servers.values():
        if server.bearer_token_env_var:
            names.add(server.bearer_token_env_var)
        values.update(_header_credentials(server.http_headers or {}))
        # A server's PATH or HOME is no credential; hiding the command's equal one would break it.
        values.update(value for name, value in (server.env or {}).items() if not _plain_setting(name, value))
    values.update(source[name] for name in names if name in source)
    kept = {value.strip() for value in values if len(value.strip()) >= MIN_SECRET_LENGTH}
    return CommandSecrets(frozenset(names), frozenset(kept))


def _plain_setting(name: str, value: str) -> bool:
    if name in CORE_ENV_VARS or name.startswith("LC_"):
        return True
    parts = value.split(os.pathsep)
    return all(part.startswith(("/", "~")) for part in parts if part) and any(parts)


def _header_credentials(headers: Mapping[str, str]) -> list[str]:
    # "Authorization: Bearer <key>": the key alone is what another variable would hold.
    found: list[str] = []
    for value in headers.values():
        found.append(value)
        words = value.split()
        if len(words) > 1:
            found.append(words[-1])
    return found


def build_env(
    policy: ShellEnvironmentPolicy,
    base: Mapping[str, str] | None = None,
    *,
    secrets: CommandSecrets | None = None,
) -> dict[str, str]:
    """The child's environment per ``[shell_environment_policy]``, without ``secrets``.

    By default everything is inherited except names matching ``DEFAULT_EXCLUDES`` (KEY, SECRET,
    TOKEN, PASSWORD...). ``secrets`` (see ``command_secrets``) are removed last and always,
    even from ``set`` and ``include_only``: a command the model runs must never read the
    credentials codex itself was configured with.
    """
    source = dict(os.environ if base is None else base)
    if policy.inherit == "none":
        env: dict[str, str] = {}
    elif policy.inherit == "core":
        env = {k: v for k, v in source.items() if k in CORE_ENV_VARS or k.startswith("LC_")}
    else:
        env = dict(source)

    if not policy.ignore_default_excludes:
        excluded = _name_pattern(DEFAULT_EXCLUDES)
        env = {k: v for k, v in env.items() if not excluded(k.upper())}
    if policy.exclude:
        excluded = _name_pattern(tuple(policy.exclude))
        env = {k: v for k, v in env.items() if not excluded(k.upper())}
    env.update(policy.set)
    if policy.include_only:
        included = _name_pattern(tuple(policy.include_only))
        env = {k: v for k, v in env.items() if included(k.upper())}
    if secrets is not None:
        env = {k: v for k, v in env.items() if not _holds_secret(k, v, secrets)}
    return env


def _holds_secret(name: str, value: str, secrets: CommandSecrets) -> bool:
    if name in secrets.names:
        return True
    value = value.strip()
    if value in secrets.values:
        return True
    return any(len(secret) >= MIN_CONTAINED_SECRET_LENGTH and secret in value for secret in secrets.values)


@lru_cache(maxsize=16)
def _name_pattern(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One compiled matcher for a list of case-insensitive globs (applied to upper-cased names):
    a command's environment is filtered per variable, ~150 of them, on every shell call."""
    return re.compile("|".join(fnmatch.translate(p.upper()) for p in patterns)).match


class CappedBuffer:
    """Keeps the first ``head`` and last ``tail`` bytes of a stream and counts the rest."""

    def __init__(self, head: int = MODEL_HEAD_BYTES, tail: int = MODEL_TAIL_BYTES) -> None:
        self.head_limit, self.tail_limit = head, tail
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lines = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        self.lines += data.count(b"\n")
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    @property
    def omitted(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        """Head and tail, with a marker saying how much was cut (never silently)."""
        head = self.head.decode("utf-8", "replace")
        if not self.omitted:
            return head + self.tail.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        cut_lines = self.lines - self.head.count(b"\n") - self.tail.count(b"\n")
        return (
            f"{head}\n[... output truncated: {self.omitted} of {self.total} bytes "
            f"(about {cut_lines} lines) omitted; showing the first {len(self.head)} "
            f"and last {len(self.tail)} bytes ...]\n{tail}"
        )


@dataclass
class ExecResult:
    """What happened when a command ran."""

    exit_code: int
    duration_seconds: float
    stdout: CappedBuffer
    stderr: CappedBuffer
    timed_out: bool = False
    aggregated: CappedBuffer = field(default_factory=lambda: CappedBuffer(16 * 1024, 16 * 1024))

    def for_model(self) -> str:
        """The tool output the model reads: exit code, duration, both streams, each capped."""
        parts = [f"Exit code: {self.exit_code}", f"Wall time: {self.duration_seconds:.3f} seconds"]
        if self.timed_out:
            parts.append("The command timed out and was killed (the whole process group).")
        parts.append("Stdout:\n" + (self.stdout.text() or "(empty)"))
        parts.append("Stderr:\n" + (self.stderr.text() or "(empty)"))
        return "\n".join(parts)


OutputCallback = Callable[[str, bytes], None]


def confine(backend: SandboxBackend, argv: list[str], policy: SandboxPolicy, cwd: Path) -> SandboxedCommand:
    """``argv`` wrapped by ``backend``, with the core's sandbox variables (``sandbox_env``) added.

    The variables are the core's to set, so every backend's commands see the same ones whatever
    the backend remembers; ``none`` and danger-full-access confine nothing and get none. A
    backend that cannot set up the sandbox raises ``SandboxError`` from ``prepare`` (see
    ``SandboxBackend``); that error passes through.
    """
    from codex.sandbox import SandboxedCommand, sandbox_env

    prepared = backend.prepare(argv, policy, cwd)
    env = dict(prepared.env)
    if policy.is_restrictive and backend.name != "none":
        env.update(sandbox_env(backend.name, policy))
    return SandboxedCommand(list(prepared.argv), env)


async def run_command(
    argv: list[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout_ms: int | None = None,
    on_output: OutputCallback | None = None,
    spawner: tuple[ConfinedSpawner, SandboxPolicy] | None = None,
) -> ExecResult:
    """Run ``argv`` in its own process group and wait for it, streaming output to ``on_output``.

    With ``spawner`` the command is started (and confined) by the backend's fork server instead
    of being spawned here. Cancellation (an interrupted turn) kills the process group and re-raises.
    """
    started = time.monotonic()
    starting = asyncio.ensure_future(
        _spawn_here(argv, cwd, env) if spawner is None else _spawn_by(spawner, argv, cwd, env)
    )
    try:
        # Shielded: a cancel that lands while asyncio is still wiring up the pipes would leave a
        # half-made transport that never reports the exit; let the start finish, then kill.
        pid, out, err, wait = await asyncio.shield(starting)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            pid, _, _, wait = await starting
            kill_process_group(pid)
            await wait
        raise
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        failed = CappedBuffer()
        failed.write(f"could not start {argv[0]!r}: {exc.strerror or exc}\n".encode())
        result = ExecResult(127, time.monotonic() - started, CappedBuffer(), failed)
        result.aggregated.write(bytes(failed.head))
        return result

    stdout, stderr, aggregated = CappedBuffer(), CappedBuffer(), CappedBuffer(16 * 1024, 16 * 1024)

    async def pump(stream: asyncio.StreamReader, name: str, buffer: CappedBuffer) -> None:
        while True:
            chunk = await stream.read(READ_CHUNK)
            if not chunk:
                return
            buffer.write(chunk)
            aggregated.write(chunk)
            if on_output is not None:
                on_output(name, chunk)

    timeout = (timeout_ms if timeout_ms is not None else DEFAULT_TIMEOUT_MS) / 1000
    pumps = asyncio.gather(pump(out, "stdout", stdout), pump(err, "stderr", stderr))
    timed_out = False
    try:
        try:
            await asyncio.wait_for(asyncio.shield(pumps), timeout)
        except TimeoutError:
            timed_out = True
            kill_process_group(pid)
        # Pipes can stay open after the child exits (a daemonised grandchild): bound the wait.
        try:
            await asyncio.wait_for(pumps, 5)
        except TimeoutError:
            kill_process_group(pid)
        code = await asyncio.shield(wait)
    except asyncio.CancelledError:
        kill_process_group(pid)
        pumps.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumps  # retrieve the cancellation so asyncio does not log it as lost
        await asyncio.shield(wait)
        raise
    if timed_out:
        code = TIMEOUT_EXIT_CODE
    elif code < 0:
        code = 128 - code  # died by signal N: report 128+N, as shells do
    return ExecResult(code, time.monotonic() - started, stdout, stderr, timed_out, aggregated)


Started = tuple[int, asyncio.StreamReader, asyncio.StreamReader, "asyncio.Future[int]"]


async def _spawn_here(argv: list[str], cwd: Path, env: Mapping[str, str]) -> Started:
    # Popen itself, not asyncio.create_subprocess_exec: the command's group reaches the watchdog
    # before this task yields. Awaiting asyncio's transport first left loop iterations (tens of
    # milliseconds on a loaded machine) in which a kill -9 of codex orphaned a running command.
    loop = asyncio.get_running_loop()
    proc = subprocess.Popen(
        argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
        start_new_session=True,
    )
    COMMAND_GROUPS.track(proc.pid)
    readers = []
    for pipe in (proc.stdout, proc.stderr):
        reader = asyncio.StreamReader(limit=READ_CHUNK * 4)
        await loop.connect_read_pipe(partial(asyncio.StreamReaderProtocol, reader), pipe)
        readers.append(reader)
    return proc.pid, readers[0], readers[1], _exit_status(loop, proc)


def _exit_status(loop: asyncio.AbstractEventLoop, proc: subprocess.Popen[bytes]) -> asyncio.Future[int]:
    """The exit status of ``proc``, from a thread that waits for it (as asyncio's own child
    watcher does: a blocking wait per process works on every POSIX system)."""
    status: asyncio.Future[int] = loop.create_future()

    def settle(code: int) -> None:
        if not status.done():
            status.set_result(code)

    def wait() -> None:
        code = proc.wait()
        with contextlib.suppress(RuntimeError):  # the loop closed first: nobody waits any more
            loop.call_soon_threadsafe(settle, code)

    threading.Thread(target=wait, name=f"wait-{proc.pid}", daemon=True).start()
    return status


async def _spawn_by(
    spawner: tuple[ConfinedSpawner, SandboxPolicy], argv: list[str], cwd: Path, env: Mapping[str, str]
) -> Started:
    """Hand our pipe ends to the fork server; the child writes straight into them."""
    server, policy = spawner
    loop = asyncio.get_running_loop()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        pid = await server.spawn_async(argv, policy, cwd, dict(env), devnull, out_w, err_w)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        for fd in (out_w, err_w, devnull):
            os.close(fd)
    readers = []
    for fd in (out_r, err_r):
        reader = asyncio.StreamReader(limit=READ_CHUNK * 4)
        await loop.connect_read_pipe(partial(asyncio.StreamReaderProtocol, reader), os.fdopen(fd, "rb", 0))
        readers.append(reader)
    # The server is not ours to waitpid on: its answer arrives on the socket.
    wait = asyncio.ensure_future(server.wait_async(pid))
    return pid, readers[0], readers[1], wait


def kill_process_group(pid: int) -> None:
    """SIGKILL the whole group the command leads; it may already be gone."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# The watchdog: it reads "+PGID" / "-PGID" lines and, at end of file, SIGKILLs every group still
# registered. Only codex holds the write end of its stdin, and the kernel closes it when codex
# exits, normally or by SIGKILL. Stdlib only, run with -I -S: it starts in ~10 ms and imports
# nothing a sandboxed command could have written.
_WATCHDOG = """
import os, sys
groups = set()
for line in sys.stdin.buffer:
    (groups.add if line[:1] == b"+" else groups.discard)(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, 9)
    except OSError:
        pass
"""


class CommandGroups:
    """The process groups of commands spawned by this process, killed when it ends.

    A command leads its own process group, so codex's own exit signal never reaches it; without
    this, ``kill -9`` of codex left a running command to init, to finish (and write files) later.
    The watchdog starts with the first command, in a session of its own (a Ctrl-C at the terminal
    or a kill of codex's process group does not stop it), and exits once it has killed the groups.

    Groups are forgotten once empty, so a recycled process-group id is not killed by mistake.
    Limit: a process that leaves its command's group (``setsid``) is not followed; the Landlock
    fork server, a subreaper, covers that for the commands it starts.

    One per process, not per session: it watches this process's lifetime, which every session
    (and the MCP server's several) shares. Example::

        COMMAND_GROUPS.track(pid)  # right after spawning a group leader
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: set[int] = set()
        self._watchdog: tuple[int, int] | None = None  # (pid, write end of its stdin)

    def __contains__(self, pgid: object) -> bool:
        """Whether the group ``pgid`` is registered (the watchdog would kill it)."""
        with self._lock:
            return pgid in self._groups

    def track(self, pgid: int) -> None:
        """Register the group ``pgid``; forget the groups that have emptied meanwhile."""
        with self._lock:
            lines = [b"-%d\n" % gone for gone in self._empty_groups()]
            self._groups.add(pgid)
            lines.append(b"+%d\n" % pgid)
            self._send(b"".join(lines))

    def _empty_groups(self) -> list[int]:
        empty = []
        for group in self._groups:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                empty.append(group)
            except PermissionError:
                pass  # a member changed user (a set-uid program): still there
        self._groups.difference_update(empty)
        return empty

    def _send(self, lines: bytes) -> None:
        for _attempt in range(2):
            if self._watchdog is None:
                # A new watchdog (the first, or one that was killed) needs every live group.
                lines = b"".join(b"+%d\n" % group for group in self._groups)
                self._watchdog = _start_watchdog()
                if self._watchdog is None:
                    return  # none can start here: commands then live as long as they would anyway
            pid, stdin = self._watchdog
            try:
                view = memoryview(lines)
                while view:
                    view = view[os.write(stdin, view) :]
                return
            except OSError:
                os.close(stdin)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)  # it died: reap it
                self._watchdog = None


def _start_watchdog() -> tuple[int, int] | None:
    """Spawn the watchdog on a fresh pipe; return (pid, write end), or None if it cannot start.

    posix_spawn rather than subprocess: a Popen object alive at exit is reported as a leak, and
    this process is meant to outlive codex.
    """
    read_end, write_end = os.pipe()  # both close-on-exec; dup2 onto stdin clears it there
    actions = [
        (os.POSIX_SPAWN_DUP2, read_end, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    argv = [sys.executable, "-I", "-S", "-c", _WATCHDOG]
    try:
        try:
            pid = os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions, setsid=True)
        except NotImplementedError:  # no POSIX_SPAWN_SETSID here: a group of its own will do
            pid = os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions, setpgroup=0)
    except OSError:
        os.close(write_end)
        return None
    finally:
        os.close(read_end)
    return pid, write_end


COMMAND_GROUPS = CommandGroups()
