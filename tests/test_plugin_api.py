"""The public plugin API: ``codex.plugin`` and the API version a plugin declares.

Throwaway distributions (the ``plugin_site`` fixture) declare versions codex does and does not
support; the real CLI shows what it made of them. ``OLD_STYLE_PLUGIN`` is a plugin written
before ``codex.plugin`` existed (its own pluggy marker, internal imports, no declaration): it
must keep working.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import codex.plugin
from codex.plugins import check_api_version, make_plugin_manager
from tests.conftest import PluginSite, RunCodex
from tests.mock_model import Call, MockModelServer, Text

PROVIDER_PLUGIN = """\
from codex.plugin import hookimpl

{declaration}

@hookimpl
def codex_model_providers():
    return {{"acme": {{"name": "Acme", "base_url": "https://api.acme.invalid/v1", "wire_api": "chat"}}}}
"""

# Written against the hooks as they were before codex.plugin: still loads, still works.
OLD_STYLE_PLUGIN = """\
import pluggy
from pydantic import BaseModel

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
"""


def plugin_rows(run_codex: RunCodex, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    result = run_codex("plugins", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_every_public_name_resolves() -> None:
    missing = [name for name in codex.plugin.__all__ if not hasattr(codex.plugin, name)]
    assert missing == []
    assert codex.plugin.hookimpl.project_name == "codex"
    assert codex.plugin.events.TaskComplete.__name__ == "TaskComplete"
    assert sorted(dir(codex.plugin)) == sorted(codex.plugin.__all__)
    with pytest.raises(AttributeError, match=r"see docs/plugins\.md"):
        codex.plugin.session  # noqa: B018  (an internal module is not part of the API)


def test_importing_the_plugin_api_costs_pluggy_only() -> None:
    probe = (
        "import sys, codex.plugin\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('codex', 'httpx2', 'pydantic', 'click')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "['codex', 'codex.hookspecs', 'codex.plugin']"


@pytest.mark.parametrize("declared", ["1.0", "1.1", "1", 1, " 1.0 "])
def test_the_current_major_version_is_accepted(declared: object) -> None:
    plugin = type("Plugin", (), {"CODEX_PLUGIN_API": declared})
    assert check_api_version(plugin) == (str(declared).strip(), None)


@pytest.mark.parametrize("declared", ["1.2", "2.0", "2", "0.9", "one", "1.0.0", 1.0])
def test_other_versions_are_refused_naming_them(declared: object) -> None:
    plugin = type("Plugin", (), {"CODEX_PLUGIN_API": declared})
    _, refusal = check_api_version(plugin)
    assert refusal is not None and str(declared).strip() in refusal
    assert f"plugin API {codex.plugin.API_VERSION}" in refusal


def test_an_in_memory_plugin_is_held_to_the_same_rule() -> None:
    class Future:
        CODEX_PLUGIN_API = "2.0"

        @codex.plugin.hookimpl
        def codex_model_providers(self) -> dict[str, Any]:
            return {"future": {"name": "Future"}}

    pm = make_plugin_manager(autoload=False, builtins=False, extra=[("future", Future())])
    assert pm.get_plugin("future") is None
    assert pm.records["future"].error is not None and "plugin API 2.0" in pm.records["future"].error
    assert pm.hook.codex_model_providers() == []


def test_a_plugin_for_an_unsupported_version_is_refused_and_shown_broken(
    run_codex: RunCodex, plugin_site: PluginSite
) -> None:
    plugin_site.add("future", PROVIDER_PLUGIN.format(declaration='CODEX_PLUGIN_API = "2.0"'), version="3.1")
    rows = plugin_rows(run_codex, plugin_site.env)
    future = rows["future"]
    assert (future["version"], future["api_version"]) == ("3.1", "2.0")
    assert future["error"] == (
        "written for plugin API 2.0, which this codex does not support (this codex supports plugin API "
        "1.1 and older 1.x); install a release of the plugin made for this codex, or upgrade codex"
    )
    # Not registered: none of its hooks is called, so its provider is not offered.
    assert (future["hooks"], future["provides"]) == ([], {})
    assert rows["openai"]["error"] is None

    table = run_codex("plugins", env=plugin_site.env)
    assert table.returncode == 0
    row = next(line for line in table.stdout.splitlines() if line.startswith("future (BROKEN)"))
    assert row.split()[2:5] == ["codex-plugin-future", "3.1", "2.0"]
    assert "  error: written for plugin API 2.0" in table.stdout
    assert "CODEX_DISABLE_PLUGINS=future" in table.stderr

    shown = run_codex("config", "show", env=plugin_site.env)
    assert shown.returncode == 0
    assert 'model = "gpt-5-codex"' in shown.stdout
    assert "plugin 'future' (codex-plugin-future) is broken: written for plugin API 2.0" in shown.stderr


def test_a_plugin_for_a_supported_version_loads_and_shows_it(run_codex: RunCodex, plugin_site: PluginSite) -> None:
    plugin_site.add("acme", PROVIDER_PLUGIN.format(declaration='CODEX_PLUGIN_API = "1.0"'))
    result = run_codex("plugins", env=plugin_site.env)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("acme "))
    assert row.split()[:4] == ["acme", "codex-plugin-acme", "1.0", "1.0"]
    assert row.endswith("providers: acme")
    assert "note:" not in result.stderr and "broken" not in result.stderr


def test_an_old_style_plugin_without_a_declaration_still_works(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex,
    plugin_site: PluginSite,
) -> None:
    plugin_site.add("old", OLD_STYLE_PLUGIN)
    rows = plugin_rows(run_codex, plugin_site.env)
    assert (rows["old"]["api_version"], rows["old"]["error"]) == (None, None)
    assert rows["old"]["provides"] == {"tools": ["stamp"]}

    table = run_codex("plugins", env=plugin_site.env)
    row = next(line for line in table.stdout.splitlines() if line.startswith("old "))
    assert row.split()[3] == "-"
    assert (
        'note: old declare(s) no plugin API version and load(s) as written for 1.0; the plugin should set '
        'CODEX_PLUGIN_API = "1.1" (see docs/plugins.md)'
    ) in table.stderr

    # Its tool works in a session, and the session says nothing about the missing declaration.
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n' + mock_model.provider_toml(request_max_retries=0)
    )
    mock_model.responses_turn(Call("stamp", {"name": "stamped"}, "call_1"))
    mock_model.responses_turn(Text("done"))
    run = run_codex("exec", "-s", "workspace-write", "go", cwd=git_workspace, env=plugin_site.env)
    assert run.returncode == 0, run.stderr
    assert (git_workspace / "stamped").read_text() == "stamped"
    assert "API" not in run.stderr and "note:" not in run.stderr
