"""Start-up time of the ``codex`` command, as whole processes, against ``python -c pass``.

Run: ``python benchmarks/startup.py [--runs 21] [--json]``

What is measured, and why this way:

- Each command runs as a new process: ``[sys.executable, <installed codex script>, ...]``. That
  is the file a user's shell runs (pip's console-script wrapper, whose shebang is this same
  interpreter), so its cost (it imports ``re``) is counted; calling the interpreter directly
  keeps a shell or a pyenv-style shim out of the numbers. Without an installed script the
  benchmark falls back to ``python -m codex`` and says so.
- The baseline ``python -c pass`` runs in the same rounds, interleaved with the others, so a
  busy machine slows every command alike; the ratios are what to compare across machines.
- ``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment and every command is
  run once before timing: a user's second run finds compiled bytecode (and the ``--help``
  cache), and that is the run people feel. ``--help (no cache)`` shows the first run's cost.
- CODEX_HOME and the cache directory are fresh temporary directories: no personal config or
  stale cache skews the result.

Targets (from issue 2): ``codex --version`` within 2.5x of ``python -c pass``, ``codex --help``
within 4x. ``codex plugins`` has no target; it imports every plugin and asks each what it
provides.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"codex --version": 2.5, "codex --help": 4.0}


def codex_command() -> tuple[list[str], str]:
    """How to start codex the way a user does, and a note on what was chosen."""
    script = shutil.which("codex", path=str(Path(sys.executable).parent)) or shutil.which("codex")
    if script is not None:
        return [sys.executable, script], f"{sys.executable} {script}"
    return [sys.executable, "-m", "codex"], f"{sys.executable} -m codex (no installed script found)"


def time_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall-clock seconds for one process, output discarded; a failure stops the benchmark."""
    start = time.perf_counter()
    completed = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({completed.returncode}): {completed.stderr.decode()}")
    return elapsed


def run(runs: int) -> dict[str, object]:
    """Time every case ``runs`` times, interleaved; return medians and ratios."""
    codex, how = codex_command()
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CODEX_DEBUG")}
        env.update({"CODEX_HOME": home, "XDG_CACHE_HOME": cache, "COLUMNS": "80"})
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "codex --version": ([*codex, "--version"], env),
            "codex --help": ([*codex, "--help"], env),
            "codex plugins": ([*codex, "plugins"], env),
        }
        for argv, case_env in cases.values():  # warm-up: bytecode
            time_once(argv, case_env)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, (argv, case_env) in cases.items():
                samples[name].append(time_once(argv, case_env))
    baseline = statistics.median(samples["python -c pass"])
    results = {
        name: {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "ratio": round(statistics.median(values) / baseline, 2),
            "target": TARGETS.get(name),
        }
        for name, values in samples.items()
    }
    return {"command": how, "runs": runs, "python": sys.version.split()[0], "results": results}


def main() -> int:
    """Print a table (or JSON) of medians and ratios; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per command (default 21)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    options = parser.parse_args()
    report = run(max(1, options.runs))
    results: dict[str, dict[str, float | None]] = report["results"]  # type: ignore[assignment]
    missed = [
        name for name, r in results.items() if r["target"] is not None and r["ratio"] > r["target"]  # type: ignore[operator]
    ]
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['runs']} runs each, median; codex started as: {report['command']}")
        print(f"{'command':<26}{'median':>10}{'ratio':>8}  target")
        for name, r in results.items():
            target = f"<= {r['target']}x" if r["target"] is not None else ""
            flag = "  MISSED" if name in missed else ""
            print(f"{name:<26}{r['median_ms']:>8.1f}ms{r['ratio']:>7.2f}x  {target}{flag}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
