"""One question per command over MCP elicitation: the question says where the command runs.

Under ``untrusted`` with a read-only sandbox, approving ``touch x`` is one elicitation that says
"outside the sandbox", and the file is made (or not, per the answer); under ``on-failure`` a
sandbox denial is one elicitation to run it again outside. Driven by the official SDK client.
"""

from __future__ import annotations

from pathlib import Path

import mcp_types as types
import pytest

from tests.mcp.harness import SdkClient, text_of
from tests.mcp.test_server_sdk import answer_with, codex_call, request_text
from tests.mock_model import MockModelServer

TOUCH = {"command": ["bash", "-c", "touch x"]}


@pytest.mark.parametrize(("decision", "made"), [("approved", True), ("approved_for_session", True), ("denied", False)])
def test_untrusted_read_only_touch_is_one_question_that_says_outside(
    shared_server: SdkClient, mock_model: MockModelServer, workspace: Path, decision: str, made: bool
) -> None:
    mock_model.chat_call("shell", TOUCH)
    mock_model.chat_text("done")
    shared_server.answer = answer_with(types.ElicitResult(action="accept", content={"decision": decision}))
    asked_before = len(shared_server.asked)

    result = shared_server.call("codex", codex_call(mock_model, workspace, "make x", sandbox="read-only"))

    assert text_of(result) == "done"
    questions = shared_server.asked[asked_before:]
    assert len(questions) == 1
    assert "touch x" in questions[0].message and "outside the sandbox" in questions[0].message
    assert (workspace / "x").exists() is made
    if made:
        assert "Exit code: 0" in request_text(mock_model, 1)


def test_on_failure_sandbox_denial_is_one_question_to_run_outside(
    shared_server: SdkClient, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.chat_call("shell", TOUCH)
    mock_model.chat_text("done")
    shared_server.answer = answer_with(types.ElicitResult(action="accept", content={"decision": "approved"}))
    asked_before = len(shared_server.asked)

    arguments = codex_call(mock_model, workspace, "make x", sandbox="read-only", **{"approval-policy": "on-failure"})
    result = shared_server.call("codex", arguments)

    assert text_of(result) == "done"
    questions = shared_server.asked[asked_before:]
    assert len(questions) == 1
    assert "sandbox denied" in questions[0].message and "outside the sandbox" in questions[0].message
    assert (workspace / "x").exists()
