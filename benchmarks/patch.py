"""apply_patch on a big file: a 200-chunk update of a 100,000-line file.

Two measurements:

* in-process: planning (match every chunk), the unified diff the events carry, and writing,
  median of N; the diff both from the chunks' regions (what apply_patch does) and by the
  whole-file line diff it used before (the fallback for changes made by hand);
* whole process: `codex exec` where the mock model sends one apply_patch call and then a final
  answer (and, as the baseline, a run with only the answer), side by side with the Rust peer
  doing the same (the same file, the same patch, each
  program called the way it offers apply_patch), runs interleaved, in a private network namespace
  with only loopback up. The file is restored before every run.

Under workspace-write both programs are told `exclude_slash_tmp = true` unless `--slash-tmp`:
with /tmp writable, our session start looks for `.git`/`.codex` below it (bounded, 0.3 s), which
on a shared machine full of test directories costs ~150 ms that has nothing to do with patches.

    python benchmarks/patch.py [--runs 10] [--peer PATH] [--lines 100000] [--chunks 200] [--slash-tmp]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import child_env, find_peer, median_ms, our_codex, program_home, reexec_in_netns, run_measured
from benchmarks.exec import pair_ratios, write_config
from tests.mock_model import Call, CustomCall, MockModelServer, Part, Text


def big_file(lines: int, chunks: int) -> tuple[str, str]:
    """The file's text and a Codex patch changing one line in each of ``chunks`` places."""
    content = [f"line {i}: value = {i % 97}" for i in range(lines)]
    body = ["*** Begin Patch", "*** Update File: big.txt"]
    step = lines // (chunks + 1)
    for k in range(1, chunks + 1):
        at = step * k
        body += ["@@", f" {content[at - 1]}", f"-{content[at]}", f"+CHANGED {at}", f" {content[at + 1]}"]
    body.append("*** End Patch")
    return "\n".join(content) + "\n", "\n".join(body) + "\n"


def in_process(content: str, patch: str, runs: int) -> None:
    from codex.tools.apply_patch import FileChange, Resolver, apply_changes, plan_patch

    timings: dict[str, list[float]] = {"plan": [], "diff": [], "whole-file diff": [], "write": []}
    with tempfile.TemporaryDirectory(prefix="codex-bench-patch-") as work:
        cwd = Path(work)
        for _ in range(runs):
            (cwd / "big.txt").write_text(content)
            with Resolver() as resolver:
                started = time.perf_counter()
                changes = plan_patch(patch, cwd, resolver)
                planned = time.perf_counter()
                diff = "".join(change.unified_diff(cwd) for change in changes)
                diffed = time.perf_counter()
                apply_changes(changes, cwd)
                written = time.perf_counter()
            by_hand = [FileChange(c.kind, c.path, c.move_path, c.old_content, c.new_content) for c in changes]
            whole_started = time.perf_counter()
            whole = "".join(change.unified_diff(cwd) for change in by_hand)
            whole_done = time.perf_counter()
            timings["plan"].append(planned - started)
            timings["diff"].append(diffed - planned)
            timings["write"].append(written - diffed)
            timings["whole-file diff"].append(whole_done - whole_started)
    print(f"in-process apply_patch, median of {runs} runs")
    for name, values in timings.items():
        print(f"  {name:16} {median_ms(values):8.1f} ms")
    apply_total = sum(statistics.median(timings[k]) for k in ("plan", "diff", "write")) * 1000
    print(f"  {'total':16} {apply_total:8.1f} ms (plan + diff + write)")
    same = "the same text" if diff == whole else "different text (both apply; see tests/test_apply_patch_diff.py)"
    print(f"  the two diffs: {same}, {diff.count(chr(10) + '@@ ')} hunks")


@dataclass
class Program:
    """One program under test, how its model calls apply_patch, and its runs per scenario."""

    name: str
    argv: list[str]
    env: dict[str, str]
    call: str = ""
    walls: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)


def patch_call(how: str, patch: str) -> Part:
    """The apply_patch call in the shape the program offers it.

    Without an apply_patch tool (the peer, for a model it has no metadata for), the model runs
    `apply_patch` in its shell tool with a heredoc, which the program intercepts and applies
    itself, events and diff included.
    """
    heredoc = f"apply_patch <<'EOF'\n{patch}EOF\n"
    if how == "custom":
        return CustomCall("apply_patch", patch, "call_patch")
    if how == "function":
        return Call("apply_patch", {"input": patch}, "call_patch")
    if how == "exec_command":
        return Call("exec_command", {"cmd": heredoc}, "call_patch")
    if how == "shell_command":
        return Call("shell_command", {"command": heredoc}, "call_patch")
    return Call("shell", {"command": ["bash", "-lc", heredoc]}, "call_patch")


def detect_patch_tool(program: Program, cwd: Path, mock: MockModelServer) -> str:
    """How the program offers apply_patch: its own tool (function or custom), else a shell tool."""
    mock.responses_turn(Text("ok"))
    before = len(mock.requests)
    run_measured([*program.argv, "probe"], env=program.env, cwd=cwd)
    tools = {tool.get("name"): tool for tool in mock.requests[before].json.get("tools", [])}
    if "apply_patch" in tools:
        return "custom" if tools["apply_patch"].get("type") == "custom" else "function"
    for shell in ("exec_command", "shell_command", "shell"):
        if shell in tools:
            return shell
    raise SystemExit(f"{program.name} offers neither apply_patch nor a shell tool: {sorted(map(str, tools))}")


SCENARIOS = ("one answer", "apply_patch")


def run_once(
    program: Program, scenario: str, cwd: Path, mock: MockModelServer, content: str, patch: str
) -> tuple[float, float]:
    """One measured `codex exec`: a plain answer, or the patch call and then the answer."""
    (cwd / "big.txt").write_text(content)
    if scenario == "apply_patch":
        mock.responses_turn(patch_call(program.call, patch))
    mock.responses_turn(Text("done"))
    wall, peak_kib, code, err = run_measured([*program.argv, "go"], env=program.env, cwd=cwd)
    if code != 0:
        raise SystemExit(f"{program.name} {scenario} failed (exit {code}):\n{err}")
    changed = (cwd / "big.txt").read_text().count("CHANGED")
    if scenario == "apply_patch" and changed != patch.count("+CHANGED"):
        raise SystemExit(f"{program.name} did not apply the patch ({changed} chunks applied):\n{err}")
    return wall, peak_kib / 1024


def whole_process(content: str, patch: str, runs: int, peer: str | None, sandbox: str, slash_tmp: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="codex-bench-patch-"))
    cwd = work / "repo"
    (cwd / ".git").mkdir(parents=True)
    starts: list[tuple[str, list[str]]] = [("python", our_codex())]
    if peer:
        starts.append(("rust", [peer]))
    with MockModelServer() as mock:
        programs = []
        for name, base in starts:
            home = program_home(name)
            write_config(home, mock)
            if not slash_tmp:
                with (home / "config.toml").open("a") as config:
                    config.write("\n[sandbox_workspace_write]\nexclude_slash_tmp = true\n")
            env = child_env(
                CODEX_HOME=str(home), HOME=str(home), OPENAI_API_KEY="unused", XDG_CACHE_HOME=str(work / "cache")
            )
            argv = [*base, "exec", "--skip-git-repo-check", "-s", sandbox]
            programs.append(Program(name, argv, env))
        for program in programs:
            program.call = detect_patch_tool(program, cwd, mock)
            for scenario in SCENARIOS:
                run_once(program, scenario, cwd, mock, content, patch)  # unmeasured: bytecode, caches
        # Interleaved, so a busy moment of the machine slows every program and scenario alike.
        for _ in range(runs):
            for scenario in SCENARIOS:
                for program in programs:
                    wall, rss = run_once(program, scenario, cwd, mock, content, patch)
                    program.walls.setdefault(scenario, []).append(wall)
                    program.rss.setdefault(scenario, []).append(rss)
    tmp = "" if slash_tmp or sandbox != "workspace-write" else " (/tmp excluded)"
    print(f"codex exec, median of {runs} runs, sandbox {sandbox}{tmp}")
    print(f"{'program':8} {'scenario':12} {'called as':13} {'wall ms':>9} {'peak RSS MiB':>13}")
    for program in programs:
        for scenario in SCENARIOS:
            wall, rss = median_ms(program.walls[scenario]), statistics.median(program.rss[scenario])
            how = program.call if scenario == "apply_patch" else ""
            print(f"{program.name:8} {scenario:12} {how:13} {wall:9.1f} {rss:13.1f}")
    for program in programs:
        extra = median_ms(program.walls["apply_patch"]) - median_ms(program.walls["one answer"])
        print(f"{program.name}: the patch call adds {extra:.0f} ms to a one-answer run")
    if len(programs) == 2:
        ours, theirs = programs
        for scenario in SCENARIOS:
            ratio = median_ms(ours.walls[scenario]) / median_ms(theirs.walls[scenario])
            spread = pair_ratios(ours.walls[scenario], theirs.walls[scenario])
            print(f"ratio python/rust {scenario}: wall {ratio:.2f}x ({spread})")
    else:
        print("(Rust peer not found: npm install --prefix benchmarks/.peer @openai/codex@0.169.0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--peer", help="path of the Rust peer's codex binary")
    parser.add_argument("--sandbox", default="workspace-write", help="sandbox mode for both programs")
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--slash-tmp", action="store_true", help="keep /tmp writable (the default of both programs)")
    parser.add_argument("--in-process-only", action="store_true", help="skip the whole-process runs")
    args = parser.parse_args()
    if not args.in_process_only:
        reexec_in_netns()
    content, patch = big_file(args.lines, args.chunks)
    print(f"a {args.chunks}-chunk patch on a {args.lines:,}-line file ({len(content) / 1e6:.1f} MB)")
    if not args.in_process_only:
        # Before the in-process runs: a child's peak RSS starts from this process's size.
        whole_process(content, patch, args.runs, find_peer(args.peer), args.sandbox, args.slash_tmp)
    in_process(content, patch, args.runs)


if __name__ == "__main__":
    main()
