"""`codex exec` with an MCP server configured: the model calls its tool through the real CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.conftest import RunCodex
from tests.mcp.test_client import FAKE_SERVER
from tests.mock_model import MockModelServer


def test_exec_offers_and_calls_mcp_tools(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml(request_max_retries=0)
        + f"\n[mcp_servers.files]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(FAKE_SERVER))}]\n"
        + "\n[mcp_servers.broken]\ncommand = \"/nonexistent/mcp-server\"\n"
    )
    mock_model.responses_call("files__echo", {"text": "hello through MCP"}, call_id="m1")
    mock_model.responses_text("The server said hello.")

    result = run_codex("exec", "--json", "--skip-git-repo-check", "-s", "workspace-write", "say hi", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    calls = [line["item"] for line in lines if line.get("item", {}).get("type") == "mcp_tool_call"]
    assert [(c["server"], c["tool"], c["status"]) for c in calls] == [
        ("files", "echo", "in_progress"),
        ("files", "echo", "completed"),
    ]
    offered = {tool["name"] for tool in mock_model.requests[0].json["tools"]}
    assert "files__echo" in offered
    outputs = [i for i in mock_model.requests[1].json["input"] if i.get("type") == "function_call_output"]
    assert "hello through MCP" in outputs[0]["output"]
    # The server that cannot start is reported and left out; the session went on.
    errors = [line["item"]["message"] for line in lines if line.get("item", {}).get("type") == "error"]
    assert any("broken" in message for message in errors), lines
