"""Tools as data: a JSON Schema of the parameters, one validator, a dict for the handler.

A throwaway distribution (``codex-plugin-stamper``, made with ``plugin_site``) offers two tools
declared the new way: ``stamp`` writes a file through ``ctx.run_command`` (so the session's
approval policy and sandbox decide), ``shout`` only transforms its arguments. The real CLI runs
``codex exec`` against the mock model; what the model was told is read from its next request,
what a person sees from stderr and ``--json``, what was recorded from the rollout file.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from codex import events as ev
from codex.tools.base import Tool, ToolRegistry, ToolResult
from tests.conftest import PluginSite, RunCodex
from tests.mock_model import Call, MockModelServer, Text

STAMPER = '''
from codex.plugin import CommandRefused, Tool, ToolResult, hookimpl

CODEX_PLUGIN_API = "1.1"

STAMP = {"type": "object", "required": ["name"], "additionalProperties": False,
         "properties": {"name": {"type": "string", "minLength": 1},
                        "times": {"type": "integer", "minimum": 1, "default": 1}}}
SHOUT = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}


async def stamp(args, ctx):
    assert type(args) is dict, type(args)
    try:
        done = await ctx.run_command(["touch", args["name"]], timeout=20)
    except CommandRefused as exc:
        return ToolResult(f"stamp refused: {exc}", success=False)
    return ToolResult(f"touch exited {done.exit_code} sandboxed={done.sandboxed} stderr={done.stderr.strip()}",
                      success=done.exit_code == 0)


async def shout(args, ctx):
    assert type(args) is dict, type(args)
    return ToolResult(args["text"].upper() + "!")


@hookimpl
def codex_tools(config):
    return [Tool("stamp", "Create a file in the workspace.", STAMP, stamp),
            Tool("shout", "Say it louder.", SHOUT, shout, read_only=True)]
'''

EXEC_TIMEOUT = 60


@pytest.fixture
def stamper_site(plugin_site: PluginSite) -> PluginSite:
    plugin_site.add("stamper", STAMPER)
    return plugin_site


def configure(codex_home: Path, mock: MockModelServer, extra: str = "") -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n' + mock.provider_toml(request_max_retries=0) + extra
    )


def told_to_model(mock: MockModelServer) -> dict[str, str]:
    """Every call's output as the model received it in its last request, by call id."""
    items = mock.requests[-1].json["input"]
    return {i["call_id"]: str(i["output"]) for i in items if i.get("type") == "function_call_output"}


def json_items(stdout: str, kind: str) -> list[tuple[str, dict[str, Any]]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    return [(line["type"], line["item"]) for line in lines if line.get("item", {}).get("type") == kind]


# ---------------------------------------------------------------- the validator, through the registry


class Context:
    """What dispatch reads of a ToolContext for tools that need nothing else; records events."""

    call_id = "call_1"
    sub_id = "1"

    def __init__(self) -> None:
        self.events: list[ev.EventMsg] = []

    def emit(self, msg: ev.EventMsg) -> None:
        self.events.append(msg)


def dispatch(tool: Tool, arguments: dict[str, Any], owner: str = "p") -> tuple[ToolResult, Context]:
    ctx = Context()
    registry = ToolRegistry([tool], {tool.name: owner})
    return asyncio.run(registry.dispatch(tool.name, json.dumps(arguments), ctx)), ctx  # type: ignore[arg-type]


async def _echo(args: Any, ctx: Any) -> ToolResult:
    return ToolResult(json.dumps({"kind": type(args).__name__, "args": args}, sort_keys=True))


SCHEMA = {
    "type": "object",
    "required": ["path"],
    "additionalProperties": False,
    "properties": {
        "path": {"type": "string"},
        "limit": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "default": None},
        "mode": {"enum": ["fast", "slow"], "default": "fast"},
        "tags": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    },
}


def test_the_handler_gets_a_plain_dict_with_defaults_filled_in() -> None:
    result, ctx = dispatch(Tool("t", "d", SCHEMA, _echo), {"path": "a.txt"})
    assert result.success
    assert json.loads(result.output) == {"kind": "dict", "args": {"path": "a.txt", "limit": None, "mode": "fast"}}
    begin, end = ctx.events
    assert isinstance(begin, ev.ToolCallBegin) and (begin.tool, begin.plugin) == ("t", "p")
    assert begin.arguments == {"path": "a.txt", "limit": None, "mode": "fast"}
    assert isinstance(end, ev.ToolCallEnd) and end.success and end.output == result.output


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "path: required, but missing"),
        ({"path": 5}, "path: expected a string; got 5"),
        ({"path": "a", "mode": "medium"}, 'mode: expected one of "fast", "slow"; got "medium"'),
        ({"path": "a", "limit": 0}, "limit: expected a value at least 1; got 0"),
        ({"path": "a", "limit": "ten"}, 'limit: expected an integer (at least 1) or null; got "ten"'),
        ({"path": "a", "tags": [{"n": "x"}]}, 'tags[0].n: expected an integer; got "x"'),
        ({"path": "a", "colour": "red"}, "colour: unknown property (known: limit, mode, path, tags)"),
    ],
)
def test_invalid_arguments_name_the_field_and_what_was_expected(arguments: dict[str, Any], expected: str) -> None:
    result, ctx = dispatch(Tool("t", "d", SCHEMA, _echo), arguments)
    assert not result.success
    assert result.output.startswith(f"error: invalid arguments for t: {expected}. Fix them"), result.output
    # The handler never ran, yet the refused call is an item like any other, failed.
    assert [type(e).__name__ for e in ctx.events] == ["ToolCallBegin", "ToolCallEnd"]
    assert ctx.events[1].success is False  # type: ignore[union-attr]


def test_a_tool_whose_schema_is_not_json_schema_cannot_be_called_and_says_why() -> None:
    broken = {"type": "object", "properties": {"n": {"type": "integr"}}}
    result, _ = dispatch(Tool("t", "d", broken, _echo), {"n": 1}, owner="acme")
    assert not result.success
    assert result.output.startswith(
        "error: tool 't' (plugin 'acme') cannot be called: its parameters are not a valid JSON Schema"
    ), result.output


def test_parameters_that_are_not_an_object_schema_leave_the_tool_out_naming_it() -> None:
    registry = ToolRegistry([Tool("t", "d", {"type": "string"}, _echo), Tool("ok", "d", SCHEMA, _echo)], {"t": "acme"})
    assert [spec.name for spec in registry.specs()] == ["ok"]
    assert "tool 't' (plugin 'acme') is left out" in registry.left_out["t"]
    assert "parameters must describe a JSON object" in registry.left_out["t"]


def test_a_deprecated_pydantic_model_is_converted_once_and_its_handler_still_gets_the_model() -> None:
    from pydantic import BaseModel, field_validator

    class Args(BaseModel):
        path: str
        limit: int = 3

        @field_validator("path")
        @classmethod
        def _relative(cls, value: str) -> str:
            if value.startswith("/"):
                raise ValueError("must be relative")
            return value

    async def handler(args: Args, ctx: Any) -> ToolResult:
        return ToolResult(f"{type(args).__name__} {args.path} {args.limit}")

    tool = Tool("legacy", "d", Args, handler)
    with pytest.warns(DeprecationWarning, match="declare them as a JSON Schema dict"):
        schema = tool.spec().parameters
    assert schema["required"] == ["path"] and schema["additionalProperties"] is False
    assert dispatch(tool, {"path": "a"})[0].output == "Args a 3"
    # The JSON Schema check speaks first; the model's own validators still apply after it.
    assert "path: expected a string; got 1" in dispatch(tool, {"path": 1})[0].output
    refused = dispatch(tool, {"path": "/etc"})[0]
    assert not refused.success and "invalid arguments for legacy: path: Value error, must be relative" in refused.output


def test_the_builtin_schemas_are_valid_json_schema_and_check_their_calls() -> None:
    import jsonschema_rs

    from codex.config.model import Config
    from codex.tools.builtin import builtin_tools

    for policy in ("on-request", "never"):
        for tool in builtin_tools(Config(approval_policy=policy)):
            jsonschema_rs.meta.validate(tool.schema())  # raises, naming the place, if it is not JSON Schema
            # shown as commands, patches and plans; view_image as a generic tool call item
            assert tool.reports_own_items == (tool.name != "view_image")
    [_shell, _patch, plan, _view_image] = builtin_tools(Config())
    bad = {"plan": [{"step": "one", "status": "done"}]}
    result, ctx = dispatch(plan, bad, owner="core-tools")
    assert result.output.startswith(
        'error: invalid arguments for update_plan: plan[0].status: expected one of "pending", "in_progress", '
        '"completed"; got "done"'
    )
    assert ctx.events == []  # built-ins report their own items; an unrun call has none
    two = {"plan": [{"step": "a", "status": "in_progress"}, {"step": "b", "status": "in_progress"}]}
    assert "at most one step may be in_progress" in dispatch(plan, two)[0].output


# ---------------------------------------------------------------- plugin tools are items everywhere


def test_a_plugin_tool_call_is_an_item_in_json_the_transcript_and_the_rollout(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
    stamper_site: PluginSite,
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_turn(Call("shout", {"text": "hello"}, "call_ok"), Call("shout", {"text": 7}, "call_bad"))
    mock_model.responses_turn(Text("shouted"))

    result = run_codex("exec", "--json", "shout", cwd=git_workspace, env=stamper_site.env, timeout=EXEC_TIMEOUT)

    assert result.returncode == 0, result.stderr
    offered = {t["name"]: t for t in mock_model.requests[0].json["tools"]}
    assert offered["shout"]["parameters"]["required"] == ["text"]
    told = told_to_model(mock_model)
    assert told["call_ok"] == "HELLO!"
    assert told["call_bad"].startswith("error: invalid arguments for shout: text: expected a string; got 7.")
    items = json_items(result.stdout, "tool_call")
    assert [(kind, item["tool"], item["plugin"], item["status"]) for kind, item in items] == [
        ("item.started", "shout", "stamper", "in_progress"),
        ("item.completed", "shout", "stamper", "completed"),
        ("item.started", "shout", "stamper", "in_progress"),
        ("item.completed", "shout", "stamper", "failed"),
    ]
    completed, failed = items[1][1], items[3][1]
    assert completed["arguments"] == {"text": "hello"}
    assert (completed["result"], completed["error"]) == ({"output": "HELLO!"}, None)
    assert failed["result"] is None and failed["error"]["message"] == told["call_bad"]
    assert completed["id"] == items[0][1]["id"] != failed["id"]

    # Recorded: the rollout holds both calls and their outputs, and a resumed TUI shows them.
    from codex.cli.tui.render import history_lines
    from codex.cli.tui.text import Palette
    from codex.rollout import find_session, read_session

    saved = read_session(find_session(codex_home))
    lines = history_lines(saved.items, Palette(False), lambda text: [text], 100)
    assert '• called shout {"text": "hello"}' in lines
    assert "  │ HELLO!" in lines
    assert any(line.startswith("  │ error: invalid arguments for shout") for line in lines)


def test_exec_transcript_shows_a_plugin_tool_call(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
    stamper_site: PluginSite,
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_turn(Call("shout", {"text": "hello"}, "call_ok"))
    mock_model.responses_turn(Text("shouted"))

    result = run_codex("exec", "shout", cwd=git_workspace, env=stamper_site.env, timeout=EXEC_TIMEOUT)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "shouted\n"
    transcript = result.stderr.splitlines()
    start = transcript.index('tool shout (plugin stamper) {"text": "hello"}')
    assert transcript[start + 1].startswith("shout succeeded in ") and transcript[start + 2] == "HELLO!"


def test_an_old_style_plugin_tool_still_works_and_is_checked_by_the_same_validator(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
) -> None:
    """tests/thirdparty_plugin: a pydantic model by reference, a handler reading attributes."""
    configure(codex_home, mock_model)
    (git_workspace / "poem.txt").write_text("so much depends\nupon a red wheel barrow\n")
    mock_model.responses_turn(Call("word_count", {"path": "poem.txt"}, "call_ok"),
                              Call("word_count", {"path": ["poem.txt"]}, "call_bad"))
    mock_model.responses_turn(Text("eight"))

    result = run_codex("exec", "--json", "count", cwd=git_workspace, timeout=EXEC_TIMEOUT)

    assert result.returncode == 0, result.stderr
    told = told_to_model(mock_model)
    assert told["call_ok"] == "8"
    assert told["call_bad"].startswith("error: invalid arguments for word_count: path: expected a string; got an array")
    items = json_items(result.stdout, "tool_call")
    completed = [item for kind, item in items if kind == "item.completed"]
    assert [(item["plugin"], item["arguments"], item["status"]) for item in completed] == [
        ("example", {"path": "poem.txt"}, "completed"),
        ("example", {"path": ["poem.txt"]}, "failed"),
    ]


# ---------------------------------------------------------------- ctx.run_command


def test_run_command_under_a_read_only_sandbox_cannot_write(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
    stamper_site: PluginSite,
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_turn(Call("stamp", {"name": "marker"}, "call_1"))
    mock_model.responses_turn(Text("tried"))

    result = run_codex(
        "exec", "--json", "-s", "read-only", "-a", "never", "stamp it", cwd=git_workspace, env=stamper_site.env,
        timeout=EXEC_TIMEOUT,
    )

    assert result.returncode == 0, result.stderr
    assert not (git_workspace / "marker").exists()
    told = told_to_model(mock_model)["call_1"]
    assert "touch exited 1 sandboxed=True" in told and "marker" in told, told
    # The command is an item of its own, inside the tool's item.
    kinds = [(item["type"], kind) for kind, item in
             json_items(result.stdout, "tool_call") + json_items(result.stdout, "command_execution")]
    assert ("command_execution", "item.completed") in kinds and ("tool_call", "item.completed") in kinds
    commands = [item for kind, item in json_items(result.stdout, "command_execution") if kind == "item.completed"]
    assert commands[0]["command"] == "touch marker" and commands[0]["status"] == "failed"
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    order = [(line["type"], line["item"]["type"]) for line in lines if "item" in line]
    assert order.index(("item.started", "tool_call")) < order.index(("item.started", "command_execution"))
    assert order.index(("item.completed", "command_execution")) < order.index(("item.completed", "tool_call"))


def test_run_command_in_a_writable_workspace_runs_sandboxed(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
    stamper_site: PluginSite,
) -> None:
    configure(codex_home, mock_model)
    mock_model.responses_turn(Call("stamp", {"name": "marker"}, "call_1"))
    mock_model.responses_turn(Text("stamped"))

    result = run_codex("exec", "--full-auto", "stamp it", cwd=git_workspace, env=stamper_site.env, timeout=EXEC_TIMEOUT)

    assert result.returncode == 0, result.stderr
    assert (git_workspace / "marker").exists()
    assert told_to_model(mock_model)["call_1"].startswith("touch exited 0 sandboxed=True")
    assert "exec touch marker in " in result.stderr  # the command shows in the transcript


@pytest.fixture
def stamper_module(tmp_path: Path) -> Iterator[ModuleType]:
    """The stamper plugin as a module object, for an in-process session."""
    module = ModuleType("codex_test_stamper_inprocess")
    exec(compile(STAMPER, "<stamper>", "exec"), module.__dict__)
    sys.modules[module.__name__] = module
    try:
        yield module
    finally:
        sys.modules.pop(module.__name__, None)


@pytest.mark.skipif(sys.platform != "linux", reason="commands are confined by the Linux backend")
@pytest.mark.parametrize("decision", [ev.ReviewDecision.APPROVED, ev.ReviewDecision.DENIED])
def test_run_command_under_untrusted_asks_the_person(
    decision: ev.ReviewDecision, mock_model: MockModelServer, tmp_path: Path, stamper_module: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from codex.config.loader import load_config
    from codex.engine import open_session
    from codex.plugins import make_plugin_manager

    home, ws = tmp_path / "home", tmp_path / "ws"
    home.mkdir()
    ws.mkdir()
    monkeypatch.delenv("TMPDIR", raising=False)
    mock_model.responses_turn(Call("stamp", {"name": "marker"}, "call_1"))
    mock_model.responses_text("done")

    async def drive() -> tuple[list[ev.EventMsg], list[ev.EventMsg]]:
        pm = make_plugin_manager(extra=[("stamper", stamper_module)])
        loaded = load_config(
            home=home,
            cwd=ws,
            cli_overrides=[
                'model_provider="mock"',
                f'model_providers.mock={{base_url="{mock_model.base_url}", wire_api="responses", '
                "request_max_retries=0, stream_max_retries=0}",
            ],
            flags={"approval_policy": "untrusted", "sandbox_mode": "workspace-write"},
        )
        session = await open_session(pm, loaded, record=False)
        session.submit(ev.UserInput("go"))
        asked: list[ev.EventMsg] = []
        seen: list[ev.EventMsg] = []
        try:
            async with asyncio.timeout(30):
                while True:
                    msg = (await session.next_event()).msg
                    seen.append(msg)
                    if isinstance(msg, ev.ExecApprovalRequest):
                        asked.append(msg)
                        session.submit(ev.ApprovalAnswer(msg.request_id, decision))
                    elif isinstance(msg, ev.TaskComplete | ev.TurnAborted | ev.Error):
                        break
        finally:
            await session.close()
        return asked, seen

    asked, seen = asyncio.run(drive())

    assert [(a.command, a.call_id) for a in asked] == [(["touch", "marker"], "call_1")]  # type: ignore[union-attr]
    told = told_to_model(mock_model)["call_1"]
    names = [type(m).__name__ for m in seen]
    if decision is ev.ReviewDecision.APPROVED:
        assert (ws / "marker").exists()
        assert told.startswith("touch exited 0 sandboxed=True"), told
        begin = next(m for m in seen if isinstance(m, ev.ExecCommandBegin))
        assert begin.command == ["touch", "marker"] and begin.call_id != "call_1"
        assert names.index("ToolCallBegin") < names.index("ExecCommandBegin") < names.index("ToolCallEnd")
    else:
        assert not (ws / "marker").exists()
        assert told.startswith("stamp refused: the user denied this command"), told
        assert "ExecCommandBegin" not in names
