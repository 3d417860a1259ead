"""`codex mcp` processes of their own: restarts, clients without elicitation, raw JSON-RPC.

The raw client sees the wire as it is: protocol negotiation, the `codex_*` elicitation fields,
the peer's `{decision}` answer shape, progress tokens, and JSON-RPC errors for malformed input.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.mcp.harness import RawClient, SdkClient, config_toml, text_of, wait_until
from tests.mock_model import MockModelServer


def _home(tmp_path: Path, mock: MockModelServer, extra: str = "") -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(config_toml(mock.base_url, extra), encoding="utf-8")
    return home


UNTRUSTED = 'approval_policy = "untrusted"\nsandbox_mode = "danger-full-access"\n'


def test_reply_continues_a_session_after_the_server_restarts(mock_model: MockModelServer, tmp_path: Path,
                                                              workspace: Path) -> None:
    home = _home(tmp_path, mock_model)
    mock_model.chat_text("The answer is 42.")
    with SdkClient(home, workspace) as first_server:
        first = first_server.call("codex", {"prompt": "what is the answer?"})
    thread_id = first.structured_content["threadId"]

    mock_model.chat_text("I said 42 before.")
    with SdkClient(home, workspace) as second_server:
        reply = second_server.call("codex-reply", {"prompt": "what did you say?", "conversationId": thread_id})

    assert not reply.is_error, text_of(reply)
    assert reply.structured_content == {"threadId": thread_id, "content": "I said 42 before."}
    resumed = json.dumps(mock_model.requests[1].json)
    assert "what is the answer?" in resumed and "The answer is 42." in resumed and "what did you say?" in resumed


def test_a_client_without_elicitation_gets_denials_not_hangs(mock_model: MockModelServer, tmp_path: Path,
                                                              workspace: Path) -> None:
    home = _home(tmp_path, mock_model, UNTRUSTED)
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    mock_model.chat_text("I could not get approval.")

    with SdkClient(home, workspace, elicitation=False) as server:
        result = server.call("codex", {"prompt": "init"})

    assert text_of(result) == "I could not get approval."
    assert not (workspace / ".git").exists()
    assert "no elicitation support" in json.dumps(mock_model.requests[1].json)


def test_raw_wire_negotiation_peer_answers_and_codex_fields(mock_model: MockModelServer, tmp_path: Path,
                                                            workspace: Path) -> None:
    home = _home(tmp_path, mock_model, UNTRUSTED)
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    mock_model.chat_text("repository ready")

    with RawClient(home, workspace) as client:
        client.on_request = lambda request: {"decision": "approved"}  # the peer's answer shape
        hello = client.initialize("2025-06-18")["result"]
        assert hello["protocolVersion"] == "2025-06-18"
        assert hello["serverInfo"]["name"] == "codex-mcp-server" and hello["serverInfo"]["title"] == "Codex"
        assert "tools" in hello["capabilities"]

        listed = client.request("tools/list")["result"]["tools"]
        codex_tool = next(tool for tool in listed if tool["name"] == "codex")
        assert codex_tool["inputSchema"]["required"] == ["prompt"]
        assert set(codex_tool["outputSchema"]["properties"]) == {"threadId", "content"}

        reply = client.request(
            "tools/call", {"name": "codex", "arguments": {"prompt": "init"}, "_meta": {"progressToken": "p-1"}}
        )
        request_id = reply["id"]
        result = reply["result"]

    assert result["content"][0]["text"] == "repository ready"
    assert result["structuredContent"]["content"] == "repository ready"
    assert (workspace / ".git").is_dir()
    (elicitation,) = client.server_requests
    assert elicitation["method"] == "elicitation/create"
    params = elicitation["params"]
    assert params["codex_elicitation"] == "exec-approval"
    assert params["codex_command"] == ["git", "init"]
    assert params["codex_cwd"] == str(workspace)
    assert params["codex_mcp_tool_call_id"] == str(request_id)
    assert params["codex_call_id"] and params["codex_event_id"] and params["codex_reason"]
    assert params["requestedSchema"]["properties"]["decision"]["enum"][0] == "approved"
    events = [n["params"] for n in client.notifications if n["method"] == "codex/event"]
    assert all(e["_meta"]["requestId"] == request_id for e in events)
    approval_event = next(e for e in events if e["msg"]["type"] == "exec_approval_request")
    assert approval_event["id"] == params["codex_event_id"]
    progress = [n["params"] for n in client.notifications if n["method"] == "notifications/progress"]
    assert progress and all(p["progressToken"] == "p-1" for p in progress)


def test_malformed_input_gets_jsonrpc_errors_and_the_server_lives_on(tmp_path: Path, workspace: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    with RawClient(home, workspace) as client:
        # An unknown (future) version is answered with the newest one the server speaks.
        assert client.initialize("2099-01-01")["result"]["protocolVersion"] == "2025-11-25"

        client.send("{this is not json")
        parse_error = client.response()
        assert parse_error["error"]["code"] == -32700 and parse_error["id"] is None

        client.send({"jsonrpc": "2.0", "id": 7, "method": 3})
        invalid = client.response()
        assert invalid["error"]["code"] == -32600 and invalid["id"] == 7

        assert client.request("no/such/method")["error"]["code"] == -32601
        assert client.request("tools/call", {"name": 5})["error"]["code"] == -32602
        unknown_tool = client.request("tools/call", {"name": "rm-rf", "arguments": {}})
        assert "unknown tool 'rm-rf'" in unknown_tool["error"]["message"]

        bad_arguments: dict[str, Any] = client.request(
            "tools/call", {"name": "codex", "arguments": {"prompt": "", "sandbox": "open"}}
        )["result"]
        assert bad_arguments["isError"] is True
        assert "prompt" in bad_arguments["content"][0]["text"] and "sandbox" in bad_arguments["content"][0]["text"]

        client.send("[1, 2, 3]")
        assert client.response()["error"]["code"] == -32600

        still_alive = client.request("tools/list")
        assert [tool["name"] for tool in still_alive["result"]["tools"]] == ["codex", "codex-reply"]
    assert client.process.returncode == 0


def test_requests_with_ids_json_rpc_forbids_get_invalid_request_not_silence(tmp_path: Path,
                                                                            workspace: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    with RawClient(home, workspace) as client:
        client.initialize()
        for bad_id, kind in ((1.5, "a float"), (True, "a boolean"), (None, "null"), ({"n": 1}, "an object"),
                             ([1], "an array")):
            client.send({"jsonrpc": "2.0", "id": bad_id, "method": "tools/list"})
            answer = client.response(timeout=10)  # bounded: before the fix nothing ever came
            assert answer["id"] is None, answer
            assert answer["error"]["code"] == -32600
            assert f"not {kind}" in answer["error"]["message"]
        # A notification that carries a null id is still taken as the notification it is: the
        # next answer is the one for the request after it.
        client.send({"jsonrpc": "2.0", "id": None, "method": "notifications/cancelled",
                     "params": {"requestId": 99999}})
        # Good ids of both kinds are still answered with their own id.
        client.send({"jsonrpc": "2.0", "id": "s-1", "method": "tools/list"})
        assert client.response(timeout=10)["id"] == "s-1"
        assert "tools" in client.request("tools/list")["result"]
    assert client.process.returncode == 0


def test_the_server_exits_when_the_client_goes_away_mid_call(mock_model: MockModelServer, tmp_path: Path,
                                                              workspace: Path) -> None:
    home = _home(tmp_path, mock_model, 'approval_policy = "never"\nsandbox_mode = "danger-full-access"\n')
    mock_model.chat_call("shell", {"command": ["sh", "-c", "echo $$ > pid; exec sleep 60"]})
    client = RawClient(home, workspace)
    client.initialize()
    client.send({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                 "params": {"name": "codex", "arguments": {"prompt": "wait"}}})
    pid_file = workspace / "pid"
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip() != "", "the command to start")
    pid = int(pid_file.read_text())

    client.close()  # stdin closes: the client is gone

    assert client.process.returncode == 0

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")

    wait_until(gone, "the command of the abandoned call to be killed")
