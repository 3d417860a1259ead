"""A plugin that raises, or never returns, at each hook point never hangs codex.

One throwaway distribution (``codex-plugin-faulty``, made with the ``plugin_site`` fixture)
offers a tool, a wire API, a sandbox backend, an approval policy and a provider start-up; the
variable ``FAULT_AT=<point>:<raise|hang>`` picks where it goes wrong. Every face is driven
for real: ``codex exec`` in a subprocess, ``codex mcp`` through the official SDK client, and
the terminal UI in a pty. Limits are kept small through config (tool 1 s, stream idle 300 ms)
so the suite stays fast; a hang shows up as the subprocess timeout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PluginSite, RunCodex
from tests.mock_model import Call, MockModelServer, Text

FAULTY_PLUGIN = '''
import asyncio
import os

import pluggy

from codex.sandbox import Availability
from codex.tools.base import Tool, ToolResult

hookimpl = pluggy.HookimplMarker("codex")
POINT, _, MODE = os.environ.get("FAULT_AT", "").partition(":")
PLAN_SCHEMA = {"type": "object", "properties": {"plan": {"type": "array"}}}


class Boom(Exception):
    """Deliberately not a CodexError: what a buggy plugin lets through."""


async def misbehave(point):
    if POINT == point:
        if MODE == "hang":
            await asyncio.Event().wait()
        raise Boom(f"{point} exploded")


def explode(point):
    if POINT == point:
        if MODE == "hang":
            import time

            time.sleep(3600)  # a synchronous call that never returns; codex abandons it
        raise Boom(f"{point} exploded")


async def faulty_tool(args, ctx):
    if POINT == "ask":  # a well-behaved tool whose person is slow to answer
        answer = await ctx.ask_exec_approval(["true"], ctx.cwd, "a slow person")
        return ToolResult(f"the person said {answer.decision.value}")
    await misbehave("tool")
    return ToolResult("tool worked")


class FaultyWire:
    name = "faulty"

    async def stream(self, prompt, provider):
        await misbehave("wire")
        yield  # never reached: the point is always "wire" when this wire is chosen


class FaultyBackend:
    name = "faulty"
    priority = 0

    def availability(self):
        return Availability(True)

    def prepare(self, argv, policy, cwd):
        explode("sandbox")
        raise Boom("sandbox exploded")


class FaultyPolicy:
    name = "faulty"

    def decide_command(self, facts):
        explode("policy")
        raise Boom("policy exploded")

    def after_sandbox_denial(self, facts, denial):
        raise Boom("policy exploded")

    def decide_patch(self, facts):
        raise Boom("policy exploded")


@hookimpl
def codex_tools(config):
    explode("tools")
    parameters = "codex_test_nowhere:Args" if POINT == "schema" else PLAN_SCHEMA
    return [Tool("faulty_tool", "A tool that may misbehave.", parameters, faulty_tool)]


@hookimpl
def codex_wire_apis():
    explode("wire_apis")
    return {"faulty": FaultyWire()}


@hookimpl
def codex_sandboxes():
    explode("sandboxes")
    return [FaultyBackend()]


@hookimpl
def codex_approval_policies():
    explode("policies")
    return {"faulty": FaultyPolicy()}


@hookimpl
def codex_model_providers():
    explode("providers")
    return {}


@hookimpl
def codex_provider_startup(provider, config, ui):
    explode("startup")
    return None
'''

PLAN = {"plan": [{"step": "one", "status": "pending"}]}
EXEC_TIMEOUT = 40.0  # far above what any case needs once fixed; a hang ends here


@pytest.fixture
def faulty_site(plugin_site: PluginSite) -> PluginSite:
    plugin_site.add("faulty", FAULTY_PLUGIN)
    return plugin_site


@pytest.fixture
def workspace(git_workspace: Path) -> Path:
    return git_workspace


def config_text(mock: MockModelServer, point: str, extra: str = "") -> str:
    """Mock provider (the plugin's wire for wire faults), small limits, and ``extra`` settings."""
    wire = "faulty" if point in ("wire", "wire_apis") else "responses"
    return (
        'model = "mock-model"\nmodel_provider = "mock"\ntool_timeout_sec = 1\n'
        + ('sandbox_backend = "faulty"\n' if point in ("sandbox", "sandboxes") else "")
        + extra
        + mock.provider_toml(
            "mock", wire, request_max_retries=1, stream_max_retries=1, stream_idle_timeout_ms=300
        )
    )


def script_model(mock: MockModelServer, point: str) -> None:
    """The model calls what the fault point needs, then answers from what it was told."""
    if point in ("tool", "schema", "tools"):
        mock.responses_turn(Call("faulty_tool", PLAN, "call_1"))
    elif point in ("sandbox", "policy"):
        mock.responses_turn(Call("shell", {"command": ["true"]}, "call_1"))
    mock.responses_turn(Text("carried on"))


def told_to_model(mock: MockModelServer) -> str:
    """The output of call_1 as the model received it in its second request."""
    items = mock.requests[1].json["input"]
    return next(str(i["output"]) for i in items if i.get("type") == "function_call_output")


# (point, mode, what the person must see). Points where the model is told carry on with its answer;
# the others end the turn (or the run) with an error naming the plugin and the hook.
CARRY_ON = {
    ("tool", "raise"): "tool 'faulty_tool' (plugin 'faulty') failed: Boom: tool exploded",
    ("tool", "hang"): "tool 'faulty_tool' (plugin 'faulty') did not finish within 1 s (tool_timeout_sec)",
    ("sandbox", "raise"): "sandbox backend 'faulty' (plugin 'faulty') failed in prepare: Boom: sandbox exploded",
    ("sandbox", "hang"): "sandbox backend 'faulty' (plugin 'faulty') did not return from prepare within 1 s",
}
FAIL = {
    ("wire", "raise"): "wire API 'faulty' (plugin 'faulty') failed: Boom: wire exploded",
    ("wire", "hang"): "was idle for more than 0.3 s (stream_idle_timeout_ms)",
    ("wire_apis", "raise"): "plugin 'faulty' failed in codex_wire_apis: Boom: wire_apis exploded",
    ("sandboxes", "raise"): "plugin 'faulty' failed in codex_sandboxes: Boom: sandboxes exploded",
    ("startup", "raise"): "plugin 'faulty' failed in codex_provider_startup: Boom: startup exploded",
}
WARN = {
    ("tools", "raise"): "plugin 'faulty' failed in codex_tools: Boom: tools exploded",
    ("schema", "raise"): "tool 'faulty_tool' (plugin 'faulty') is left out: its parameters",
}


def run_exec(
    run_codex: RunCodex, site: PluginSite, workspace: Path, fault: str, *args: str
) -> Any:
    return run_codex(
        "exec", *args, "go", cwd=workspace, env={**site.env, "FAULT_AT": fault}, timeout=EXEC_TIMEOUT
    )


@pytest.mark.parametrize(("point", "mode"), sorted(CARRY_ON))
def test_exec_tells_the_model_and_carries_on(
    point: str, mode: str, mock_model: MockModelServer, write_config: Any, faulty_site: PluginSite,
    workspace: Path, run_codex: RunCodex,
) -> None:
    write_config(config_text(mock_model, point))
    script_model(mock_model, point)

    result = run_exec(run_codex, faulty_site, workspace, f"{point}:{mode}", "-s", "workspace-write")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "carried on\n"
    assert CARRY_ON[(point, mode)] in told_to_model(mock_model)


@pytest.mark.parametrize(("point", "mode"), sorted(FAIL))
@pytest.mark.parametrize("json_mode", [False, True], ids=["human", "json"])
def test_exec_exits_1_naming_the_plugin_and_hook(
    point: str, mode: str, json_mode: bool, mock_model: MockModelServer, write_config: Any,
    faulty_site: PluginSite, workspace: Path, run_codex: RunCodex,
) -> None:
    write_config(config_text(mock_model, point))
    script_model(mock_model, point)

    args = ("--json",) if json_mode else ()
    result = run_exec(run_codex, faulty_site, workspace, f"{point}:{mode}", *args)

    assert result.returncode == 1
    expected = FAIL[(point, mode)]
    if not json_mode or point in ("wire_apis", "sandboxes", "startup"):
        # Before a session exists there is no event stream: the message is the CLI's error.
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
    else:
        events = [json.loads(line) for line in result.stdout.splitlines()]
        failed = [e for e in events if e["type"] == "turn.failed"]
        assert len(failed) == 1 and expected in failed[0]["error"]["message"]


@pytest.mark.parametrize(("point", "mode"), sorted(WARN))
def test_exec_warns_naming_the_plugin_and_carries_on(
    point: str, mode: str, mock_model: MockModelServer, write_config: Any, faulty_site: PluginSite,
    workspace: Path, run_codex: RunCodex,
) -> None:
    write_config(config_text(mock_model, point))
    mock_model.responses_turn(Text("carried on"))

    result = run_exec(run_codex, faulty_site, workspace, f"{point}:{mode}")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "carried on\n"
    assert WARN[(point, mode)] in result.stderr
    tools = [t["name"] for t in mock_model.requests[0].json["tools"]]
    assert "faulty_tool" not in tools and "shell" in tools


def test_a_stalled_wire_is_retried_before_the_turn_fails(
    mock_model: MockModelServer, write_config: Any, faulty_site: PluginSite, workspace: Path, run_codex: RunCodex,
) -> None:
    write_config(config_text(mock_model, "wire"))

    result = run_exec(run_codex, faulty_site, workspace, "wire:hang")

    assert result.returncode == 1
    assert "retrying 1/1" in result.stderr
    assert "failed on all 2 attempts" in result.stderr


@pytest.mark.parametrize(
    ("mode", "told_text"),
    [
        ("raise", "approval policy 'faulty' (plugin 'faulty') failed in decide_command: Boom: policy exploded"),
        ("hang", "approval policy 'faulty' (plugin 'faulty') did not return from decide_command within 1 s"),
    ],
)
def test_a_plugin_policy_that_fails_is_a_failed_call_in_the_mcp_server(
    mode: str, told_text: str, mock_model: MockModelServer, faulty_site: PluginSite, tmp_path: Path,
    workspace: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.mcp.harness import SdkClient, text_of

    home = tmp_path / "mcp-home"
    home.mkdir()
    chat = config_text(mock_model, "policy", 'approval_policy = "faulty"\n').replace(
        'wire_api = "responses"', 'wire_api = "chat"'
    )
    (home / "config.toml").write_text(chat, encoding="utf-8")
    mock_model.chat_call("shell", {"command": ["true"]})
    mock_model.chat_text("carried on")
    for key, value in {**faulty_site.env, "FAULT_AT": f"policy:{mode}"}.items():
        monkeypatch.setenv(key, value)

    with SdkClient(home, workspace) as server:
        result = server.call("codex", {"prompt": "go"}, timeout=EXEC_TIMEOUT)

    assert not result.is_error, text_of(result)
    assert text_of(result) == "carried on"
    told = json.dumps(mock_model.requests[1].json)
    assert told_text in told


MCP_CASES = {
    ("tool", "raise"): (False, "carried on"),
    ("tool", "hang"): (False, "carried on"),
    ("wire", "raise"): (True, FAIL[("wire", "raise")]),
    ("wire", "hang"): (True, FAIL[("wire", "hang")]),
    ("startup", "raise"): (True, FAIL[("startup", "raise")]),
}


@pytest.mark.parametrize(("point", "mode"), sorted(MCP_CASES))
def test_the_mcp_server_answers_every_call(
    point: str, mode: str, mock_model: MockModelServer, faulty_site: PluginSite, tmp_path: Path,
    workspace: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.mcp.harness import SdkClient, text_of

    home = tmp_path / "mcp-home"
    home.mkdir()
    (home / "config.toml").write_text(config_text(mock_model, point), encoding="utf-8")
    script_model(mock_model, point)
    for key, value in {**faulty_site.env, "FAULT_AT": f"{point}:{mode}"}.items():
        monkeypatch.setenv(key, value)

    with SdkClient(home, workspace) as server:
        result = server.call("codex", {"prompt": "go"}, timeout=EXEC_TIMEOUT)
        is_error, expected = MCP_CASES[(point, mode)]
        assert result.is_error is is_error, text_of(result)
        assert expected in text_of(result)
        # The server lives on: the next call is answered too (the fault, fixed per process, may repeat).
        mock_model.responses_turn(Text("still here"))
        again = server.call("codex", {"prompt": "again"}, timeout=EXEC_TIMEOUT)
        assert again.is_error if is_error else text_of(again) == "still here"


def test_the_time_limit_stops_while_a_person_is_asked(
    mock_model: MockModelServer, faulty_site: PluginSite, tmp_path: Path, workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    import mcp_types

    from tests.mcp.harness import SdkClient, text_of

    home = tmp_path / "mcp-home"
    home.mkdir()
    (home / "config.toml").write_text(config_text(mock_model, "ask"), encoding="utf-8")
    mock_model.responses_turn(Call("faulty_tool", PLAN, "call_1"))
    mock_model.responses_turn(Text("carried on"))
    for key, value in {**faulty_site.env, "FAULT_AT": "ask:"}.items():
        monkeypatch.setenv(key, value)

    async def slowly(params: mcp_types.ElicitRequestParams) -> mcp_types.ElicitResult:
        await asyncio.sleep(1.5)  # longer than tool_timeout_sec = 1
        return mcp_types.ElicitResult(action="accept", content={"decision": "approved"})

    with SdkClient(home, workspace) as server:
        server.answer = slowly
        result = server.call("codex", {"prompt": "go"}, timeout=EXEC_TIMEOUT)

    assert text_of(result) == "carried on"
    assert told_to_model(mock_model) == "the person said approved"


def test_a_provider_registry_that_raises_is_named_when_its_provider_is_missing(
    mock_model: MockModelServer, write_config: Any, faulty_site: PluginSite, workspace: Path, run_codex: RunCodex,
) -> None:
    # The plugin would have declared "faulty_cloud"; its hook raised, so the provider is missing.
    write_config('model = "m"\nmodel_provider = "faulty_cloud"\n')

    result = run_exec(run_codex, faulty_site, workspace, "providers:raise")

    assert result.returncode != 0
    assert "plugin 'faulty' failed in codex_model_providers: Boom: providers exploded" in result.stderr
    assert "Traceback" not in result.stderr
