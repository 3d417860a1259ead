"""The MCP client: `[mcp_servers]` entries become tools, against real SDK servers.

`fake_server.py` (written with the SDK) runs as a real subprocess over stdio, and once over
streamable HTTP. Approvals, results, failures at start-up and mid-call, time-outs, and a real
session whose model calls an MCP tool.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codex import events as ev
from codex.approval.policy import builtin_policies
from codex.config.model import Config, McpServerConfig
from codex.sandbox import SandboxMode, SandboxPolicy
from codex.tools.base import Tool, ToolRegistry, ToolResult, TurnAborted
from codex.tools.mcp_client import McpConnections, start_mcp_servers
from tests.mcp.harness import wait_until
from tests.mock_model import MockModelServer

FAKE_SERVER = str(Path(__file__).with_name("fake_server.py"))


def fake(*args: str, **settings: Any) -> McpServerConfig:
    """A stdio entry that runs fake_server.py with ``args``."""
    return McpServerConfig(command=sys.executable, args=[FAKE_SERVER, *args], **settings)


@dataclass
class Context:
    """A ToolContext with scripted approval answers; it records events and questions."""

    cwd: Path
    policy: str = "untrusted"
    sandbox: SandboxMode = SandboxMode.DANGER_FULL_ACCESS
    answers: list[ev.ReviewDecision] = field(default_factory=list)
    call_id: str = "call-1"
    events: list[Any] = field(default_factory=list)
    asked: list[tuple[list[str], str]] = field(default_factory=list)
    approved_commands: set[tuple[str, ...]] = field(default_factory=set)
    approved_prefixes: list[tuple[str, ...]] = field(default_factory=list)
    config: Config = field(default_factory=Config)
    sandbox_backend: Any = None

    @property
    def approval_policy(self) -> Any:
        return builtin_policies()[self.policy]

    @property
    def sandbox_policy(self) -> SandboxPolicy:
        return SandboxPolicy.build(self.sandbox, self.cwd)

    def emit(self, msg: Any) -> None:
        self.events.append(msg)

    def confined_spawner(self) -> None:
        return None

    async def ask_exec_approval(self, command: list[str], cwd: Path, reason: str) -> ev.ApprovalAnswer:
        self.asked.append((command, reason))
        return ev.ApprovalAnswer("approval-1", self.answers.pop(0))

    async def ask_patch_approval(self, changes: Any, diff: str, reason: str) -> ev.ApprovalAnswer:
        raise AssertionError("MCP tools never ask about patches")


async def call(tools: list[Tool], name: str, arguments: dict[str, Any], ctx: Context) -> ToolResult:
    """Dispatch like the session does (JSON arguments, schema validation)."""
    return await ToolRegistry(tools).dispatch(name, json.dumps(arguments), ctx)


async def connect(tmp_path: Path, log_dir: Path | None = None, **servers: McpServerConfig) -> McpConnections:
    return await start_mcp_servers(Config(mcp_servers=servers), cwd=tmp_path, log_dir=log_dir)


def test_tools_are_offered_as_server__tool_with_their_schemas(tmp_path: Path) -> None:
    async def scenario() -> McpConnections:
        connections = await connect(tmp_path, files=fake())
        await connections.aclose()
        return connections

    connections = asyncio.run(scenario())

    names = {tool.name: tool for tool in connections.tools}
    assert {"files__echo", "files__add", "files__write_note", "files__picture"} <= set(names)
    assert names["files__echo"].read_only and not names["files__write_note"].read_only
    spec = names["files__add"].spec()
    assert spec.parameters["properties"] == {"a": {"type": "number"}, "b": {"type": "number"}}
    assert spec.description == "Add two numbers."
    assert connections.failures == {}


def test_results_come_back_text_structured_and_images(tmp_path: Path) -> None:
    ctx = Context(tmp_path)

    async def scenario() -> list[ToolResult]:
        connections = await connect(tmp_path, files=fake())
        try:
            return [
                await call(connections.tools, "files__echo", {"text": "hello from mcp"}, ctx),
                await call(connections.tools, "files__add", {"a": 2, "b": 40}, ctx),
                await call(connections.tools, "files__picture", {}, ctx),
                await call(connections.tools, "files__fail", {}, ctx),
            ]
        finally:
            await connections.aclose()

    echo, add, picture, fail = asyncio.run(scenario())

    assert echo == ToolResult("hello from mcp", True)
    assert json.loads(add.output)["structuredContent"] == {"sum": 42}
    image = json.loads(picture.output)["content"][0]
    assert image["type"] == "image" and image["mimeType"] == "image/png" and image["data"]
    assert fail == ToolResult("the tool failed on purpose", False)
    begins = [e for e in ctx.events if isinstance(e, ev.McpToolCallBegin)]
    ends = [e for e in ctx.events if isinstance(e, ev.McpToolCallEnd)]
    assert [(e.server, e.tool) for e in begins] == [("files", "echo"), ("files", "add"), ("files", "picture"),
                                                     ("files", "fail")]
    assert [e.success for e in ends] == [True, True, True, False]
    assert begins[0].arguments == {"text": "hello from mcp"}
    assert ends[1].result["structuredContent"] == {"sum": 42}


def test_servers_that_cannot_start_are_left_out_and_the_rest_work(tmp_path: Path) -> None:
    ctx = Context(tmp_path)

    async def scenario() -> tuple[McpConnections, ToolResult]:
        connections = await connect(
            tmp_path,
            good=fake(),
            hangs=fake("--hang-at-startup", startup_timeout_sec=1),
            crashes=fake("--crash-at-startup"),
            missing=McpServerConfig(command="codex-test-no-such-command"),
        )
        try:
            return connections, await call(connections.tools, "good__echo", {"text": "still here"}, ctx)
        finally:
            await connections.aclose()

    connections, result = asyncio.run(scenario())

    assert result.output == "still here"
    assert {tool.name.split("__")[0] for tool in connections.tools} == {"good"}
    assert "did not start within 1 s" in connections.failures["hangs"]
    assert "closed the connection while starting" in connections.failures["crashes"]
    assert "'codex-test-no-such-command' was not found" in connections.failures["missing"]
    messages = connections.startup_messages()
    assert len(messages) == 3 and all("left out" in m for m in messages)


def test_a_log_folder_that_cannot_be_written_costs_the_log_not_the_server(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be\n", encoding="utf-8")
    ctx = Context(tmp_path)

    async def scenario() -> tuple[McpConnections, ToolResult]:
        connections = await connect(tmp_path, blocked, good=fake(), crashes=fake("--crash-at-startup"))
        try:
            return connections, await call(connections.tools, "good__echo", {"text": "no log, no problem"}, ctx)
        finally:
            await connections.aclose()

    connections, result = asyncio.run(scenario())

    assert result.output == "no log, no problem"
    assert "its stderr is discarded: cannot write" in connections.failures["crashes"]
    assert str(blocked) in connections.failures["crashes"]


def test_a_server_that_crashes_mid_call_is_reported_and_its_tools_fail_fast(tmp_path: Path) -> None:
    ctx = Context(tmp_path)

    async def scenario() -> tuple[ToolResult, ToolResult]:
        connections = await connect(tmp_path, flaky=fake())
        try:
            crashed = await call(connections.tools, "flaky__crash", {}, ctx)
            after = await call(connections.tools, "flaky__echo", {"text": "anyone?"}, ctx)
            return crashed, after
        finally:
            await connections.aclose()

    crashed, after = asyncio.run(scenario())

    assert not crashed.success and "MCP server 'flaky' stopped" in crashed.output
    assert not after.success and "is not running" in after.output
    notices = [e.message for e in ctx.events if isinstance(e, ev.BackgroundEvent)]
    assert any("flaky" in notice for notice in notices)


def test_a_slow_tool_is_cut_off_at_tool_timeout_sec(tmp_path: Path) -> None:
    ctx = Context(tmp_path)

    async def scenario() -> tuple[ToolResult, ToolResult]:
        connections = await connect(tmp_path, slow=fake(tool_timeout_sec=0.5))
        try:
            slow = await call(connections.tools, "slow__slow", {"seconds": 30}, ctx)
            quick = await call(connections.tools, "slow__echo", {"text": "next"}, ctx)
            return slow, quick
        finally:
            await connections.aclose()

    slow, quick = asyncio.run(scenario())

    assert not slow.success and "did not answer 'slow' within 0.5 s (tool_timeout_sec)" in slow.output
    assert quick.output == "next"  # the server itself is fine


def _write_notes(tmp_path: Path, *attempts: tuple[Context, str]) -> list[ToolResult | TurnAborted]:
    """Call notes__write_note once per (context, file name) on one server connection."""

    async def scenario() -> list[ToolResult | TurnAborted]:
        connections = await connect(tmp_path, notes=fake())
        outcomes: list[ToolResult | TurnAborted] = []
        try:
            for ctx, name in attempts:
                arguments = {"path": str(tmp_path / name), "text": "written"}
                try:
                    outcomes.append(await call(connections.tools, "notes__write_note", arguments, ctx))
                except TurnAborted as exc:
                    outcomes.append(exc)
            return outcomes
        finally:
            await connections.aclose()

    return asyncio.run(scenario())


def test_a_tool_not_marked_read_only_needs_approval_under_untrusted(tmp_path: Path) -> None:
    approved = Context(tmp_path, answers=[ev.ReviewDecision.APPROVED])
    denied = Context(tmp_path, answers=[ev.ReviewDecision.DENIED])
    aborted = Context(tmp_path, answers=[ev.ReviewDecision.ABORT])

    ok, refused, stopped = _write_notes(
        tmp_path, (approved, "note.txt"), (denied, "denied.txt"), (aborted, "aborted.txt")
    )

    assert isinstance(ok, ToolResult) and ok.success
    assert (tmp_path / "note.txt").read_text() == "written"
    (command, reason), = approved.asked
    assert command[0] == "notes.write_note" and json.loads(command[1])["text"] == "written"
    assert "not marked read-only" in reason
    assert isinstance(refused, ToolResult) and not refused.success and "denied" in refused.output
    assert not (tmp_path / "denied.txt").exists()
    assert not [e for e in denied.events if isinstance(e, ev.McpToolCallBegin)]
    assert isinstance(stopped, TurnAborted)
    assert not (tmp_path / "aborted.txt").exists()


def test_read_only_tools_and_permissive_policies_do_not_ask(tmp_path: Path) -> None:
    quiet = Context(tmp_path, policy="on-request", sandbox=SandboxMode.WORKSPACE_WRITE)
    never = Context(tmp_path, policy="never", sandbox=SandboxMode.READ_ONLY)
    asks = Context(tmp_path, policy="on-request", sandbox=SandboxMode.READ_ONLY, answers=[ev.ReviewDecision.APPROVED])
    remembered = Context(tmp_path, answers=[ev.ReviewDecision.APPROVED_FOR_SESSION])

    outcomes = _write_notes(
        tmp_path, (quiet, "quiet.txt"), (never, "refused.txt"), (asks, "asked.txt"),
        (remembered, "first.txt"), (remembered, "second.txt"),
    )

    quiet_result, refused, asked, first, second = outcomes
    assert isinstance(quiet_result, ToolResult) and quiet_result.success and quiet.asked == []
    assert isinstance(refused, ToolResult) and not refused.success and "approval_policy = never" in refused.output
    assert never.asked == [] and not (tmp_path / "refused.txt").exists()
    assert isinstance(asked, ToolResult) and asked.success and len(asks.asked) == 1
    # approved_for_session: the second call of the same tool is not asked about.
    assert all(isinstance(r, ToolResult) and r.success for r in (first, second))
    assert len(remembered.asked) == 1 and (tmp_path / "second.txt").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def http_server() -> Iterator[str]:
    """fake_server.py over streamable HTTP on a free loopback port; yields its URL."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, FAKE_SERVER, "--http", str(port)])

    def accepting() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return process.poll() is not None

    try:
        wait_until(accepting, "the HTTP MCP server")
        assert process.poll() is None, "the HTTP MCP server exited"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(30)


def test_streamable_http_server_with_bearer_token_and_headers(http_server: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_TEST_MCP_TOKEN", "s3cret")
    monkeypatch.delenv("CODEX_TEST_MCP_MISSING", raising=False)
    ctx = Context(tmp_path)

    async def scenario() -> tuple[McpConnections, ToolResult, ToolResult]:
        connections = await connect(
            tmp_path,
            remote=McpServerConfig(
                url=http_server, bearer_token_env_var="CODEX_TEST_MCP_TOKEN", http_headers={"X-Team": "blue"}
            ),
            locked=McpServerConfig(url=http_server, bearer_token_env_var="CODEX_TEST_MCP_MISSING"),
        )
        try:
            whoami = await call(connections.tools, "remote__whoami", {}, ctx)
            echo = await call(connections.tools, "remote__echo", {"text": "over http"}, ctx)
            return connections, whoami, echo
        finally:
            await connections.aclose()

    connections, whoami, echo = asyncio.run(scenario())

    assert whoami.output == "Bearer s3cret | blue"
    assert echo.output == "over http"
    assert "CODEX_TEST_MCP_MISSING, which is not set" in connections.failures["locked"]


def test_a_session_whose_model_calls_an_mcp_tool(mock_model: MockModelServer, tmp_path: Path) -> None:
    from codex.config.loader import load_config
    from codex.plugins import make_plugin_manager
    from codex.services import resolve_services
    from codex.session import Session

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n' + mock_model.provider_toml(wire_api="chat")
        + f"\n[mcp_servers.files]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(FAKE_SERVER)}]\n",
        encoding="utf-8",
    )
    mock_model.chat_call("files__echo", {"text": "hello through MCP"})
    mock_model.chat_text("The server said hello.")

    async def scenario() -> list[Any]:
        loaded = load_config(home=home, cwd=tmp_path)
        services = resolve_services(make_plugin_manager(), loaded)
        connections = await start_mcp_servers(loaded.config, cwd=loaded.cwd)
        services.tools.extend(connections.tools)
        session = Session(loaded, services)
        await session.start()
        session.submit(ev.UserInput("ask the server to say hello"))
        seen = []
        try:
            while True:
                event = await asyncio.wait_for(session.next_event(), 60)
                seen.append(event.msg)
                if isinstance(event.msg, ev.TaskComplete | ev.Error | ev.TurnAborted):
                    return seen
        finally:
            await session.close()
            await connections.aclose()

    seen = asyncio.run(scenario())

    assert isinstance(seen[-1], ev.TaskComplete) and seen[-1].last_agent_message == "The server said hello."
    end = next(e for e in seen if isinstance(e, ev.McpToolCallEnd))
    assert (end.server, end.tool, end.success) == ("files", "echo", True)
    offered = [tool["function"]["name"] for tool in mock_model.requests[0].json["tools"]]
    assert "files__echo" in offered
    assert "hello through MCP" in json.dumps(mock_model.requests[1].json)
