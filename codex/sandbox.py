"""What a command may do (SandboxPolicy) and the seam every sandbox backend plugs into.

The policy is data computed once per session from config; a backend (a plugin registered through
``codex_sandboxes``) turns it into an argv that enforces it. The execution layer spawns that argv,
adding ``sandbox_env()`` to its environment (``codex.execution.confine``).
"""

from __future__ import annotations

import os
import signal
import stat
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol, runtime_checkable

from codex.errors import SandboxError


class SandboxMode(str, Enum):
    """The peer's ``sandbox_mode`` values."""

    READ_ONLY = "read-only"
    WORKSPACE_WRITE = "workspace-write"
    DANGER_FULL_ACCESS = "danger-full-access"


# Inside every writable root these stay read-only where the backend can express it, so a
# command cannot rewrite git hooks or codex's own per-project config.
PROTECTED_SUBDIRS: tuple[str, ...] = (".git", ".codex")

# Bounds of the session-start search for nested repositories below the writable roots: the search
# goes breadth first, so shallow repositories are found first, and stops at whichever bound comes
# first. What it did not reach is not protected (see plugins/landlock/README.md).
NESTED_SCAN_MAX_DIRECTORIES = 4000
NESTED_SCAN_SECONDS = 0.3
# Every protected path travels in the helper's argv (one argument is capped at 128 KiB).
NESTED_SCAN_MAX_FOUND = 256
# A `.git` file ("gitdir: ...") is a few hundred bytes; anything bigger is not one.
_GIT_FILE_MAX_BYTES = 4096


@dataclass(frozen=True, slots=True)
class SandboxPolicy:
    """The resolved policy for one session.

    Example::

        policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=Path.cwd())
        policy.writable_roots  # (cwd, /tmp, $TMPDIR) resolved
        policy.protected_paths  # e.g. (repo/.git, ~/.codex) when they lie in a writable root
    """

    mode: SandboxMode
    writable_roots: tuple[Path, ...] = ()
    network_access: bool = False
    # Names kept read-only at the top of every writable root (``allow_git_writes`` drops ".git"),
    # including entries created after the session started.
    protected_names: tuple[str, ...] = PROTECTED_SUBDIRS
    # Resolved paths inside writable roots that stay read-only, found once at session start: the
    # repository around cwd (and a worktree's real git directories), nested repositories and
    # ``.codex`` directories below the roots, and codex's own state directories.
    protected_paths: tuple[Path, ...] = ()

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
        state_dirs: Sequence[Path] = (),
    ) -> SandboxPolicy:
        """Resolve the configured roots into absolute, existing, de-duplicated paths.

        ``state_dirs`` are directories of codex's own (CODEX_HOME, the cache) that must stay
        read-only when they lie inside a writable root; the caller creates them first, since a
        read-only mount needs something to cover.
        """
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
        found = find_protected_paths(cwd, roots, protected, state_dirs)
        return cls(mode, tuple(roots), network_access, protected, found)

    @property
    def is_restrictive(self) -> bool:
        """True unless the policy is danger-full-access."""
        return self.mode is not SandboxMode.DANGER_FULL_ACCESS

    @property
    def read_only_subpaths(self) -> tuple[Path, ...]:
        """The protected paths that exist now inside writable roots.

        ``protected_paths`` plus the protected names at the top of each root; every backend
        makes these read-only.
        """
        found: list[Path] = [path for path in self.protected_paths if os.path.lexists(path)]
        for root in self.writable_roots:
            for name in self.protected_names:
                sub = root / name
                if os.path.lexists(sub) and sub not in found:
                    found.append(sub)
        return tuple(found)

    def allows_write(self, path: Path) -> bool:
        """Whether ``path`` (already resolved) lies inside a writable root and no protected path.

        The innermost wins: a protected path inside (or equal to) a root makes it read-only
        there, while a root inside a protected path (codex started in ``~/.codex/prompts``)
        stays writable, like every backend's mounts and rules. Protected paths count whether or
        not they exist yet, so a patch cannot create ``.git/hooks/...`` at the top of a root.
        """
        if self.mode is SandboxMode.DANGER_FULL_ACCESS:
            return True
        protected = [*self.protected_paths]
        protected.extend(root / name for root in self.writable_roots for name in self.protected_names)
        covering = [sub for sub in protected if path == sub or sub in path.parents]
        return any(
            (path == root or root in path.parents) and not any(sub == root or root in sub.parents for sub in covering)
            for root in self.writable_roots
        )

    def describe(self) -> str:
        """One line for headers and prompts."""
        if self.mode is not SandboxMode.WORKSPACE_WRITE:
            return str(self.mode.value)
        net = "network on" if self.network_access else "network off"
        roots = ", ".join(str(r) for r in self.writable_roots)
        return f"workspace-write ({net}; writable: {roots})"


def find_protected_paths(
    cwd: Path,
    roots: Sequence[Path],
    names: Sequence[str],
    state_dirs: Sequence[Path] = (),
    max_directories: int = NESTED_SCAN_MAX_DIRECTORIES,
    seconds: float = NESTED_SCAN_SECONDS,
) -> tuple[Path, ...]:
    """The resolved paths inside ``roots`` that must stay read-only, found once per session.

    - every ``.git``/``.codex`` (of ``names``) in ``cwd`` and its ancestors: the repository
      around cwd, and a superproject around a submodule;
    - for a ``.git`` *file* (worktree, submodule), the git directory it points to and that
      directory's ``commondir`` (the main repository's ``.git``, which holds hooks and config);
    - every ``.git``/``.codex`` below the roots, breadth first within ``max_directories``
      directories and ``seconds`` (symlinks are not followed);
    - each of ``state_dirs`` that lies inside a root.

    Paths outside every root are left out: the backends keep those read-only anyway. A path
    equal to a root makes that root read-only (codex started in ``~/.codex``); a root inside a
    protected path stays writable, the rest of the protected path does not (see ``allows_write``).
    """
    found: dict[str, None] = {}  # an ordered set of resolved paths
    root_strings = [str(root) for root in roots]

    def add(path: Path) -> None:
        resolved = os.path.realpath(path)
        if resolved not in found and any(_inside(resolved, root) for root in root_strings):
            found[resolved] = None

    def add_entry(entry: Path) -> None:
        add(entry)
        if entry.name == ".git":
            for target in git_pointer_targets(entry):
                add(target)

    start = Path(os.path.realpath(cwd))
    for directory in (start, *start.parents):
        for name in names:
            if os.path.lexists(directory / name):
                add_entry(directory / name)
    for state in state_dirs:
        add(Path(state).expanduser())
    _scan_nested(roots, names, max_directories, seconds, add_entry)
    return tuple(Path(path) for path in found)


def _inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies inside it (both absolute and resolved)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def _scan_nested(
    roots: Sequence[Path], names: Sequence[str], max_directories: int, seconds: float, add_entry: Callable[[Path], None]
) -> None:
    """Breadth-first search below ``roots`` for entries called one of ``names`` (bounded).

    Plain strings and ``DirEntry`` types, not ``Path`` objects: this runs at every session start
    and visits up to thousands of directories.
    """
    if not names:
        return
    deadline = time.monotonic() + seconds
    root_strings = {str(root) for root in roots}
    queue = deque(str(root) for root in roots)
    visited = 0
    found = 0
    while queue and visited < max_directories and found < NESTED_SCAN_MAX_FOUND:
        if time.monotonic() > deadline:
            break
        directory = queue.popleft()
        visited += 1
        try:
            with os.scandir(directory) as listing:
                entries = [(entry.name, entry.path, entry.is_dir(follow_symlinks=False)) for entry in listing]
        except OSError:
            continue  # unreadable or gone: nothing to protect that a command could reach either
        entries.sort()  # by name: the same order on every filesystem
        for name, path, is_directory in entries:
            if name in names:
                add_entry(Path(path))
                found += 1
            elif is_directory and path not in root_strings:
                queue.append(path)  # a nested root is scanned as a root already


def git_pointer_targets(dot_git: Path) -> list[Path]:
    """The directories a ``.git`` file points to: its ``gitdir`` and that one's ``commondir``.

    A worktree's ``.git`` file names ``<main>/.git/worktrees/<name>``, whose ``commondir`` names
    ``<main>/.git``; a submodule's names ``<super>/.git/modules/<name>``. A ``.git`` directory of
    a linked worktree may carry a ``commondir`` of its own. Unreadable or malformed files give none.
    """
    targets: list[Path] = []
    gitdir = dot_git
    if not dot_git.is_dir():
        text = _read_small_file(dot_git)
        first = text.splitlines()[0] if text else ""
        if not first.startswith("gitdir:"):
            return targets
        gitdir = dot_git.parent / first.removeprefix("gitdir:").strip()
        targets.append(gitdir)
    common = _read_small_file(gitdir / "commondir").strip()
    if common:
        targets.append(gitdir / common)
    return targets


def _read_small_file(path: Path) -> str:
    """The start of a regular file, or "" for anything else.

    A command may have left a FIFO or a device where a ``.git`` file was expected: opening it
    non-blocking and checking its type keeps the session start from hanging on it.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, _GIT_FILE_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Availability:
    """Whether a backend can enforce policies on this machine, and if not, why."""

    available: bool
    reason: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SandboxedCommand:
    """What the execution layer spawns: the wrapped argv and variables to add to the child env.

    ``env`` is for the backend's own needs only: ``CODEX_SANDBOX`` and
    ``CODEX_SANDBOX_NETWORK_DISABLED`` are added by the core (``sandbox_env``).
    """

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class SandboxBackend(Protocol):
    """A way to confine a command. Registered through the ``codex_sandboxes`` hook.

    ``priority`` orders backends for ``sandbox_backend = "auto"`` (higher wins among available
    ones); ``none`` has priority 0 and is never chosen automatically for a restrictive policy.

    The contract for "could not set up the sandbox", which codex reports as such and never as
    the command's own failure (the command did not run):

    - before anything is spawned, ``prepare`` raises ``SandboxError`` (or ``SandboxSetupError``)
      with a sentence saying what is missing;
    - once the wrapped argv runs, the wrapper that cannot confine the command exits with status
      126 (``SANDBOX_SETUP_FAILED``) after writing one line ``codex-sandbox: REASON`` to stderr,
      without starting the command. Status 126 without that line is the command's own.

    The environment variables every confined command sees (``sandbox_env``) are set by the
    core; a backend does not set them.
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
    """Variables every sandboxed child sees, so tools can adapt (the peer sets the same).

    Applied by the core to every confined command (``codex.execution.confine`` and the fork
    server path), whichever backend confines it.
    """
    env = {"CODEX_SANDBOX": backend_name}
    if not policy.network_access:
        env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
    return env


# Exit status a sandbox helper uses when it could not set up confinement (the command never ran).
SANDBOX_SETUP_FAILED = 126
# The start of the stderr line that goes with it (see SandboxBackend's contract).
SETUP_FAILURE_PREFIX = "codex-sandbox:"


class SandboxSetupError(SandboxError):
    """A backend could not set up the sandbox; the command did not run (exit status 126)."""

    exit_code = SANDBOX_SETUP_FAILED


def setup_failure(exit_code: int | None, stderr: str) -> str | None:
    """The backend's reason when a run ended in a setup failure by the contract, else None.

    Exit status 126 and a ``codex-sandbox: REASON`` line (not ``codex-sandbox: warning: ...``)
    on stderr; the last such line is the reason.
    """
    if exit_code != SANDBOX_SETUP_FAILED:
        return None
    reasons = [
        line[len(SETUP_FAILURE_PREFIX) :].strip()
        for line in stderr.splitlines()
        if line.startswith(SETUP_FAILURE_PREFIX) and not line.startswith(f"{SETUP_FAILURE_PREFIX} warning:")
    ]
    return reasons[-1] if reasons else None

_DENIAL_MARKERS = (
    "operation not permitted",
    "permission denied",
    "read-only file system",
    "network is unreachable",
)


def sandbox_denial(exit_code: int | None, output: str, policy: SandboxPolicy) -> str | None:
    """Explain why a failure looks like the sandbox's doing, or return None.

    Evidence, not guesswork: a setup failure by the backend contract (exit 126 with a
    ``codex-sandbox:`` line), death by SIGSYS, or a typical denial message in the output while
    the policy was restrictive. Exit 1, 2, 126 and 127 alone are ordinary.
    """
    if not policy.is_restrictive or exit_code == 0 or exit_code is None:
        return None
    reason = setup_failure(exit_code, output)
    if reason is not None:
        return f"the sandbox could not be set up (exit status 126): {reason}"
    if exit_code in (-signal.SIGSYS, 128 + signal.SIGSYS):
        return "the command was killed by the seccomp filter (SIGSYS)"
    lowered = output.lower()
    for marker in _DENIAL_MARKERS:
        if marker in lowered:
            return f"the output says {marker!r} under a {policy.mode.value} sandbox"
    return None
