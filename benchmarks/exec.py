"""Whole-process `codex exec` against the mock model, side by side with the Rust peer.

Scenarios: (a) one text answer; (b) ten `shell` calls of `true`, then an answer; (c) one answer
streamed as 20,000 text deltas (the per-delta cost of a whole program: decoding, events, output). Wall time and
peak RSS, median of N runs after one warm-up run, the programs' runs interleaved, interpreter
called directly. The peer (if installed, see
`_common.find_peer`) gets the same mock through a provider entry, `[analytics] enabled = false`,
and the whole run happens in a private network namespace with only loopback up.

    python benchmarks/exec.py [--runs 10] [--peer PATH] [--sandbox read-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import child_env, find_peer, median_ms, our_codex, program_home, reexec_in_netns, run_measured
from tests.mock_model import Call, MockModelServer, Text


def write_config(home: Path, mock: MockModelServer) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
        + "\n[analytics]\nenabled = false\n"
    )


def shell_call(tool: str, index: int) -> Call:
    """A call of `true` in whichever shell tool shape the program offers."""
    call_id = f"call_{index}"
    if tool == "shell":
        return Call("shell", {"command": ["true"]}, call_id)
    if tool == "shell_command":
        return Call("shell_command", {"command": "true"}, call_id)
    return Call("exec_command", {"cmd": "true"}, call_id)


def detect_shell_tool(argv: list[str], env: dict[str, str], cwd: Path, mock: MockModelServer) -> str:
    mock.responses_turn(Text("ok"))
    before = len(mock.requests)
    run_measured([*argv, "probe"], env=env, cwd=cwd)
    names = {t.get("name") for t in mock.requests[before].json.get("tools", [])}
    for candidate in ("shell", "shell_command", "exec_command"):
        if candidate in names:
            return candidate
    raise SystemExit(f"no shell tool among {sorted(n for n in names if n)}")


@dataclass
class Program:
    """One program under test: how to start it and the environment it runs in."""

    name: str
    argv: list[str]
    env: dict[str, str]
    tool: str = ""
    walls: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)


def final_answer(deltas: int) -> Text:
    """The answer that ends a run: one word, or ``deltas`` words each streamed as a delta."""
    if deltas <= 1:
        return Text("done")
    pieces = [f"w{i} " for i in range(deltas)]
    return Text("".join(pieces), deltas=pieces)


def run_once(
    program: Program, label: str, cwd: Path, mock: MockModelServer, calls: int, deltas: int = 1
) -> tuple[float, float]:
    for i in range(calls):
        mock.responses_turn(shell_call(program.tool, i))
    mock.responses_turn(final_answer(deltas))
    wall, peak_kib, code, err = run_measured([*program.argv, "go"], env=program.env, cwd=cwd)
    if code != 0:
        raise SystemExit(f"{program.name} {label} failed (exit {code}):\n{err}")
    return wall, peak_kib / 1024


def scenario(
    label: str, programs: list[Program], cwd: Path, mock: MockModelServer, runs: int, calls: int, deltas: int = 1
) -> list[tuple[str, dict[str, Any]]]:
    """Median wall time and peak RSS of each program; runs alternate between the programs so a
    busy moment of the machine slows both alike."""
    for program in programs:
        program.walls, program.rss = [], []
        program.tool = detect_shell_tool(program.argv, program.env, cwd, mock) if calls else ""
        # One unmeasured run first: a user's second run finds bytecode and remembered answers.
        run_once(program, label, cwd, mock, calls, deltas)
    for _ in range(runs):
        for program in programs:
            wall, rss = run_once(program, label, cwd, mock, calls, deltas)
            program.walls.append(wall)
            program.rss.append(rss)
    return [
        (
            p.name,
            {"label": label, "wall_ms": median_ms(p.walls), "rss_mib": sorted(p.rss)[len(p.rss) // 2],
             "walls": list(p.walls)},
        )
        for p in programs
    ]


def pair_ratios(ours: list[float], theirs: list[float]) -> str:
    """The spread of ours/theirs over runs made back to back: how much the machine's drift moves
    the ratio (the medians' ratio is the headline number)."""
    ratios = sorted(a / b for a, b in zip(ours, theirs, strict=True))

    def at(fraction: float) -> float:
        return ratios[min(len(ratios) - 1, int(fraction * len(ratios)))]
    return f"per back-to-back pair: median {at(0.5):.2f}x, 10th-90th percentile {at(0.1):.2f}-{at(0.9):.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--peer", help="path of the Rust peer's codex binary")
    parser.add_argument("--sandbox", default="read-only", help="sandbox mode for both programs")
    args = parser.parse_args()
    reexec_in_netns()
    peer = find_peer(args.peer)
    work = Path(tempfile.mkdtemp(prefix="codex-bench-"))
    (work / "repo" / ".git").mkdir(parents=True)
    cwd = work / "repo"
    results: list[tuple[str, dict[str, Any]]] = []
    with MockModelServer() as mock:
        starts: list[tuple[str, list[str]]] = [("python", our_codex())]
        if peer:
            starts.append(("rust", [peer]))
        programs = []
        for name, base in starts:
            home = program_home(name)
            write_config(home, mock)
            # HOME too: the peer runs commands through `bash -lc`, and a login profile (pyenv
            # rehash here) would be timed as its per-command cost.
            env = child_env(
                CODEX_HOME=str(home), HOME=str(home), OPENAI_API_KEY="unused", XDG_CACHE_HOME=str(work / "cache")
            )
            programs.append(Program(name, [*base, "exec", "--skip-git-repo-check", "-s", args.sandbox], env))
        for label, calls, deltas in (
            ("a) one answer", 0, 1), ("b) 10 x shell true", 10, 1), ("c) 20,000 deltas", 0, 20_000)
        ):
            results += scenario(label, programs, cwd, mock, args.runs, calls, deltas)
    results.sort(key=lambda item: item[0] != "python")
    print(f"codex exec, median of {args.runs} runs, sandbox {args.sandbox}")
    print(f"{'program':8} {'scenario':22} {'wall ms':>9} {'peak RSS MiB':>13}")
    for name, row in results:
        print(f"{name:8} {row['label']:22} {row['wall_ms']:9.1f} {row['rss_mib']:13.1f}")
    if peer:
        ours = {r["label"]: r for n, r in results if n == "python"}
        theirs = {r["label"]: r for n, r in results if n == "rust"}
        for label in ours:
            ratio = ours[label]["wall_ms"] / theirs[label]["wall_ms"]
            spread = pair_ratios(ours[label]["walls"], theirs[label]["walls"])
            print(f"ratio python/rust {label}: wall {ratio:.2f}x ({spread})")
    else:
        print("(Rust peer not found: npm install --prefix benchmarks/.peer @openai/codex@0.169.0)")


if __name__ == "__main__":
    main()
