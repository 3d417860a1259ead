"""``/review`` in the interactive terminal: findings on the screen, then in the conversation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.mock_model import MockModelServer
from tests.tui.pty_harness import PtyCodex

READY = "⏎ send"
StartCodex = Callable[..., PtyCodex]

FINDINGS = {
    "findings": [{
        "title": "Say what the demo does",
        "body": "A heading alone tells a reader nothing.",
        "priority": 2,
        "confidence_score": 0.6,
        "code_location": {"file_path": "README.md", "line_range": {"start": 2, "end": 2}},
    }],
    "overall_correctness": "patch is correct",
    "overall_explanation": "Only documentation changed.",
    "overall_confidence_score": 0.9,
}


def test_slash_review_shows_findings_and_the_next_turn_knows_them(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    (workspace / "README.md").write_text("# demo\nTODO: explain\n", encoding="utf-8")
    mock_model.responses_text(json.dumps(FINDINGS))
    mock_model.responses_text("Fixed the README.")
    term = start_codex()
    term.wait_for(READY)
    term.send("/review mind the wording\r")
    screen = term.wait_for("README.md:2: [P2] Say what the demo does")
    assert "  A heading alone tells a reader nothing." in screen
    assert "patch is correct (confidence 0.90): Only documentation changed." in screen
    review_request = json.dumps(mock_model.requests[0].json["input"])
    assert "+TODO: explain" in review_request and "mind the wording" in review_request
    assert "<sandbox_mode>read-only</sandbox_mode>" in review_request
    term.wait_for("ask codex to fix them")
    term.wait_for(READY)
    term.send("fix it\r")
    term.wait_for("Fixed the README.")
    # The conversation carries the findings, not the review's own prompt.
    follow_up = json.dumps(mock_model.requests[1].json["input"])
    assert "README.md:2: [P2] Say what the demo does" in follow_up
    assert "<diff>" not in follow_up


def test_slash_review_on_a_clean_tree_and_with_a_bad_branch(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    term = start_codex()
    term.wait_for(READY)
    term.send("/review\r")
    term.wait_for("nothing to review: the diff of the uncommitted changes")
    term.send("/review --base nowhere\r")
    term.wait_for("--base nowhere: git knows no commit or branch by that name")
    assert mock_model.requests == []


def test_ctrl_c_stops_a_running_review_and_the_session_goes_on(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    (workspace / "README.md").write_text("# demo\nTODO: explain\n", encoding="utf-8")
    # The review's model sends one event, then nothing: only Ctrl-C ends the wait.
    mock_model.responses_text(json.dumps(FINDINGS), stall_after_events=1)
    mock_model.responses_text("Still here.")
    term = start_codex()
    term.wait_for(READY)
    term.send("/review\r")
    term.wait_for("(Ctrl-C stops)")
    mock_model.wait_for_requests(1)  # the review's request is out and its answer stalls
    term.send("\x03")
    screen = term.wait_for("review stopped")
    assert "Press Ctrl-C again to quit" not in screen
    assert "README.md:2" not in screen
    term.send("are you there?\r")
    term.wait_for("Still here.")
    assert "<diff>" in json.dumps(mock_model.requests[0].json["input"])
    assert len(mock_model.requests) == 2
