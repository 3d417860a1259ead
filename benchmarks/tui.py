"""How quickly the interactive terminal is ready, and how quickly it echoes keys while busy.

Run: ``python benchmarks/tui.py [--runs 11] [--keys 40] [--peer PATH] [--json]``

Measured in a real pseudo-terminal (80x40), codex started as a user starts it, against a mock
model server running in its own process (tests/mock_model.py on 127.0.0.1) so the server does
not compete with the benchmark for the GIL:

- **prompt ready**: launch -> the input prompt is on the screen. From then on keys are read
  and echoed (the engine is still loading in a worker thread; a message sent now is delivered
  when the session is ready). Target: under 150 ms.
- **rust peer prompt ready**: the same for the Rust CLI (found as ``benchmarks/exec.py`` finds
  it, or ``--peer PATH``), until its composer shows "Ask Codex to do anything"; the benchmark
  then runs in a private network namespace with only loopback up, as ``exec.py`` does.
- **session ready**: launch -> the header with the session id is drawn (config, plugins, the
  wire client and the sandbox probes all loaded, the session started).
- **python in a pty**: ``python -c`` printing one line, the same way, as the floor.
- **first keystroke echo**: a key typed the moment the prompt shows, until it is echoed (the
  engine is still loading then).
- **keystroke echo while preloading**: keys typed 30 ms apart from the moment the session is
  ready, while the first turn's imports load in the background (``codex/cli/tui/preload.py``).
- **first answer after typing**: those keys make a message; Enter -> the first delta of the
  answer from the mock model on the screen. Each launch runs with the preloading and without it
  (``CODEX_TUI_PRELOAD=0``), so the difference is what preloading saves the person.
- **second answer (floor)**: the same for a second message in that session, where everything is
  imported and the connection is open: what the first answer can at best come down to.
- **keystroke echo while streaming**: while a long answer streams (one SSE event per TCP
  write), a key is typed every 100 ms and the time until the input row shows it is taken.

Each launch is timed in rounds that interleave the cases, so a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pexpect  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import find_peer, reexec_in_netns  # noqa: E402  (needs ROOT on sys.path)

PROMPT_MARK = b"Ask codex to do anything"
PEER_PROMPT_MARK = b"Ask Codex to do anything"
SESSION_MARK = b"\xe2\x8f\x8e send"  # the hint under the prompt, drawn once the session is ready
TARGET_PROMPT_MS = 150.0
STREAM_WORDS = 4000
FIRST_MESSAGE = "explain this repository"  # typed after the session is ready, 30 ms per key
ANSWER_MARK = b"Pineapple"  # the first delta of the short answers
KEY_GAP_SECONDS = 0.03


def codex_argv() -> list[str]:
    """Our CLI as a user runs it, with the interpreter called directly (no PATH shim)."""
    import shutil

    script = shutil.which("codex", path=str(Path(sys.executable).parent))
    return [sys.executable, script] if script else [sys.executable, "-m", "codex"]


def serve(short: int, turns: int) -> None:
    """The server process: ``short`` one-line answers, then ``turns`` slow streaming answers;
    prints its base URL; ends with stdin."""
    from tests.mock_model import MockModelServer, Text, responses_frames, sse_body

    words = " ".join(f"lorem{n % 10}" for n in range(STREAM_WORDS))
    with MockModelServer() as mock:
        for _ in range(short):
            mock.enqueue(sse_body(responses_frames([Text(ANSWER_MARK.decode() + " is the answer.")])))
        for _ in range(turns):
            reply = sse_body(responses_frames([Text(words)]))
            reply.apply_faults(split_at=reply.event_ends)  # one write per event, 2 ms apart
            mock.enqueue(reply)
        print(mock.base_url, flush=True)
        sys.stdin.read()


class Pty:
    """A child in a pseudo-terminal with every byte it wrote and when it arrived."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        self.started = time.perf_counter()
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=cwd, dimensions=(40, 80))
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before every send by default
        self.output = bytearray()

    def wait_for(self, needle: bytes, timeout: float = 30.0, start: int = 0) -> float:
        """Seconds since launch when ``needle`` appeared in the output after offset ``start``."""
        deadline = time.perf_counter() + timeout
        while needle not in self.output[start:]:
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out waiting for {needle!r}; output tail: {bytes(self.output[-400:])!r}")
            try:
                self.output += self.child.read_nonblocking(65536, timeout=0.01)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF as exc:
                raise SystemExit(f"the process ended before {needle!r}: {bytes(self.output[-400:])!r}") from exc
        return time.perf_counter() - self.started

    def end(self) -> None:
        self.child.sendcontrol("d")
        try:
            self.child.expect(pexpect.EOF, timeout=10)
        except pexpect.TIMEOUT:
            self.child.terminate(force=True)
        self.child.close()


def environment(home: str, base_url: str) -> dict[str, str]:
    """CODEX_HOME with the mock provider; colours on, as in a person's terminal."""
    Path(home, "config.toml").write_text(
        f'model = "mock-model"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "Mock"\n'
        f'base_url = "{base_url}"\nwire_api = "responses"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONDONTWRITEBYTECODE", "CODEX_DEBUG")}
    env.update(CODEX_HOME=home, TERM="xterm-256color", LANG="C.UTF-8", XDG_CACHE_HOME=os.path.join(home, "cache"))
    return env


def peer_environment(home: str, base_url: str, workspace: str) -> dict[str, str]:
    """The Rust peer's CODEX_HOME (and HOME): the same mock, analytics off, the workspace trusted
    (so no onboarding question comes before the prompt)."""
    Path(home, "config.toml").write_text(
        f'model = "mock-model"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "Mock"\n'
        f'base_url = "{base_url}"\nwire_api = "responses"\n[analytics]\nenabled = false\n'
        f'[projects."{workspace}"]\ntrust_level = "trusted"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CODEX_DEBUG")}
    env.update(CODEX_HOME=home, HOME=home, OPENAI_API_KEY="unused", TERM="xterm-256color", LANG="C.UTF-8")
    return env


def peer_prompt_ready(peer: str, env: dict[str, str], cwd: str) -> float:
    """Seconds from launching the Rust peer until its prompt is on the screen."""
    rust = Pty([peer], env, cwd)
    ready = rust.wait_for(PEER_PROMPT_MARK)
    rust.child.terminate(force=True)
    rust.child.close()
    return ready


def launch_times(
    env: dict[str, str], cwd: str, runs: int, peer: tuple[str, dict[str, str]] | None = None
) -> dict[str, list[float]]:
    """Prompt-ready and session-ready times of ``runs`` launches, with the python floor."""
    samples: dict[str, list[float]] = {"python in a pty": [], "prompt ready": [], "session ready": []}
    warm = Pty(codex_argv(), env, cwd)  # bytecode compiled, caches filled: the run people feel
    warm.wait_for(SESSION_MARK)
    warm.end()
    if peer is not None:
        samples["rust peer prompt ready"] = []
        peer_prompt_ready(peer[0], peer[1], cwd)  # its first run greets a new user
    for _ in range(runs):
        if peer is not None:
            samples["rust peer prompt ready"].append(peer_prompt_ready(peer[0], peer[1], cwd))
        floor = Pty([sys.executable, "-c", "print('ready')"], env, cwd)
        samples["python in a pty"].append(floor.wait_for(b"ready"))
        floor.child.close()
        codex = Pty(codex_argv(), env, cwd)
        samples["prompt ready"].append(codex.wait_for(PROMPT_MARK))
        samples["session ready"].append(codex.wait_for(SESSION_MARK))
        codex.end()
    return samples


def first_key_echo(env: dict[str, str], cwd: str) -> float:
    """Seconds from typing a key the moment the prompt shows until the key is on the screen."""
    codex = Pty(codex_argv(), env, cwd)
    codex.wait_for(PROMPT_MARK)
    offset = len(codex.output)
    sent = time.perf_counter()
    codex.child.send("Z")
    codex.wait_for(b"Z", start=offset)
    echoed = time.perf_counter() - sent
    codex.wait_for(SESSION_MARK)
    codex.child.send("\x7f")  # an empty prompt again, so Ctrl-D leaves
    codex.end()
    return echoed


def first_answer(env: dict[str, str], cwd: str, preload: bool) -> tuple[float, float, list[float]]:
    """Type the first message from the moment the session is ready (each key's echo timed),
    press Enter; seconds until the first delta shows, the same for a second message (the floor:
    everything imported, the connection open), and the echo latencies."""
    codex = Pty(codex_argv(), {**env, "CODEX_TUI_PRELOAD": "1" if preload else "0"}, cwd)
    codex.wait_for(SESSION_MARK)
    echoes: list[float] = []
    typed = ""
    for char in FIRST_MESSAGE:
        typed += char
        offset = len(codex.output)
        sent = time.perf_counter()
        codex.child.send(char)
        needle = typed[-12:].encode()
        codex.wait_for(needle, start=max(0, offset - len(needle)))
        echoes.append(time.perf_counter() - sent)
        time.sleep(max(0.0, KEY_GAP_SECONDS - echoes[-1]))
    offset = len(codex.output)
    sent = time.perf_counter()
    codex.child.send("\r")
    codex.wait_for(ANSWER_MARK, start=offset)
    answered = time.perf_counter() - sent
    codex.wait_for(b"tokens:", start=offset)
    codex.child.send("and now?")
    codex.wait_for(b"and now?", start=offset)
    offset = len(codex.output)
    sent = time.perf_counter()
    codex.child.send("\r")
    codex.wait_for(ANSWER_MARK, start=offset)
    again = time.perf_counter() - sent
    codex.wait_for(b"tokens:", start=offset)
    codex.end()
    return answered, again, echoes


def first_answers(env: dict[str, str], cwd: str, runs: int) -> dict[str, list[float]]:
    """``first_answer`` with and without preloading, interleaved; the first key's echo too."""
    samples: dict[str, list[float]] = {name: [] for name in (
        "first keystroke echo", "echo while preloading", "echo, preloading off",
        "first answer, preloaded", "first answer, not preloaded", "second answer (floor)")}
    for _ in range(runs):
        samples["first keystroke echo"].append(first_key_echo(env, cwd))
        for preload in (True, False):
            answered, again, echoes = first_answer(env, cwd, preload)
            samples["second answer (floor)"].append(again)
            samples["first answer, preloaded" if preload else "first answer, not preloaded"].append(answered)
            samples["echo while preloading" if preload else "echo, preloading off"].extend(echoes)
    return samples


def echo_latency(env: dict[str, str], cwd: str, keys: int) -> dict[str, Any]:
    """Type ``keys`` keys, 100 ms apart, while an answer streams; seconds until each shows."""
    codex = Pty(codex_argv(), env, cwd)
    codex.wait_for(SESSION_MARK)
    codex.child.send("stream please\r")
    codex.wait_for(b"lorem", timeout=60)
    codex.child.send("#")
    typed = "#"
    codex.wait_for(typed.encode(), start=len(codex.output))
    latencies: list[float] = []
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    streaming_at_end = True
    for index in range(keys):
        char = alphabet[index % len(alphabet)]
        typed += char
        offset = len(codex.output)
        sent = time.perf_counter()
        codex.child.send(char)
        needle = typed[-12:].encode()
        codex.wait_for(needle, start=max(0, offset - len(needle)))
        latencies.append(time.perf_counter() - sent)
        time.sleep(0.1)
    streaming_at_end = b"tokens:" not in codex.output
    codex.child.sendcontrol("c")
    codex.child.sendcontrol("c")
    codex.end()
    return {"latencies": latencies, "still_streaming_at_the_end": streaming_at_end}


def summary(values: list[float]) -> dict[str, float]:
    """Median, p90 and max in milliseconds."""
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "p90_ms": round(p90 * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def main() -> int:
    """Print the results; exit 1 when the prompt-ready target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="launches per case (default 11)")
    parser.add_argument("--keys", type=int, default=40, help="keys typed while streaming (default 40)")
    parser.add_argument("--peer", help="the Rust peer's codex binary (default: found as exec.py finds it)")
    parser.add_argument("--no-peer", action="store_true", help="skip the Rust peer")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--short", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.short, options.serve)
        return 0

    runs = max(1, options.runs)
    peer = None if options.no_peer else find_peer(options.peer)
    if peer is not None:
        reexec_in_netns()  # the peer looks up github.com at start: only loopback, as in exec.py
    server = subprocess.Popen([sys.executable, __file__, "--serve", "3", "--short", str(4 * runs)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as workspace, \
                tempfile.TemporaryDirectory() as peer_home:
            env = environment(home, base_url)
            rust = (peer, peer_environment(peer_home, base_url, workspace)) if peer is not None else None
            launches = launch_times(env, workspace, runs, rust)
            answers = first_answers(env, workspace, runs)
            echo = echo_latency(env, workspace, max(1, options.keys))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(30)

    report: dict[str, Any] = {name: summary(values) for name, values in {**launches, **answers}.items()}
    report["keystroke echo while streaming"] = summary(echo["latencies"])
    report["runs"] = options.runs
    report["keys"] = options.keys
    report["answer still streaming after the last key"] = echo["still_streaming_at_the_end"]
    missed = report["prompt ready"]["median_ms"] > TARGET_PROMPT_MS
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"codex started as: {' '.join(codex_argv())}; {options.runs} launches, {options.keys} keys")
        print(f"{'case':<34}{'median':>10}{'p90':>10}{'max':>10}")
        names = ("python in a pty", "prompt ready", "rust peer prompt ready", "session ready", "first keystroke echo",
                     "echo while preloading", "echo, preloading off", "first answer, preloaded",
                     "first answer, not preloaded", "second answer (floor)", "keystroke echo while streaming")
        for name in (name for name in names if name in report):
            row = report[name]
            print(f"{name:<34}{row['median_ms']:>8.1f}ms{row['p90_ms']:>8.1f}ms{row['max_ms']:>8.1f}ms")
        print(f"target: prompt ready < {TARGET_PROMPT_MS:.0f} ms" + ("  MISSED" if missed else "  met"))
        if not echo["still_streaming_at_the_end"]:
            print("note: the answer finished before the last key; raise STREAM_WORDS for a longer stream")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
