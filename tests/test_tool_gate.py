"""The tool gate (``codex_before_tool_call``): every call passes it once, before it runs.

A throwaway distribution (``codex-plugin-gate``, made with the ``plugin_site`` fixture) offers a
tool of its own and a gate whose answer ``GATE_MODE`` picks; the gate logs every call it sees
to ``GATE_LOG``. The real CLI runs ``codex exec`` against the mock model; what the model was
told is read from its next request, and marker files show what really ran.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from codex.approval.policy import NeverPolicy
from codex.hook_calls import ToolGate
from codex.hook_types import Allow, Rewrite
from codex.hookspecs import hookimpl
from codex.plugins import make_plugin_manager
from tests.conftest import PluginSite, RunCodex
from tests.mcp.test_client import FAKE_SERVER
from tests.mock_model import Call, MockModelServer, Text

GATE_PLUGIN = '''
import json
import os

import pluggy
from pydantic import BaseModel

from codex.hook_types import Allow, Ask, Deny, Rewrite
from codex.tools.base import Tool, ToolResult

hookimpl = pluggy.HookimplMarker("codex")


class StampArgs(BaseModel):
    name: str


async def stamp(args, ctx):
    (ctx.cwd / args.name).write_text("stamped")
    return ToolResult("stamped " + args.name)


@hookimpl
def codex_tools(config):
    return [Tool("stamp", "Create a file in the workspace.", StampArgs, stamp)]


@hookimpl
def codex_before_tool_call(call, context):
    with open(os.environ["GATE_LOG"], "a") as log:
        seen = {"name": call.name, "plugin": call.plugin, "arguments": call.arguments,
                "turn": call.turn_id, "session": context.session_id, "input": context.turn_input()}
        log.write(json.dumps(seen) + "\\n")
    mode = os.environ.get("GATE_MODE", "")
    if mode == "deny" and call.name in ("shell", "stamp"):
        return Deny("no " + call.name + " in this repository")
    if mode == "ask":
        return Ask("a person must look at " + call.name)
    if mode == "rewrite-shell" and call.name == "shell":
        return Rewrite({**call.arguments, "command": ["touch", "rewritten"]})
    if mode == "rewrite-mcp" and call.name == "files__echo":
        return Rewrite({"text": "rewritten by the gate"})
    if mode == "raise":
        raise RuntimeError("gate exploded")
    if mode == "junk":
        return "yes please"
    return None
'''

# A second gate that always allows (async, to show both kinds are asked): a Deny still wins.
LENIENT_PLUGIN = '''
import pluggy

from codex.hook_types import Allow

hookimpl = pluggy.HookimplMarker("codex")


@hookimpl(tryfirst=True)
async def codex_before_tool_call(call, context):
    return Allow()
'''

EXEC_TIMEOUT = 60


@pytest.fixture
def gate_site(plugin_site: PluginSite) -> PluginSite:
    plugin_site.add("gate", GATE_PLUGIN)
    return plugin_site


def write_mock_config(codex_home: Path, mock: MockModelServer, extra: str = "") -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n' + mock.provider_toml(request_max_retries=0) + extra
    )


def run_exec(
    run_codex: RunCodex, site: PluginSite, workspace: Path, mode: str, log: Path, *args: str
) -> Any:
    env = {**site.env, "GATE_MODE": mode, "GATE_LOG": str(log)}
    return run_codex(
        "exec", "-s", "workspace-write", *args, "go", cwd=workspace, env=env, timeout=EXEC_TIMEOUT
    )


def told_to_model(mock: MockModelServer, call_id: str = "call_1") -> str:
    """The output of ``call_id`` as the model received it in its next request."""
    items = mock.requests[-1].json["input"]
    return next(str(i["output"]) for i in items if i.get("call_id") == call_id and "output" in i)


def gate_log(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_denied_shell_call_never_runs_and_the_model_is_told_why(
    mock_model: MockModelServer, codex_home: Path, gate_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex, tmp_path: Path,
) -> None:
    write_mock_config(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["touch", "marker"]}, "call_1"))
    mock_model.responses_turn(Text("understood"))
    log = tmp_path / "gate.jsonl"

    result = run_exec(run_codex, gate_site, git_workspace, "deny", log)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "understood\n"
    assert not (git_workspace / "marker").exists()
    told = told_to_model(mock_model)
    assert "denied: no shell in this repository" in told
    seen = gate_log(log)
    assert len(seen) == 1
    assert seen[0]["name"] == "shell" and seen[0]["plugin"] == "core-tools"
    assert seen[0]["arguments"] == {"command": ["touch", "marker"]}
    assert seen[0]["input"] == ["go"] and seen[0]["turn"] == "1"


def test_deny_wins_over_another_plugins_allow(
    mock_model: MockModelServer, codex_home: Path, gate_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex, tmp_path: Path,
) -> None:
    gate_site.add("lenient", LENIENT_PLUGIN)
    write_mock_config(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["touch", "marker"]}, "call_1"))
    mock_model.responses_turn(Text("understood"))

    result = run_exec(run_codex, gate_site, git_workspace, "deny", tmp_path / "gate.jsonl")

    assert result.returncode == 0, result.stderr
    assert not (git_workspace / "marker").exists()
    assert "denied: no shell in this repository" in told_to_model(mock_model)


def test_a_rewrite_runs_the_call_with_the_new_arguments(
    mock_model: MockModelServer, codex_home: Path, gate_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex, tmp_path: Path,
) -> None:
    write_mock_config(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["touch", "asked-for"]}, "call_1"))
    mock_model.responses_turn(Text("done"))

    result = run_exec(run_codex, gate_site, git_workspace, "rewrite-shell", tmp_path / "gate.jsonl")

    assert result.returncode == 0, result.stderr
    assert (git_workspace / "rewritten").exists()
    assert not (git_workspace / "asked-for").exists()


def test_ask_under_exec_is_a_refusal_the_model_is_told(
    mock_model: MockModelServer, codex_home: Path, gate_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex, tmp_path: Path,
) -> None:
    write_mock_config(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["touch", "marker"]}, "call_1"))
    mock_model.responses_turn(Text("I will not"))

    result = run_exec(run_codex, gate_site, git_workspace, "ask", tmp_path / "gate.jsonl")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "I will not\n"
    assert not (git_workspace / "marker").exists()
    told = told_to_model(mock_model)
    assert "rejected without asking (approval_policy = never): a person must look at shell" in told


def test_the_gate_sees_plugin_and_builtin_tools_alike(
    mock_model: MockModelServer, codex_home: Path, gate_site: PluginSite, git_workspace: Path,
    run_codex: RunCodex, tmp_path: Path,
) -> None:
    write_mock_config(codex_home, mock_model)
    plan = {"plan": [{"step": "stamp", "status": "in_progress"}]}
    mock_model.responses_turn(Call("update_plan", plan, "call_1"), Call("stamp", {"name": "stamped"}, "call_2"))
    mock_model.responses_turn(Call("stamp", {"name": "again"}, "call_3"))
    mock_model.responses_turn(Text("done"))
    log = tmp_path / "gate.jsonl"

    first = run_exec(run_codex, gate_site, git_workspace, "", log)
    assert first.returncode == 0, first.stderr
    assert (git_workspace / "stamped").exists()
    assert [(s["name"], s["plugin"]) for s in gate_log(log)] == [
        ("update_plan", "core-tools"), ("stamp", "gate"), ("stamp", "gate")
    ]

    mock_model.responses_turn(Call("stamp", {"name": "refused"}, "call_4"))
    mock_model.responses_turn(Text("understood"))
    second = run_exec(run_codex, gate_site, git_workspace, "deny", log)
    assert second.returncode == 0, second.stderr
    assert not (git_workspace / "refused").exists()
    assert "denied: no stamp in this repository" in told_to_model(mock_model, "call_4")


def test_the_gate_rewrites_an_mcp_tool_call(
    mock_model: MockModelServer, codex_home: Path, gate_site: PluginSite, tmp_path: Path, run_codex: RunCodex,
) -> None:
    server = f"\n[mcp_servers.files]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(FAKE_SERVER))}]\n"
    write_mock_config(codex_home, mock_model, server)
    mock_model.responses_call("files__echo", {"text": "from the model"}, call_id="m1")
    mock_model.responses_text("The server answered.")
    log = tmp_path / "gate.jsonl"

    result = run_exec(run_codex, gate_site, tmp_path, "rewrite-mcp", log, "--skip-git-repo-check")

    assert result.returncode == 0, result.stderr
    told = told_to_model(mock_model, "m1")
    assert "rewritten by the gate" in told and "from the model" not in told
    assert [(s["name"], s["arguments"]) for s in gate_log(log)] == [("files__echo", {"text": "from the model"})]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("raise", "plugin 'gate' failed in codex_before_tool_call: RuntimeError: gate exploded"),
        ("junk", "codex_before_tool_call returned 'yes please', not None, Allow, Deny, Ask or Rewrite"),
    ],
)
def test_a_broken_gate_stops_the_call_naming_the_plugin(
    mode: str, expected: str, mock_model: MockModelServer, codex_home: Path, gate_site: PluginSite,
    git_workspace: Path, run_codex: RunCodex, tmp_path: Path,
) -> None:
    write_mock_config(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["touch", "marker"]}, "call_1"))
    mock_model.responses_turn(Text("carried on"))

    result = run_exec(run_codex, gate_site, git_workspace, mode, tmp_path / "gate.jsonl")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "carried on\n"
    assert not (git_workspace / "marker").exists()
    assert expected in told_to_model(mock_model)


@pytest.mark.parametrize("decision", ["approved", "denied"])
def test_ask_goes_to_the_person_through_the_session_approval_path(
    decision: str, mock_model: MockModelServer, gate_site: PluginSite, tmp_path: Path, git_workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mcp_types

    from tests.mcp.harness import SdkClient, text_of

    home = tmp_path / "mcp-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\napproval_policy = "on-request"\n'
        'sandbox_mode = "workspace-write"\n' + mock_model.provider_toml(request_max_retries=0),
        encoding="utf-8",
    )
    mock_model.responses_turn(Call("shell", {"command": ["touch", "marker"]}, "call_1"))
    mock_model.responses_turn(Text("carried on"))
    for key, value in {**gate_site.env, "GATE_MODE": "ask", "GATE_LOG": str(tmp_path / "gate.jsonl")}.items():
        monkeypatch.setenv(key, value)
    asked: list[str] = []

    async def person(params: mcp_types.ElicitRequestParams) -> mcp_types.ElicitResult:
        asked.append(params.message)
        return mcp_types.ElicitResult(action="accept", content={"decision": decision})

    with SdkClient(home, git_workspace) as server:
        server.answer = person
        result = server.call("codex", {"prompt": "go"}, timeout=EXEC_TIMEOUT)

    assert text_of(result) == "carried on"
    assert len(asked) == 1 and "a person must look at shell" in asked[0]
    assert (git_workspace / "marker").exists() is (decision == "approved")
    if decision == "denied":
        assert "the person declined the call of shell" in told_to_model(mock_model)


# ------------------------------------------------------------------ how answers combine (in-process)


class _Context:
    """The little of a ToolContext the gate reads before it says no (no question is asked here)."""

    call_id = "call_1"
    sub_id = "1"
    cwd = Path("/")
    approval_policy = NeverPolicy()


class _Rewriter:
    def __init__(self, text: str) -> None:
        self.text = text

    @hookimpl
    def codex_before_tool_call(self, call: Any, context: Any) -> Any:
        return Rewrite({"text": self.text})


def _check(*plugins: tuple[str, object]) -> Any:
    """The gate's verdict on one call of ``echo``, asked of these plugins only."""
    gate = ToolGate(make_plugin_manager(autoload=False, builtins=False, extra=plugins), None, timeout_sec=5)
    return asyncio.run(gate.check("echo", "", {"text": "model"}, _Context(), "1"))  # type: ignore[arg-type]


def test_the_first_rewrite_in_pluggy_call_order_wins_over_an_allow() -> None:
    class Allower:
        @hookimpl(tryfirst=True)
        def codex_before_tool_call(self, call: Any, context: Any) -> Any:
            return Allow()

    class Early:
        @hookimpl(tryfirst=True)
        def codex_before_tool_call(self, call: Any, context: Any) -> Any:
            return Rewrite({"text": "early"})

    # pluggy calls tryfirst implementations first, then the last registered.
    assert _check(("allow", Allower()), ("one", _Rewriter("one")), ("two", _Rewriter("two"))) == {"text": "two"}
    assert _check(("late", _Rewriter("late")), ("early", Early())) == {"text": "early"}
    assert _check(("allow", Allower())) == {"text": "model"}


def test_an_async_gate_that_raises_is_named_and_no_other_answer_is_left_unawaited() -> None:
    class Exploding:
        @hookimpl
        async def codex_before_tool_call(self, call: Any, context: Any) -> Any:
            raise ValueError("async gate exploded")

    class Pending:
        @hookimpl(trylast=True)
        async def codex_before_tool_call(self, call: Any, context: Any) -> Any:
            return None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _check(("pending", Pending()), ("exploding", Exploding()))
        gc.collect()

    assert result.success is False
    assert "plugin 'exploding' failed in codex_before_tool_call: ValueError: async gate exploded" in result.output
    assert not [w for w in caught if "never awaited" in str(w.message)]
