"""The ``landlock`` sandbox backend: wrap a command in the stdlib-only confinement helper."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codex.plugin import (
    Availability,
    SandboxedCommand,
    SandboxPolicy,
)
from codex_landlock.payload import policy_payload

if TYPE_CHECKING:
    from codex_landlock.forkserver import ForkServer

HELPER_PATH = Path(__file__).resolve().with_name("helper.py")
PROBE_TIMEOUT_SECONDS = 10.0

# What each Landlock ABI adds (kernel version in which it appeared), for status output.
ABI_FEATURES = (
    (1, "5.13", "filesystem read/write/execute/create/remove rules"),
    (2, "5.19", "REFER: renames and links across directories"),
    (3, "6.2", "TRUNCATE: truncate(2) and O_TRUNC"),
    (4, "6.7", "TCP bind/connect"),
    (5, "6.10", "IOCTL_DEV: ioctl on device files"),
    (6, "6.12", "scoping of signals and abstract UNIX sockets"),
    (7, "6.15", "audit logging controls (not used here)"),
)

# What is left unenforced below each ABI, given the other layers (mount namespace, seccomp).
ABI_GAPS = (
    (2, "renames/links across directories always fail with EXDEV (mv falls back to copying)"),
    (3, "truncate(2) outside writable roots relies on the read-only mount layer"),
    (5, "device ioctls are not filtered (seccomp still blocks TIOCSTI and TIOCLINUX)"),
    (6, "signals to processes outside the sandbox and abstract UNIX sockets are not blocked"),
)


class LandlockBackend:
    """Confine commands with a mount namespace, dropped privileges, Landlock and seccomp.

    Example::

        backend = LandlockBackend()
        if backend.availability().available:
            command = backend.prepare(["make", "test"], policy, cwd=Path.cwd())
            subprocess.run(command.argv, env={**os.environ, **command.env}, cwd=Path.cwd())

    The helper exits 126 with a ``codex-sandbox:`` line on stderr when it could not confine the
    command (so the command never ran), and 127 when the command does not exist.
    """

    name = "landlock"
    description = "Linux: mount namespace + Landlock + seccomp, via a stdlib-only helper"
    priority = 100
    # sys.platform prefixes this backend is for; `codex doctor` leaves it out elsewhere.
    platforms = ("linux",)

    def __init__(self, platform: str | None = None, python: str | None = None) -> None:
        """``platform`` overrides ``sys.platform`` and ``python`` the interpreter (for tests)."""
        self._platform = platform or sys.platform
        self._python = python or sys.executable
        self._availability: Availability | None = None
        self._programs: dict[Path, str] = {}  # script -> what to run (see _program)

    def availability(self) -> Availability:
        """Run the helper's ``--probe`` once and describe what this machine enforces."""
        if self._availability is None:
            self._availability = self._probe()
        return self._availability

    def prepare(self, argv: Sequence[str], policy: SandboxPolicy, cwd: Path) -> SandboxedCommand:
        """Return the helper argv that confines ``argv`` by ``policy`` and then execs it in ``cwd``."""
        if not argv:
            raise ValueError("cannot sandbox an empty command")
        if not policy.is_restrictive:
            return SandboxedCommand(list(argv), {})
        policy_json = json.dumps(policy_payload(policy, cwd), separators=(",", ":"))
        argv_out = [self._python, "-I", "-S", self.helper_program(), "--policy", policy_json, "--"]
        return SandboxedCommand([*argv_out, *argv])

    def fork_server(self) -> ForkServer:
        """A per-session server that forks confined commands (~5 ms instead of ~20 ms each)."""
        from codex_landlock.forkserver import SERVER_PATH, ForkServer

        return ForkServer(self._python, self._program(Path(SERVER_PATH)))

    def helper_program(self) -> str:
        """The helper to run: its up-to-date bytecode when available, else its source."""
        return self._program(HELPER_PATH)

    def _program(self, source: Path) -> str:
        """A script to start by path: its fresh ``.pyc`` when there is one, else ``source``.

        A script given by path is compiled on every run (~15 ms for the helper, ~6 ms for the
        fork server); Python runs a ``.pyc`` directly, so a fresh one in ``__pycache__`` saves that.
        """
        program = self._programs.get(source)
        if program is None:
            # Bytecode is specific to the interpreter that wrote it, which is this one.
            same_python = os.path.realpath(self._python) == os.path.realpath(sys.executable)
            compiled = _fresh_bytecode(source) if same_python else None
            program = self._programs[source] = compiled or str(source)
        return program

    def _probe(self) -> Availability:
        if not self._platform.startswith("linux"):
            return Availability(False, f"Landlock is Linux-only; this is {self._platform}")
        cache = _probe_cache_path(self._python)
        facts = _read_probe_cache(cache)
        if facts is None:
            try:
                completed = subprocess.run(
                    [self._python, "-I", "-S", str(HELPER_PATH), "--probe"],
                    capture_output=True,
                    text=True,
                    timeout=PROBE_TIMEOUT_SECONDS,
                    check=False,
                )
                facts = json.loads(completed.stdout)
            except (OSError, subprocess.TimeoutExpired, ValueError) as error:
                return Availability(False, f"the sandbox helper probe failed: {error}")
            _write_probe_cache(cache, facts)
        return describe_probe(facts, os.uname().release)


# The probe starts an interpreter (~30 ms) on every run of codex; what it finds changes only with
# the kernel, the user or the helper, so its answer is kept for a day under those keys. A forged
# answer cannot unconfine a command: the facts only describe, and the helper checks Landlock,
# seccomp and the mount layer again in every confined process, refusing to run (exit 126) what
# it cannot confine. A forged "unavailable" leaves no backend, so commands are refused or asked
# about, never run unconfined silently. CODEX_CACHE=0 skips the cache.
PROBE_CACHE_SECONDS = 24 * 3600


def _probe_cache_path(python: str) -> Path | None:
    from codex.plugin import cache_dir, caching_enabled

    if not caching_enabled():
        return None
    key = "|".join(
        [os.uname().release, str(os.geteuid()), os.path.realpath(python), str(HELPER_PATH.stat().st_mtime_ns)]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(cache_dir()) / f"landlock-probe-{digest}.json"


def _read_probe_cache(path: Path | None) -> dict[str, object] | None:
    from codex.plugin import read_private_file

    if path is None:
        return None
    try:
        if time.time() - path.lstat().st_mtime > PROBE_CACHE_SECONDS:
            return None
    except OSError:
        return None
    raw = read_private_file(path)
    try:
        facts = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return facts if isinstance(facts, dict) else None


def _write_probe_cache(path: Path | None, facts: dict[str, object]) -> None:
    from codex.plugin import prepare_cache_dir, write_private_file

    if path is None:
        return
    try:
        prepare_cache_dir()
        write_private_file(path, json.dumps(facts).encode("utf-8"))
    except OSError:
        pass  # a cache that cannot be written only costs the next run a probe


def describe_probe(facts: dict[str, object], kernel: str) -> Availability:
    """Turn the helper's ``--probe`` JSON into an Availability with per-layer details."""
    abi = facts.get("landlock_abi")
    abi = abi if isinstance(abi, int) else 0
    arch = str(facts.get("arch", "?"))
    if abi < 1:
        return Availability(
            False,
            f"Landlock is not available on kernel {kernel} (needs 5.13+ with landlock in the lsm= list)",
            {"kernel": kernel, "landlock_abi": "0"},
        )
    if not facts.get("seccomp_arch_supported"):
        return Availability(
            False,
            f"the seccomp filter has no syscall table for {arch} (supported: x86_64, aarch64)",
            {"kernel": kernel, "landlock_abi": str(abi), "arch": arch},
        )
    mount = str(facts.get("mount_namespace") or "")
    details = {
        "kernel": kernel,
        "arch": arch,
        "landlock_abi": str(abi),
        "landlock_features": "; ".join(f"ABI {n}: {what}" for n, _, what in ABI_FEATURES if n <= abi),
        "mount_layer": (
            f"yes ({mount}): everything read-only but the writable roots; .git and .codex (around cwd, "
            "at each root's top, nested ones found at session start) and CODEX_HOME/cache read-only; "
            "daemon control sockets (docker, systemd, D-Bus, tmux) masked"
            if mount
            else "no ("
            + str(facts.get("mount_namespace_error"))
            + "): chmod/chown/utime/xattr outside writable roots and read-only .git/.codex are NOT "
            "enforced"
        ),
        "privileges": "no_new_privs; all capabilities dropped (bounding, ambient, process sets)",
        "seccomp": "network sockets other than AF_UNIX (when network is off), io_uring, TIOCSTI, "
        "TIOCLINUX, set-uid/set-gid modes, new user namespaces, x32 and foreign-arch syscalls",
    }
    gaps = [gap for below, gap in ABI_GAPS if abi < below]
    if gaps:
        details["not_enforced"] = "; ".join(gaps)
    layers = "mount namespace + " if mount else ""
    reason = f"Landlock ABI {abi} on kernel {kernel}: {layers}Landlock + seccomp"
    return Availability(True, reason, details)


def _fresh_bytecode(source: Path) -> str | None:
    """Path of a ``.pyc`` matching ``source`` (compiling it if allowed), or None."""
    import py_compile

    try:
        cached = Path(importlib.util.cache_from_source(str(source)))
        stat = source.stat()
        expected = (
            importlib.util.MAGIC_NUMBER
            + bytes(4)  # flags 0: timestamp-based invalidation
            + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
            + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
        )
        if _header(cached) != expected:
            py_compile.compile(
                str(source),
                cfile=str(cached),
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
            )
        return str(cached) if _header(cached) == expected else None
    except (OSError, py_compile.PyCompileError, NotImplementedError):
        return None


def _header(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(16)
    except OSError:
        return b""
