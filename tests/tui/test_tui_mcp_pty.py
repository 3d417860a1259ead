"""A stdio MCP server in the terminal UI: it starts, its tool is called, its stderr goes to its log."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from tests.mcp.test_client import FAKE_SERVER
from tests.mock_model import MockModelServer
from tests.tui.pty_harness import PtyCodex

READY = "⏎ send"
StartCodex = Callable[..., PtyCodex]


def test_a_stdio_mcp_server_works_and_its_stderr_goes_to_its_log(
    start_codex: StartCodex, mock_model: MockModelServer, codex_home: Path
) -> None:
    with (codex_home / "config.toml").open("a", encoding="utf-8") as config:
        config.write(f"\n[mcp_servers.files]\ncommand = {json.dumps(sys.executable)}\n"
                     f"args = [{json.dumps(FAKE_SERVER)}]\n")
    mock_model.responses_call("files__echo", {"text": "hello from the terminal"}, call_id="m1")
    mock_model.responses_text("The server answered.")

    term = start_codex()
    term.wait_for(READY)
    term.send("call the server\r")
    screen = term.wait_for("The server answered.")

    assert "left out" not in screen and "fileno" not in screen
    assert "✓ files.echo" in screen
    outputs = [i for i in mock_model.requests[1].json["input"] if i.get("type") == "function_call_output"]
    assert "hello from the terminal" in outputs[0]["output"]
    log = (codex_home / "log" / "mcp-files.log").read_text(encoding="utf-8")
    assert "fake server: started" in log
    assert "fake server: echo called with 'hello from the terminal'" in log
    assert "fake server:" not in term.text()  # nothing the server printed tore the screen
