"""What a command may do (SandboxPolicy) and the seam every sandbox backend plugs into.

The policy is data computed once per session from config; a backend (a plugin registered through
``codex_sandboxes``) turns it into an argv that enforces it. The execution layer spawns that argv.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from dataclasses import field
from enum import Enum
from pathlib import Path
from typing import Protocol, runtime_checkable

from codex.records import record


class SandboxMode(str, Enum):
    """The peer's ``sandbox_mode`` values."""

    READ_ONLY = "read-only"
    WORKSPACE_WRITE = "workspace-write"
    DANGER_FULL_ACCESS = "danger-full-access"


# Inside every writable root these stay read-only where the backend can express it, so a
# command cannot rewrite git hooks or codex's own per-project config.
PROTECTED_SUBDIRS: tuple[str, ...] = (".git", ".codex")


@record(frozen=True)
class SandboxPolicy:
    """The resolved policy for one session.

    Example::

        policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=Path.cwd())
        policy.writable_roots  # (cwd, /tmp, $TMPDIR) resolved
    """

    mode: SandboxMode
    writable_roots: tuple[Path, ...] = ()
    network_access: bool = False
    # Names kept read-only inside writable roots (``allow_git_writes`` drops ".git").
    protected_names: tuple[str, ...] = PROTECTED_SUBDIRS

    @classmethod
    def build(
        cls,
        mode: SandboxMode,
        cwd: Path,
        writable_roots: Sequence[Path | str] = (),
        network_access: bool = False,
        exclude_tmpdir_env_var: bool = False,
        exclude_slash_tmp: bool = False,
        allow_git_writes: bool = False,
    ) -> SandboxPolicy:
        """Resolve the configured roots into absolute, existing, de-duplicated paths."""
        if mode is SandboxMode.DANGER_FULL_ACCESS:
            return cls(mode, (), True)
        if mode is SandboxMode.READ_ONLY:
            return cls(mode, (), False)
        candidates: list[Path] = [cwd, *(Path(p).expanduser() for p in writable_roots)]
        if not exclude_slash_tmp:
            candidates.append(Path("/tmp"))
        tmpdir = os.environ.get("TMPDIR")
        if tmpdir and not exclude_tmpdir_env_var:
            candidates.append(Path(tmpdir))
        roots: list[Path] = []
        for candidate in candidates:
            path = (cwd / candidate).resolve() if not candidate.is_absolute() else candidate.resolve()
            if path.exists() and path not in roots:
                roots.append(path)
        protected = tuple(n for n in PROTECTED_SUBDIRS if not (allow_git_writes and n == ".git"))
        return cls(mode, tuple(roots), network_access, protected)

    @property
    def is_restrictive(self) -> bool:
        """True unless the policy is danger-full-access."""
        return self.mode is not SandboxMode.DANGER_FULL_ACCESS

    @property
    def read_only_subpaths(self) -> tuple[Path, ...]:
        """The protected ``.git`` / ``.codex`` paths that exist inside writable roots."""
        found: list[Path] = []
        for root in self.writable_roots:
            for name in self.protected_names:
                sub = root / name
                if sub.exists():
                    found.append(sub)
        return tuple(found)

    def allows_write(self, path: Path) -> bool:
        """Whether ``path`` (already resolved) lies inside a writable root and no protected subpath."""
        if self.mode is SandboxMode.DANGER_FULL_ACCESS:
            return True
        if any(path == sub or sub in path.parents for sub in self.read_only_subpaths):
            return False
        return any(path == root or root in path.parents for root in self.writable_roots)

    def describe(self) -> str:
        """One line for headers and prompts."""
        if self.mode is not SandboxMode.WORKSPACE_WRITE:
            return str(self.mode.value)
        net = "network on" if self.network_access else "network off"
        roots = ", ".join(str(r) for r in self.writable_roots)
        return f"workspace-write ({net}; writable: {roots})"


@record(frozen=True)
class Availability:
    """Whether a backend can enforce policies on this machine, and if not, why."""

    available: bool
    reason: str = ""
    details: dict[str, str] = field(default_factory=dict)


@record(frozen=True)
class SandboxedCommand:
    """What the execution layer spawns: the wrapped argv and variables to add to the child env."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class SandboxBackend(Protocol):
    """A way to confine a command. Registered through the ``codex_sandboxes`` hook.

    ``priority`` orders backends for ``sandbox_backend = "auto"`` (higher wins among available
    ones); ``none`` has priority 0 and is never chosen automatically for a restrictive policy.
    """

    name: str
    description: str
    priority: int

    def availability(self) -> Availability:
        """Probe this machine (cheap, cached by the backend)."""
        ...

    def prepare(self, argv: Sequence[str], policy: SandboxPolicy, cwd: Path) -> SandboxedCommand:
        """Return the argv that runs ``argv`` confined by ``policy`` in ``cwd``."""
        ...


class ConfinedSpawner(Protocol):
    """An optional fast path a backend may offer through ``fork_server()``: a pre-started process
    that forks confined children on request, saving an interpreter start per command.

    ``spawn`` returns the child's pid (its own process group); ``wait`` blocks until it ends and
    returns its status (negative: killed by that signal); ``spawn_async``/``wait_async`` do the
    same on the event loop. One spawner serves one session.
    """

    def spawn(
        self,
        argv: list[str],
        policy: SandboxPolicy,
        cwd: Path,
        env: dict[str, str],
        stdin: int,
        stdout: int,
        stderr: int,
    ) -> int: ...

    def wait(self, pid: int, timeout: float | None = None) -> int: ...

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
        """``spawn`` without blocking the event loop (the engine uses this pair)."""
        ...

    async def wait_async(self, pid: int) -> int:
        """``wait`` without blocking the event loop; several commands may wait at once."""
        ...

    def close(self) -> None: ...


def sandbox_env(backend_name: str, policy: SandboxPolicy) -> dict[str, str]:
    """Variables every sandboxed child sees, so tools can adapt (the peer sets the same)."""
    env = {"CODEX_SANDBOX": backend_name}
    if not policy.network_access:
        env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
    return env


# Exit status a sandbox helper uses when it could not set up confinement (the command never ran).
SANDBOX_SETUP_FAILED = 126

_DENIAL_MARKERS = (
    "operation not permitted",
    "permission denied",
    "read-only file system",
    "network is unreachable",
)


def sandbox_denial(exit_code: int | None, output: str, policy: SandboxPolicy) -> str | None:
    """Explain why a failure looks like the sandbox's doing, or return None.

    Evidence, not guesswork: exit 126 from the helper, death by SIGSYS, or a typical denial
    message in the output while the policy was restrictive. Exit 1, 2 and 127 alone are ordinary.
    """
    if not policy.is_restrictive or exit_code == 0 or exit_code is None:
        return None
    if exit_code == SANDBOX_SETUP_FAILED:
        return "the sandbox could not be set up (exit status 126)"
    if exit_code in (-signal.SIGSYS, 128 + signal.SIGSYS):
        return "the command was killed by the seccomp filter (SIGSYS)"
    lowered = output.lower()
    for marker in _DENIAL_MARKERS:
        if marker in lowered:
            return f"the output says {marker!r} under a {policy.mode.value} sandbox"
    return None
