"""Shared helpers for the benchmarks: timing whole processes, medians, the Rust peer."""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_GLOBS = (
    "benchmarks/.peer/node_modules/@openai/codex-linux-*/vendor/*/bin/codex",
    "node_modules/@openai/codex-linux-*/vendor/*/bin/codex",
    "../peer/node_modules/@openai/codex-linux-*/vendor/*/bin/codex",
)


def find_peer(explicit: str | None = None) -> str | None:
    """The Rust peer's binary: --peer, $CODEX_PEER_BIN, or an npm install next to the project.

    Install it with `npm install --prefix benchmarks/.peer @openai/codex@0.169.0`.
    """
    if explicit:
        return explicit
    if os.environ.get("CODEX_PEER_BIN"):
        return os.environ["CODEX_PEER_BIN"]
    for pattern in PEER_GLOBS:
        found = sorted(glob.glob(str(ROOT / pattern)))
        if found:
            return found[-1]
    return None


def our_codex() -> list[str]:
    """Our CLI as a user runs it, but with the interpreter called directly (no PATH shim)."""
    script = shutil.which("codex", path=str(Path(sys.executable).parent))
    if script is None:
        return [sys.executable, "-m", "codex"]
    return [sys.executable, script]


def program_home(name: str) -> Path:
    """A fresh CODEX_HOME for one program under test, outside the system temp directory.

    The Rust peer refuses to create its sandbox helper's PATH alias under /tmp; bubblewrap then
    cannot find `codex-linux-sandbox` and every sandboxed command (an apply_patch write too) fails.
    """
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codex-benchmarks"
    root.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=f"home-{name}-", dir=root))
    atexit.register(shutil.rmtree, home, True)
    return home


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measured program: ours, minus what would make a run unlike a user's.

    ``PYTHONDONTWRITEBYTECODE`` (set on some machines) would make every run compile each module
    edited since its bytecode was written; ``CODEX_DEBUG`` adds logging. A user's install has
    only the built-in plugins, so the example plugins the test suite installs (whose tools add
    a pydantic import to every run) are left out.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CODEX_DEBUG")}
    env["CODEX_PLUGINS"] = BUILT_IN_PLUGINS
    env.update(extra)
    return env


# The entry points pyproject.toml registers for codex-py itself.
BUILT_IN_PLUGINS = "openai,ollama,seatbelt,landlock"


def run_measured(
    argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS in KiB, exit status, stderr tail) of one whole process."""
    # stderr goes to a file, not a pipe nobody reads during the run: a program that prints more
    # than a pipe holds (a big diff) would block on its write until the timeout.
    with tempfile.TemporaryFile() as err_file:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_file
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                raise TimeoutError(f"{argv[0]} did not finish in {timeout} s")
            time.sleep(0.0005)
        wall = time.perf_counter() - started
        err_file.seek(max(0, err_file.seek(0, os.SEEK_END) - 8000))
        err = err_file.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, proc.returncode, err.decode(errors="replace")[-2000:]


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000


def in_private_netns() -> bool:
    """True inside the network namespace this module's `reexec_in_netns` made."""
    return os.environ.get("CODEX_BENCH_NETNS") == "1"


def reexec_in_netns() -> None:
    """Re-run this benchmark in a new network namespace with only loopback up.

    The peer looks up github.com at start; with no route it fails fast instead of stalling.
    """
    if in_private_netns() or os.geteuid() != 0 or shutil.which("unshare") is None:
        return
    script = "ip link set lo up && exec \"$@\""
    env = {**os.environ, "CODEX_BENCH_NETNS": "1"}
    argv = ["unshare", "-n", "sh", "-c", script, "sh", sys.executable, *sys.argv]
    os.execvpe("unshare", argv, env)
