"""Pulling a model: a real progress bar, errors inside the stream, clear messages, Ctrl-C."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from codex_ollama.pull import PullError, explain_pull_error, pull_model
from fake_ollama import DISK_FULL, GPT_OSS_LAYERS, NO_NETWORK, FakeOllama
from ollama_fixtures import RecordingUI

from codex.ui import StderrUI

TOTAL = sum(GPT_OSS_LAYERS)


def test_pull_sums_layers_into_one_progress_bar(fake_ollama: FakeOllama) -> None:
    ui = RecordingUI()
    pull_model(fake_ollama.base_url, "gpt-oss:20b", ui)

    [progress] = ui.progresses
    assert progress.description == "pulling gpt-oss:20b"
    completed = [c for c, _, _ in progress.updates]
    assert completed == sorted(completed), "progress never goes backwards"
    layer_updates = [(c, t) for c, t, s in progress.updates if s.startswith("pulling ") and s != "pulling manifest"]
    # While the second layer downloads, the total covers both layers.
    assert layer_updates[-1] == (TOTAL, TOTAL)
    assert layer_updates[0][1] == GPT_OSS_LAYERS[0]
    statuses = [s for _, _, s in progress.updates]
    assert "verifying sha256 digest" in statuses and "writing manifest" in statuses
    assert progress.final is not None and progress.final.startswith("pulled gpt-oss:20b (3.0 MB) in ")
    assert fake_ollama.requests[-1].body == {"model": "gpt-oss:20b", "name": "gpt-oss:20b", "stream": True}
    assert "gpt-oss:20b" in fake_ollama.installed


def test_progress_on_a_terminal_shows_percent_bytes_speed_and_eta(fake_ollama: FakeOllama) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake_ollama.pull_delay = 0.03  # the bar redraws at most ten times a second
    screen = Terminal()
    pull_model(fake_ollama.base_url, "gpt-oss:20b", StderrUI(screen))
    frames = [f for f in screen.getvalue().split("\r") if "%" in f]
    assert frames, screen.getvalue()
    assert any(" MB/" in f and "MB/s" in f and "ETA " in f for f in frames)
    assert screen.getvalue().rstrip().endswith("s") and "pulled gpt-oss:20b" in screen.getvalue()


def test_status_lines_are_printed_once_each_when_not_a_terminal(fake_ollama: FakeOllama) -> None:
    log = io.StringIO()
    pull_model(fake_ollama.base_url, "gpt-oss:20b", StderrUI(log))
    lines = log.getvalue().splitlines()
    assert lines[0] == "pulling gpt-oss:20b: pulling manifest"
    assert "pulling gpt-oss:20b: verifying sha256 digest" in lines
    assert "pulling gpt-oss:20b: writing manifest" in lines
    assert len([line for line in lines if line.startswith("pulling gpt-oss:20b: pulling ")]) == 3


def test_error_inside_a_200_stream_is_a_failure(fake_ollama: FakeOllama) -> None:
    fake_ollama.pull_error = DISK_FULL
    ui = RecordingUI()
    with pytest.raises(PullError) as caught:
        pull_model(fake_ollama.base_url, "gpt-oss:20b", ui)
    message = str(caught.value)
    assert message.startswith("not enough disk space to pull gpt-oss:20b (the model needs about 3.0 MB)")
    assert "no space left on device" in message and "the download resumes" in message
    assert "gpt-oss:20b" not in fake_ollama.installed
    assert ui.progresses[0].final == ""  # the bar was closed, no success line


def test_unknown_model_says_where_to_look(fake_ollama: FakeOllama) -> None:
    with pytest.raises(PullError) as caught:
        pull_model(fake_ollama.base_url, "gpt-oss:7b", RecordingUI())
    assert "Ollama does not know the model 'gpt-oss:7b'" in str(caught.value)
    assert "https://ollama.com/library" in str(caught.value)


def test_network_failure_says_to_check_the_connection(fake_ollama: FakeOllama) -> None:
    fake_ollama.pull_error = NO_NETWORK
    with pytest.raises(PullError, match="Check the internet connection"):
        pull_model(fake_ollama.base_url, "gpt-oss:20b", RecordingUI())


def test_server_gone_is_reported_with_the_url() -> None:
    from ollama_fixtures import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(PullError, match=r"lost the connection to Ollama at http://127\.0\.0\.1:\d+ while pulling"):
        pull_model(url, "gpt-oss:20b", RecordingUI())


@pytest.mark.parametrize(
    ("message", "start"),
    [
        ("mkdir /models: no space left on device", "not enough disk space"),
        ("pull model manifest: file does not exist", "Ollama does not know the model"),
        ("Get https://registry.ollama.ai: dial tcp: i/o timeout", "Ollama could not download"),
        ("something else broke", "pulling m failed: something else broke"),
    ],
)
def test_error_messages_are_classified(message: str, start: str) -> None:
    assert explain_pull_error("m", message).startswith(start)


PULL_SCRIPT = """
import asyncio, sys
sys.path[:0] = {paths!r}
from codex.errors import CodexError
from codex.ui import StderrUI
from codex_ollama.pull import pull_model

async def main():
    # As in `codex exec`: startup runs inside asyncio.run, whose SIGINT handler only cancels.
    pull_model({url!r}, "gpt-oss:20b", StderrUI())

try:
    asyncio.run(main())
except CodexError as exc:
    print(exc, file=sys.stderr)
    sys.exit(exc.exit_code)
print("done", file=sys.stderr)
"""


def test_ctrl_c_stops_the_pull_cleanly_and_a_rerun_completes(fake_ollama: FakeOllama) -> None:
    repo = Path(__file__).resolve().parents[2]
    paths = [str(repo), str(repo / "plugins" / "ollama")]
    script = PULL_SCRIPT.format(paths=paths, url=fake_ollama.base_url)
    fake_ollama.pull_delay = 0.2
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not any(r.path == "/api/pull" for r in fake_ollama.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(r.path == "/api/pull" for r in fake_ollama.requests), "the pull never started"
        os.kill(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert process.returncode == 130, stderr
    assert "stopped pulling gpt-oss:20b" in stderr
    assert "run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    assert "gpt-oss:20b" not in fake_ollama.installed

    fake_ollama.pull_delay = 0.0
    rerun = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert "gpt-oss:20b" in fake_ollama.installed
