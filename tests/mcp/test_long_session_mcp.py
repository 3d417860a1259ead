"""A long session through `codex mcp`, driven by the official MCP SDK client: it compacts on its
own and ends under the window, and `codex-reply` with ``compact: true`` summarises on request."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from codex.compaction import SUMMARY_PROMPT, SUMMARY_TAG
from tests.long_session import LongSessionModel
from tests.mcp.harness import SdkClient, text_of
from tests.mock_model import MockModelServer

WINDOW = 8_000


def long_call(mock: MockModelServer, cwd: Path, prompt: str) -> dict[str, Any]:
    """`codex` arguments for a session in ``cwd`` with a small window, on the Responses wire."""
    config = {
        "model_providers.mock.base_url": mock.base_url,
        "model_providers.mock.wire_api": "responses",
        "model_context_window": WINDOW,
    }
    return {"prompt": prompt, "cwd": str(cwd), "config": config, "approval-policy": "never", "sandbox": "read-only"}


def last_message(mock: MockModelServer) -> str:
    item = mock.requests[-1].json["input"][-1]
    return "".join(part["text"] for part in item["content"])


def test_mcp_long_session_compacts_and_reply_can_compact(
    shared_server: SdkClient, mock_model: MockModelServer, workspace: Path
) -> None:
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    model = LongSessionModel(window=WINDOW, commands=16)
    mock_model.responder = model
    before = len(shared_server.events)

    result = shared_server.call("codex", long_call(mock_model, workspace, "run the numbered commands"))

    assert not result.is_error, text_of(result)
    assert text_of(result) == "done: all 16 commands ran"
    assert model.calls_made == 16 and model.over_window == 0 and model.summaries >= 1
    events = [e["msg"] for e in shared_server.events[before:]]
    compacted = [e for e in events if e["type"] == "context_compacted"]
    assert len(compacted) == model.summaries and all(e["reason"] == "auto" for e in compacted)
    counts = [e for e in events if e["type"] == "token_count"]
    assert counts and counts[-1]["model_context_window"] == WINDOW
    summaries = model.summaries

    thread_id = result.structured_content["threadId"]
    reply = shared_server.call("codex-reply", {"prompt": "what is left?", "threadId": thread_id, "compact": True})

    assert not reply.is_error, text_of(reply)
    assert model.summaries == summaries + 1
    summary_request = mock_model.requests[model.summary_requests[-1] - 1].json
    assert last_message_of(summary_request) == SUMMARY_PROMPT
    answered = mock_model.requests[-1].json
    sent = json.dumps(answered["input"])
    assert f"<{SUMMARY_TAG}>" in sent and "function_call_output" not in sent
    assert last_message(mock_model) == "what is left?"
    manual = [e["msg"] for e in shared_server.events if e.get("msg", {}).get("type") == "context_compacted"]
    assert manual[-1]["reason"] == "manual"


def last_message_of(request_json: dict[str, Any]) -> str:
    return "".join(part["text"] for part in request_json["input"][-1]["content"])
