"""Registry hooks are called through pluggy itself: wrappers, tryfirst/trylast, and who wins a name.

Each test installs throwaway distributions with the ``plugin_site`` fixture and drives the real
CLI in a subprocess (``codex exec`` against the mock model, ``codex plugins``), so what is
checked is what a plugin author observes: which tools the model is offered, whose handler
answers a call, and what codex says on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PluginSite, RunCodex
from tests.mock_model import Call, MockModelServer, Text

PLAN = {"plan": [{"step": "one", "status": "pending"}]}
EXEC_TIMEOUT = 40.0

PREAMBLE = '''
import pluggy

from codex.sandbox import Availability
from codex.tools.base import Tool, ToolResult

hookimpl = pluggy.HookimplMarker("codex")
ARGS = {"type": "object", "properties": {"plan": {"type": "array"}}, "required": ["plan"]}


def tool(name, label):
    async def handler(args, ctx):
        return ToolResult(f"{name} answered by {label} ({len(args['plan'])} step)")

    return Tool(name, f"A test tool of {label}.", ARGS, handler)
'''

NEW_STYLE_WRAPPER = PREAMBLE + '''
@hookimpl(wrapper=True)
def codex_tools(config):
    offered = yield
    # Modify what the others offered (drop update_plan) and add a tool of our own.
    kept = [[t for t in group if t.name != "update_plan"] for group in offered]
    return [*kept, [tool("wrapped", "the new-style wrapper")]]
'''

OLD_STYLE_WRAPPER = PREAMBLE + '''
@hookimpl(hookwrapper=True)
def codex_tools(config):
    outcome = yield
    offered = outcome.get_result()
    kept = [[t for t in group if t.name != "update_plan"] for group in offered]
    outcome.force_result([*kept, [tool("wrapped", "the old-style wrapper")]])
'''

GOOD_TOOL = PREAMBLE + '''
@hookimpl
def codex_tools(config):
    return [tool("good_tool", "the good plugin")]
'''

# Each way a plugin can raise while tools are collected; every one must be named as its plugin's.
RAISERS = {
    "plain": '''
@hookimpl
def codex_tools(config):
    raise RuntimeError("no tools today")
''',
    "new-style wrapper": '''
@hookimpl(wrapper=True)
def codex_tools(config):
    yield
    raise RuntimeError("no tools today")
''',
    "old-style wrapper": '''
@hookimpl(hookwrapper=True)
def codex_tools(config):
    yield
    raise RuntimeError("no tools today")
''',
    "wrapper that never yields": '''
@hookimpl(wrapper=True)
def codex_tools(config):
    if False:
        yield
    return []
''',
}


def twin_plugin(label: str, opts: str) -> str:
    """A plugin offering one of everything under names another plugin also uses."""
    return PREAMBLE + f'''
LABEL = {label!r}


class Wire:
    async def stream(self, prompt, provider):
        raise RuntimeError("never chosen in these tests")
        yield


class Box:
    name = "twin-box"
    priority = 0

    def availability(self):
        return Availability(False, "a test double")


class Policy:
    name = "twin-policy"


@hookimpl({opts})
def codex_tools(config):
    return [tool("twin", LABEL)]


@hookimpl({opts})
def codex_wire_apis():
    return {{"twin-wire": Wire()}}


@hookimpl({opts})
def codex_model_providers():
    return {{"twin-provider": {{"name": LABEL, "base_url": "http://127.0.0.1:9/v1", "wire_api": "twin-wire"}}}}


@hookimpl({opts})
def codex_sandboxes():
    return [Box()]


@hookimpl({opts})
def codex_approval_policies():
    return {{"twin-policy": Policy()}}
'''


@pytest.fixture
def workspace(git_workspace: Path) -> Path:
    return git_workspace


@pytest.fixture
def mock_config(mock_model: MockModelServer, write_config: Any) -> MockModelServer:
    write_config('model = "mock-model"\nmodel_provider = "mock"\n' + mock_model.provider_toml("mock", "responses"))
    return mock_model


def offered_tools(mock: MockModelServer) -> list[str]:
    return [t["name"] for t in mock.requests[0].json["tools"]]


def told_to_model(mock: MockModelServer) -> str:
    """The output of call_1 as the model received it in its second request."""
    items = mock.requests[1].json["input"]
    return next(str(i["output"]) for i in items if i.get("type") == "function_call_output")


def exec_calling(run_codex: RunCodex, site: PluginSite, workspace: Path, mock: MockModelServer, tool: str) -> Any:
    """``codex exec`` where the model calls ``tool`` once and then answers "done"."""
    mock.responses_turn(Call(tool, PLAN, "call_1"))
    mock.responses_turn(Text("done"))
    return run_codex("exec", "go", cwd=workspace, env=site.env, timeout=EXEC_TIMEOUT)


@pytest.mark.parametrize(
    ("source", "label"),
    [(NEW_STYLE_WRAPPER, "the new-style wrapper"), (OLD_STYLE_WRAPPER, "the old-style wrapper")],
    ids=["wrapper=True", "hookwrapper=True"],
)
def test_a_wrapper_on_codex_tools_changes_what_the_model_is_offered(
    source: str, label: str, mock_config: MockModelServer, plugin_site: PluginSite, workspace: Path,
    run_codex: RunCodex,
) -> None:
    plugin_site.add("wrapping", source)

    result = exec_calling(run_codex, plugin_site, workspace, mock_config, "wrapped")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    tools = offered_tools(mock_config)
    assert "wrapped" in tools and "shell" in tools and "update_plan" not in tools
    assert told_to_model(mock_config) == f"wrapped answered by {label} (1 step)"
    # `codex plugins` names the wrapper's plugin as the one that provides the tool it added.
    listed = run_codex("plugins", "--json", env=plugin_site.env)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["wrapping"]["provides"] == {"tools": ["wrapped"]}
    assert rows["wrapping"]["error"] is None


@pytest.mark.parametrize("how", sorted(RAISERS))
def test_a_plugin_raising_in_codex_tools_is_named_and_the_others_still_work(
    how: str, mock_config: MockModelServer, plugin_site: PluginSite, workspace: Path, run_codex: RunCodex
) -> None:
    plugin_site.add("good", GOOD_TOOL)
    plugin_site.add("raiser", PREAMBLE + RAISERS[how])

    result = exec_calling(run_codex, plugin_site, workspace, mock_config, "good_tool")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert "plugin 'raiser' failed in codex_tools" in result.stderr
    assert "CODEX_DISABLE_PLUGINS=raiser" in result.stderr
    assert "Traceback" not in result.stderr and "PluggyTeardownRaisedWarning" not in result.stderr
    assert {"good_tool", "shell", "update_plan"} <= set(offered_tools(mock_config))
    assert told_to_model(mock_config) == "good_tool answered by the good plugin (1 step)"


def test_a_raising_plugin_is_blamed_not_the_wrapper_its_exception_passed_through(
    mock_config: MockModelServer, plugin_site: PluginSite, workspace: Path, run_codex: RunCodex
) -> None:
    plugin_site.add("wrapping", NEW_STYLE_WRAPPER)
    plugin_site.add("raiser", PREAMBLE + RAISERS["plain"])

    result = exec_calling(run_codex, plugin_site, workspace, mock_config, "wrapped")

    assert result.returncode == 0, result.stderr
    assert "plugin 'raiser' failed in codex_tools: RuntimeError: no tools today" in result.stderr
    assert "plugin 'wrapping' failed" not in result.stderr
    assert told_to_model(mock_config) == "wrapped answered by the new-style wrapper (1 step)"


@pytest.mark.parametrize("first", ["alpha", "beta"])
def test_tryfirst_decides_which_of_two_plugins_offering_a_name_is_used(
    first: str, mock_config: MockModelServer, plugin_site: PluginSite, workspace: Path, run_codex: RunCodex
) -> None:
    for label in ("alpha", "beta"):
        plugin_site.add(label, twin_plugin(label, "tryfirst=True" if label == first else ""))
    other = "beta" if first == "alpha" else "alpha"

    result = exec_calling(run_codex, plugin_site, workspace, mock_config, "twin")

    assert result.returncode == 0, result.stderr
    assert told_to_model(mock_config) == f"twin answered by {first} (1 step)"
    assert offered_tools(mock_config).count("twin") == 1
    for kind, name in [
        ("tool", "twin"), ("wire API", "twin-wire"), ("sandbox backend", "twin-box"), ("approval policy", "twin-policy")
    ]:
        assert (
            f"{kind} {name!r} is offered by both plugin {first!r} and plugin {other!r}; using the one from {first!r}"
        ) in result.stderr
    assert (
        f"model provider 'twin-provider' is defined by both plugin {first!r} and plugin {other!r}; "
        f"using the one from {first!r}"
    ) in result.stderr


@pytest.mark.parametrize(("opts", "winner"), [("", "bold"), ("trylast=True", "core-tools")], ids=["plain", "trylast"])
def test_an_installed_plugin_is_asked_before_the_builtins_unless_it_says_trylast(
    opts: str, winner: str, mock_config: MockModelServer, plugin_site: PluginSite, workspace: Path,
    run_codex: RunCodex,
) -> None:
    plugin_site.add("bold", PREAMBLE + f'''
@hookimpl({opts})
def codex_tools(config):
    return [tool("update_plan", "bold")]
''')
    loser = "core-tools" if winner == "bold" else "bold"

    result = exec_calling(run_codex, plugin_site, workspace, mock_config, "update_plan")

    assert result.returncode == 0, result.stderr
    assert (
        f"tool 'update_plan' is offered by both plugin {winner!r} and plugin {loser!r}; using the one from {winner!r}"
    ) in result.stderr
    told = told_to_model(mock_config)
    if winner == "bold":
        assert told == "update_plan answered by bold (1 step)"
    else:
        assert "answered by" not in told  # the built-in update_plan answered


def test_duplicate_provider_names_warn_in_config_show_and_the_first_is_shown(
    run_codex: RunCodex, plugin_site: PluginSite
) -> None:
    plugin_site.add("alpha", twin_plugin("alpha", "tryfirst=True"))
    plugin_site.add("beta", twin_plugin("beta", ""))

    shown = run_codex("config", "show", env=plugin_site.env)

    assert shown.returncode == 0, shown.stderr
    assert (
        "model provider 'twin-provider' is defined by both plugin 'alpha' and plugin 'beta'; using the one from 'alpha'"
    ) in shown.stderr
    assert 'name = "alpha"  # from plugin alpha' in shown.stdout


def test_owners_are_named_when_a_plugin_returns_nothing() -> None:
    """An implementation returning None shortens pluggy's list; owners are then asked one by one."""
    from codex.hookspecs import hookimpl
    from codex.plugins import collect_registry, make_plugin_manager

    class Offers:
        def __init__(self, value: dict[str, str] | None) -> None:
            self.value = value

        @hookimpl
        def codex_approval_policies(self) -> dict[str, str] | None:
            return self.value

    pm = make_plugin_manager(
        autoload=False,
        builtins=False,
        extra=[
            ("first-registered", Offers({"x": "a"})),
            ("silent", Offers(None)),
            ("last-registered", Offers({"x": "b"})),
        ],
    )

    registry = collect_registry(pm, "codex_approval_policies", "approval policy")

    # pluggy asks the last registered first: its entry wins, and the clash names both plugins.
    assert (registry.get("x"), registry.plugin_of("x")) == ("b", "last-registered")
    assert pm.hook_duplicates("codex_approval_policies") == [
        "approval policy 'x' is offered by both plugin 'last-registered' and plugin 'first-registered'; "
        "using the one from 'last-registered' (disable the other with CODEX_DISABLE_PLUGINS=first-registered)"
    ]
