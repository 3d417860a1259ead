"""Per-command sandbox overhead, and a 10-command `codex exec` under each sandbox mode.

1. `/bin/true` bare, through the Landlock helper (one interpreter start per command, the path
   `codex sandbox linux` and the fallback use), and through the per-session fork server (the path
   the agent uses), for read-only and workspace-write. Median of N.
2. Whole-process `codex exec` against the mock model: ten `shell` calls of `true` then an
   answer, under workspace-write and danger-full-access.

    python benchmarks/sandbox.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import child_env, median_ms, our_codex, run_measured
from codex.sandbox import SandboxMode, SandboxPolicy
from tests.mock_model import Call, MockModelServer, Text


def time_bare(runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        samples.append(time.perf_counter() - started)
    return samples


def time_helper(backend: object, policy: SandboxPolicy, cwd: Path, runs: int) -> list[float]:
    argv = backend.prepare(["/bin/true"], policy, cwd).argv  # type: ignore[attr-defined]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, cwd=cwd)
        samples.append(time.perf_counter() - started)
    return samples


def time_fork_server(backend: object, policy: SandboxPolicy, cwd: Path, runs: int) -> list[float]:
    server = backend.fork_server()  # type: ignore[attr-defined]
    samples = []
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        server.wait(server.spawn(["/bin/true"], policy, cwd, dict(os.environ), devnull, devnull, devnull), 10)
        for _ in range(runs):
            started = time.perf_counter()
            pid = server.spawn(["/bin/true"], policy, cwd, dict(os.environ), devnull, devnull, devnull)
            code = server.wait(pid, 10)
            samples.append(time.perf_counter() - started)
            assert code == 0, code
        os.close(devnull)
    finally:
        server.close()
    return samples


def exec_scenario(mode: str, runs: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="codex-bench-"))
    repo = work / "repo"
    (repo / ".git").mkdir(parents=True)
    walls = []
    with MockModelServer() as mock:
        home = work / "home"
        home.mkdir()
        (home / "config.toml").write_text(
            'model = "mock-model"\nmodel_provider = "mock"\n' + mock.provider_toml(request_max_retries=0)
        )
        env = child_env(CODEX_HOME=str(home))
        for _ in range(runs):
            for i in range(10):
                mock.responses_turn(Call("shell", {"command": ["true"]}, f"c{i}"))
            mock.responses_turn(Text("done"))
            wall, _, code, err = run_measured([*our_codex(), "exec", "-s", mode, "go"], env=env, cwd=repo)
            if code != 0:
                raise SystemExit(f"exec under {mode} failed: {err}")
            walls.append(wall)
    return median_ms(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--exec-runs", type=int, default=5)
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        raise SystemExit("this benchmark measures the Linux backend")
    from codex_landlock.backend import LandlockBackend

    backend = LandlockBackend()
    if not backend.availability().available:
        raise SystemExit(f"Landlock unavailable: {backend.availability().reason}")
    cwd = Path(tempfile.mkdtemp(prefix="codex-bench-ws-"))
    bare = median_ms(time_bare(args.runs))
    print(f"/bin/true, median of {args.runs}: bare {bare:.2f} ms")
    for mode in (SandboxMode.READ_ONLY, SandboxMode.WORKSPACE_WRITE):
        policy = SandboxPolicy.build(mode, cwd)
        helper = median_ms(time_helper(backend, policy, cwd, args.runs))
        forked = median_ms(time_fork_server(backend, policy, cwd, args.runs))
        print(
            f"  {mode.value:16} helper {helper:6.2f} ms (+{helper - bare:5.2f})   "
            f"fork server {forked:6.2f} ms (+{forked - bare:5.2f})"
        )
    print(f"codex exec, 10 x shell true + answer, median of {args.exec_runs}:")
    results = {mode: exec_scenario(mode, args.exec_runs) for mode in ("workspace-write", "danger-full-access")}
    for mode, wall in results.items():
        print(f"  {mode:20} {wall:7.1f} ms")
    ratio = results["workspace-write"] / results["danger-full-access"]
    print(f"  workspace-write / danger-full-access: {ratio:.2f}x")


if __name__ == "__main__":
    main()
