"""`codex exec`'s transcript on stderr reads complete on its own, in the order things happened:
the header, the prompt, each response's items followed by its token count, the answer last.

Compared with the peer (0.169) against the same mock server: it prints `user` + the prompt after
the header and the answer under `codex` at the end of stderr, and prints the answer once when
stdout and stderr are one terminal. It puts its token count after the answer; ours comes before
it, so the answer is the last thing a log holds.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text, Thinking, mock_model  # noqa: F401  (fixture)


@pytest.fixture
def model(mock_model_config: MockModelServer) -> MockModelServer:
    return mock_model_config


def test_the_transcript_runs_prompt_items_tokens_answer(
    model: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    model.responses_turn(
        Thinking(summary=["I should look first"]),
        Text("Let me look."),
        Call("shell", {"command": ["echo", "looked"]}, "c1"),
        usage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
    )
    model.responses_turn(Text("All done."), usage={"input_tokens": 20, "output_tokens": 2, "total_tokens": 22})
    result = run_codex("exec", "-s", "danger-full-access", "please look", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "All done.\n"
    lines = result.stderr.splitlines()
    body = lines[lines.index("--------") :]
    assert body[:3] == ["--------", "user", "please look"]
    story = [line for line in body if not line.startswith(("succeeded in", "exec "))]
    assert story == [
        "--------",
        "user",
        "please look",
        "thinking",
        "I should look first",
        "codex",
        "Let me look.",
        "looked",
        "tokens used: 15",  # after the items of the first response, not before them
        "tokens used: 37",
        "codex",
        "All done.",  # the answer closes the log
    ]
    assert any(line.startswith("exec echo looked") for line in body[body.index("Let me look.") :])


def test_piped_stdin_is_part_of_the_echoed_prompt(
    model: MockModelServer, git_workspace: Path, run_codex: RunCodex
) -> None:
    model.responses_text("reviewed")
    result = run_codex("exec", "review this", stdin="diff --git a b\n", cwd=git_workspace)
    assert result.returncode == 0, result.stderr
    assert "user\nreview this\n\n<stdin>\ndiff --git a b\n</stdin>\n" in result.stderr


def test_on_one_terminal_the_answer_is_shown_once(
    model: MockModelServer, git_workspace: Path, codex_home: Path
) -> None:
    model.responses_text("only once")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "codex", "exec", "say it"],
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, cwd=git_workspace,
        env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert process.wait(timeout=30) == 0, seen
    screen = seen.decode().replace("\r\n", "\n")
    assert screen.count("only once") == 1
    assert screen.rstrip().endswith("codex\nonly once")
