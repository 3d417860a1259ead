"""`codex exec` with an MCP server configured: the model calls its tool through the real CLI."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

from tests.conftest import RunCodex
from tests.mcp.test_client import FAKE_SERVER
from tests.mock_model import Call, MockModelServer


def server_toml(name: str, *args: str) -> str:
    """A ``[mcp_servers.NAME]`` table that runs fake_server.py with ``args``."""
    argv = json.dumps([FAKE_SERVER, *args])
    return f"\n[mcp_servers.{name}]\ncommand = {json.dumps(sys.executable)}\nargs = {argv}\n"


def write_config(codex_home: Path, mock_model: MockModelServer, *tables: str) -> None:
    """config.toml: the mock model as provider (no retries), then ``tables``."""
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml(request_max_retries=0)
        + "".join(tables)
    )


def test_exec_offers_and_calls_mcp_tools(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    broken = '\n[mcp_servers.broken]\ncommand = "/nonexistent/mcp-server"\n'
    write_config(codex_home, mock_model, server_toml("files"), broken)
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


def test_exec_keeps_servers_stderr_in_their_log_and_quotes_it_when_one_fails(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    write_config(codex_home, mock_model, server_toml("files"), server_toml("crashes", "--crash-at-startup"))
    mock_model.responses_call("files__echo", {"text": "logged call"}, call_id="m1")
    mock_model.responses_text("Done.")

    result = run_codex("exec", "--skip-git-repo-check", "-s", "workspace-write", "say hi", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Done."
    # What the servers said on stderr is in their logs, not in the transcript...
    log = codex_home / "log" / "mcp-files.log"
    text = log.read_text(encoding="utf-8")
    assert "fake server: started" in text
    assert "fake server: echo called with 'logged call'" in text
    assert "fake server: started" not in result.stderr and "echo called" not in result.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    # ...except for a server that failed: its last words are quoted, with the log's path.
    left_out = [line for line in result.stderr.splitlines() if "'crashes' was left out" in line]
    assert len(left_out) == 1, result.stderr
    assert "its stderr ended with: fake server: crashing at startup on purpose" in left_out[0]
    assert str(codex_home / "log" / "mcp-crashes.log") in left_out[0]


def test_a_server_printing_a_banner_on_stdout_costs_one_line_not_a_traceback(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    write_config(codex_home, mock_model, server_toml("chatty", "--stdout-noise"))
    mock_model.responses_call("chatty__echo", {"text": "still works"}, call_id="m1")
    mock_model.responses_text("Done.")

    result = run_codex("exec", "--skip-git-repo-check", "-s", "workspace-write", "say hi", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "ValidationError" not in result.stderr
    noise = [line for line in result.stderr.splitlines() if "not JSON-RPC" in line]
    assert len(noise) == 1, result.stderr
    assert "MCP server 'chatty'" in noise[0] and "Fake Server v1.0 -- starting up" in noise[0]
    log = (codex_home / "log" / "mcp-chatty.log").read_text(encoding="utf-8")
    assert "not JSON-RPC and was ignored] Fake Server v1.0 -- starting up" in log
    outputs = [i for i in mock_model.requests[1].json["input"] if i.get("type") == "function_call_output"]
    assert "still works" in outputs[0]["output"]


def test_mcp_tool_calls_are_checked_against_the_servers_schema_and_show_the_peers_fields(
    mock_model: MockModelServer, codex_home: Path, tmp_path: Path, run_codex: RunCodex
) -> None:
    """MCP tools are the same shape as every tool: the server's inputSchema is their parameters,
    checked by codex's one validator before the server is called; --json items carry the peer's
    arguments, result and error."""
    write_config(codex_home, mock_model, server_toml("files"))
    mock_model.responses_turn(Call("files__echo", {"text": 42}, "bad"), Call("files__add", {"a": 2, "b": 3}, "add"))
    mock_model.responses_text("done")

    result = run_codex("exec", "--json", "--skip-git-repo-check", "-s", "workspace-write", "go", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    outputs = {i["call_id"]: i["output"] for i in mock_model.requests[1].json["input"]
               if i.get("type") == "function_call_output"}
    assert outputs["bad"].startswith("error: invalid arguments for files__echo: text: expected a string; got 42.")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    calls = [line["item"] for line in lines if line.get("item", {}).get("type") == "mcp_tool_call"]
    # The refused call never reached the server: only the add call is an MCP item.
    assert [(c["tool"], c["status"]) for c in calls] == [("add", "in_progress"), ("add", "completed")]
    started, completed = calls
    assert started["arguments"] == {"a": 2, "b": 3} and started["result"] is None and started["error"] is None
    assert completed["result"]["structured_content"] == {"sum": 5}
    assert completed["result"]["content"] and completed["error"] is None
