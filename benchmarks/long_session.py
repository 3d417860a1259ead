"""A long session: 200 model turns of 20 KB command outputs against a 32k-token window.

`codex exec --json` runs one task in which a scripted loopback model (tests/long_session.py)
asks for 200 shell commands, each printing ~20 KB, one per model turn, then answers. The model
bills what it reads: input tokens at 4 bytes per token of each request body, cached tokens as
the prefix shared with the previous request in 128-token blocks (OpenAI's prompt cache), and
it refuses any request over the window with `context_length_exceeded`. The session runs twice:
with the tool output budget (the default, a 16th of the window per command) and without it
(`tool_output_token_limit` = 10^9: only the shell tool's own 16 KiB cap remains).

Reported per run: whether it completed, requests over the window, compactions, the peak request,
input tokens billed (and the cached part); then the ratio of billed input with/without the budget.

    python benchmarks/long_session.py [--turns 200] [--window 32000] [--output-bytes 20000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import child_env, our_codex
from tests.long_session import LongSessionModel
from tests.mock_model import MockModelServer


@dataclass
class Outcome:
    """One run of the long session."""

    label: str
    completed: bool
    seconds: float
    requests: int
    over_window: int
    compactions: int
    peak_tokens: int
    input_tokens: int
    cached_tokens: int


def run_session(label: str, turns: int, window: int, output_bytes: int, extra_config: str) -> Outcome:
    """One `codex exec --json` long session against a fresh scripted model."""
    with MockModelServer() as mock, tempfile.TemporaryDirectory() as tmp:
        model = LongSessionModel(window=window, commands=turns, output_bytes=output_bytes)
        mock.responder = model
        home, work = Path(tmp) / "home", Path(tmp) / "work"
        home.mkdir()
        work.mkdir()
        subprocess.run(["git", "init", "-q", str(work)], check=True)
        (home / "config.toml").write_text(
            f'model = "mock-model"\nmodel_provider = "mock"\nmodel_context_window = {window}\n{extra_config}'
            + mock.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
        )
        env = child_env(CODEX_HOME=str(home), XDG_CACHE_HOME=str(Path(tmp) / "cache"))
        started = time.perf_counter()
        done = subprocess.run(
            [*our_codex(), "exec", "--json", "run the numbered commands"],
            cwd=work, env=env, capture_output=True, text=True, timeout=1800, check=False,
        )
        seconds = time.perf_counter() - started
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        compactions = sum(1 for line in lines if line.get("item", {}).get("type") == "context_compaction")
        answer = [line["item"]["text"] for line in lines if line.get("item", {}).get("type") == "agent_message"]
        completed = done.returncode == 0 and bool(answer) and answer[-1] == f"done: all {turns} commands ran"
        if not completed:
            print(f"{label}: exit {done.returncode}: {done.stderr[-1500:]}", file=sys.stderr)
        return Outcome(label, completed, seconds, model.requests, model.over_window, compactions,
                       model.peak_tokens, model.input_tokens, model.cached_tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200, help="commands the model asks for (one per turn)")
    parser.add_argument("--window", type=int, default=32_000, help="the context window in tokens")
    parser.add_argument("--output-bytes", type=int, default=20_000, help="bytes each command prints")
    args = parser.parse_args()

    runs = [
        run_session("with budget", args.turns, args.window, args.output_bytes, ""),
        run_session("without budget", args.turns, args.window, args.output_bytes,
                    "tool_output_token_limit = 1000000000\n"),
    ]
    print(f"{args.turns} turns of {args.output_bytes:,}-byte outputs, {args.window:,}-token window")
    print(f"{'run':<16}{'done':>6}{'secs':>8}{'requests':>10}{'over':>6}{'compactions':>13}"
          f"{'peak':>8}{'input billed':>14}{'cached':>12}{'uncached':>12}")
    for r in runs:
        print(f"{r.label:<16}{'yes' if r.completed else 'NO':>6}{r.seconds:>8.1f}{r.requests:>10}{r.over_window:>6}"
              f"{r.compactions:>13}{r.peak_tokens:>8,}{r.input_tokens:>14,}{r.cached_tokens:>12,}"
              f"{r.input_tokens - r.cached_tokens:>12,}")
    with_budget, without = runs
    if without.input_tokens:
        billed = with_budget.input_tokens / without.input_tokens
        print(f"input billed, with/without the tool output budget: {billed:.2f}")
        fresh_with = with_budget.input_tokens - with_budget.cached_tokens
        fresh_without = without.input_tokens - without.cached_tokens
        print(f"uncached input, with/without: {fresh_with / max(1, fresh_without):.2f}")
    if not all(r.completed and r.over_window == 0 for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
