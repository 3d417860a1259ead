"""Shared helpers for the benchmarks: timing whole processes, medians, the Rust peer."""

from __future__ import annotations

import atexit
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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


# The measuring process: a small interpreter of its own that forks and waits for each measured
# program. Linux carries a process's peak RSS across execve, and a child made by fork or vfork
# starts from its parent's memory: spawned straight from a benchmark that holds a mock server
# with 20,000 prepared deltas, a program's `ru_maxrss` would be the benchmark's size, not its own.
_LAUNCHER = r"""
import json, os, sys, time
for line in sys.stdin:
    job = json.loads(line)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(job["cwd"] or ".")
            null = os.open(os.devnull, os.O_RDWR)
            err = os.open(job["stderr"], os.O_WRONLY)
            os.dup2(null, 0); os.dup2(null, 1); os.dup2(err, 2)
            os.execve(job["argv"][0], job["argv"], job["env"])
        finally:
            os._exit(127)
    deadline = started + job["timeout"]
    timed_out = False
    while True:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
            break
        if time.perf_counter() > deadline and not timed_out:
            os.kill(pid, 9)
            timed_out = True
        time.sleep(0.0005)
    wall = time.perf_counter() - started
    print(json.dumps([wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status), timed_out]), flush=True)
"""
_launcher: subprocess.Popen[str] | None = None


def _launcher_process() -> subprocess.Popen[str]:
    global _launcher
    if _launcher is None:
        _launcher = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
    return _launcher


def run_measured(
    argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS in KiB, exit status, stderr tail) of one whole process."""
    # stderr goes to a file, not a pipe nobody reads during the run: a program that prints more
    # than a pipe holds (a big diff) would block on its write until the timeout.
    program = shutil.which(argv[0]) or argv[0]
    launcher = _launcher_process()
    assert launcher.stdin is not None and launcher.stdout is not None
    with tempfile.NamedTemporaryFile() as err_file:
        job = {
            "argv": [program, *argv[1:]], "env": dict(os.environ if env is None else env),
            "cwd": str(cwd) if cwd else None, "stderr": err_file.name, "timeout": timeout,
        }
        launcher.stdin.write(json.dumps(job) + "\n")
        launcher.stdin.flush()
        wall, peak_kib, code, timed_out = json.loads(launcher.stdout.readline())
        if timed_out:
            raise TimeoutError(f"{argv[0]} did not finish in {timeout} s")
        err_file.seek(max(0, err_file.seek(0, os.SEEK_END) - 8000))
        err = err_file.read()
    return wall, peak_kib, code, err.decode(errors="replace")[-2000:]


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
