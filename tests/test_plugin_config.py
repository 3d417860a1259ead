"""``[plugins.<name>]`` tables: declared by a plugin (``codex_config_schema``), checked like config.

Throwaway distributions made with ``plugin_site`` declare their tables, one as a pydantic model
and one as a JSON Schema dict; the real CLI loads config.toml, ``-c`` and profiles, and a tool of
the plugin answers with its configured value in ``codex exec`` against the mock model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PluginSite, RunCodex
from tests.mock_model import MockModelServer

EXEC_TIMEOUT = 60.0

# A tool plugin whose table is a pydantic model; its tool answers with the configured greeting.
GREETER = '''
from pydantic import BaseModel
from codex.plugin import Tool, ToolResult, hookimpl

CODEX_PLUGIN_API = "1.0"


class GreeterConfig(BaseModel):
    greeting: str = "hello"
    repeat: int = 1


class NoArgs(BaseModel):
    pass


@hookimpl
def codex_config_schema():
    return {"greeter": GreeterConfig}


@hookimpl
def codex_tools(config):
    settings = config.plugin_config("greeter")

    async def greet(args, ctx):
        return ToolResult(" ".join([settings.greeting] * settings.repeat))

    # Read while registering, as a plugin may: `codex plugins` must hand it a checked table too.
    return [Tool("greet", f"Say {settings.greeting!r}.", NoArgs, greet)]
'''

# A plugin whose table is a JSON Schema dict (no pydantic needed to declare it).
LIMITS = '''
from codex.plugin import hookimpl

CODEX_PLUGIN_API = "1.0"


@hookimpl
def codex_config_schema():
    return {"limits": {
        "type": "object",
        "properties": {
            "max_words": {"type": "integer", "minimum": 1, "default": 100},
            "style": {"enum": ["short", "long"]},
        },
        "additionalProperties": False,
    }}
'''


@pytest.fixture
def site(plugin_site: PluginSite) -> PluginSite:
    plugin_site.add("greeter", GREETER)
    plugin_site.add("limits", LIMITS)
    return plugin_site


def test_a_declared_table_reaches_the_plugin_tool_without_warnings(
    run_codex: RunCodex, site: PluginSite, codex_home: Path, mock_model: MockModelServer, git_workspace: Path
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml(request_max_retries=0)
        + '\n[plugins.greeter]\ngreeting = "ahoy"\nrepeat = 2\n\n[plugins.limits]\nmax_words = 7\n'
    )
    mock_model.responses_call("greet", {}, call_id="call_1")
    mock_model.responses_text("done")

    result = run_codex("exec", "--strict-config", "go", cwd=git_workspace, env=site.env, timeout=EXEC_TIMEOUT)

    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    items = mock_model.requests[-1].json["input"]
    told = next(str(i["output"]) for i in items if i.get("call_id") == "call_1" and "output" in i)
    assert "ahoy ahoy" in told


def test_a_wrong_type_fails_with_the_file_line_and_key_path(
    run_codex: RunCodex, site: PluginSite, write_config: Callable[[str], Path]
) -> None:
    path = write_config('model = "o3"\n\n[plugins.greeter]\nrepeat = "twice"\n')

    result = run_codex("config", "show", env=site.env)

    assert result.returncode == 1
    assert f"{path}:4:10: plugins.greeter.repeat: expected" in result.stderr
    assert 'got "twice"' in result.stderr


def test_a_json_schema_table_is_checked_with_the_same_messages(
    run_codex: RunCodex, site: PluginSite, write_config: Callable[[str], Path]
) -> None:
    path = write_config('[plugins.limits]\nmax_words = 0\nstyle = "medium"\ncolour = "red"\n')

    result = run_codex("config", "show", env=site.env)

    assert result.returncode == 1
    assert f"{path}:2:13: plugins.limits.max_words: expected a value at least 1; got 0" in result.stderr
    assert f'{path}:3:9: plugins.limits.style: expected one of "short", "long"; got "medium"' in result.stderr
    assert "plugins.limits.colour: unknown key" in result.stderr


def test_dash_c_sets_a_plugin_key_and_config_show_says_so(
    run_codex: RunCodex, site: PluginSite, write_config: Callable[[str], Path]
) -> None:
    write_config('[plugins.greeter]\ngreeting = "ahoy"\n')

    result = run_codex("-c", "plugins.greeter.repeat=3", "config", "show", env=site.env)

    assert result.returncode == 0, result.stderr
    assert "[plugins.greeter]" in result.stdout
    assert 'greeting = "ahoy"  # from config.toml:2' in result.stdout
    assert "repeat = 3  # from -c" in result.stdout
    # The JSON Schema's default is shown as one.
    assert "max_words = 100  # default" in result.stdout
    assert "warning" not in result.stderr


def test_dash_c_with_a_wrong_value_names_the_argument(run_codex: RunCodex, site: PluginSite, codex_home: Path) -> None:
    result = run_codex("-c", "plugins.greeter.repeat=many", "config", "show", env=site.env)

    assert result.returncode == 1
    assert "-c plugins.greeter.repeat=" in result.stderr
    assert "plugins.greeter.repeat: expected" in result.stderr


def test_a_profile_sets_a_plugin_table(
    run_codex: RunCodex, site: PluginSite, write_config: Callable[[str], Path]
) -> None:
    write_config('[plugins.greeter]\ngreeting = "ahoy"\n\n[profiles.loud.plugins.greeter]\ngreeting = "HEY"\n')

    result = run_codex("-p", "loud", "config", "show", "--json", env=site.env)

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["config"]["plugins"]["greeter"]["greeting"] == "HEY"
    assert payload["origins"]["plugins.greeter.greeting"] == "profile loud"


def test_a_table_no_plugin_declares_warns_once_naming_it(
    run_codex: RunCodex, site: PluginSite, write_config: Callable[[str], Path]
) -> None:
    path = write_config('[plugins.nosuch]\nkey = 1\nother = 2\n\n[plugins.greeter]\nrepeat = 2\n')

    result = run_codex("config", "show", env=site.env)

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr
    assert f"{path}:2:7: [plugins.nosuch]: no installed plugin declares a config table 'nosuch'" in warnings[0]
    assert "greeter" in warnings[0]  # the declared tables are listed

    strict = run_codex("config", "show", "--strict-config", env=site.env)
    assert strict.returncode == 1
    assert "[plugins.nosuch]" in strict.stderr


def test_declared_tables_are_not_unknown_keys_under_strict_config(
    run_codex: RunCodex, site: PluginSite, write_config: Callable[[str], Path]
) -> None:
    write_config('[plugins.greeter]\ngreeting = "ahoy"\n')

    result = run_codex("config", "show", "--strict-config", env=site.env)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_config_set_refuses_a_wrong_plugin_value_and_keeps_the_file(
    run_codex: RunCodex, site: PluginSite, write_config: Callable[[str], Path]
) -> None:
    path = write_config('[plugins.greeter]\nrepeat = 2\n')

    refused = run_codex("config", "set", "plugins.greeter.repeat", '"lots"', env=site.env)
    accepted = run_codex("config", "set", "plugins.limits.max_words", "5", env=site.env)

    assert refused.returncode == 1
    assert "plugins.greeter.repeat: expected" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert path.read_text() == '[plugins.greeter]\nrepeat = 2\n\n[plugins.limits]\nmax_words = 5\n'


def test_codex_plugins_hands_plugins_their_defaults(run_codex: RunCodex, site: PluginSite) -> None:
    result = run_codex("plugins", "--json", env=site.env)

    assert result.returncode == 0, result.stderr
    greeter = next(record for record in json.loads(result.stdout) if record["name"] == "greeter")
    assert greeter["error"] is None
    assert greeter["provides"] == {"tools": ["greet"]}


_TABLE_PROBE = """
import json, sys
from codex.config import load_config
schema = {"type": "object", "properties": {"max_words": {"type": "integer", "minimum": 1, "default": 100},
                                           "style": {"enum": ["short", "long"], "default": "short"}}}
loaded = load_config(plugin_schemas={"limits": schema})
print(json.dumps({"checked": "jsonschema_rs" in sys.modules, "jsonschema": "jsonschema" in sys.modules,
                  "limits": loaded.config.plugin_config("limits")}))
"""


@pytest.mark.caching
def test_a_json_schema_table_is_checked_on_every_run_by_jsonschema_rs(
    codex_home: Path, write_config: Callable[[str], Path]
) -> None:
    import subprocess
    import sys

    write_config("[plugins.limits]\nmax_words = 5\n")
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _TABLE_PROBE], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout))
    # Caches are on, yet the second run checks the table again: no verdict stands in for it.
    assert [run["checked"] for run in runs] == [True, True]
    assert [run["jsonschema"] for run in runs] == [False, False]  # the ~42 ms package stays out
    assert runs[0]["limits"] == runs[1]["limits"] == {"max_words": 5, "style": "short"}

    path = write_config("[plugins.limits]\nmax_words = -5\n")
    bad = subprocess.run([sys.executable, "-c", _TABLE_PROBE], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert f"{path}:2:13: plugins.limits.max_words: expected a value at least 1; got -5" in bad.stderr


def test_a_missing_required_key_is_named_for_both_kinds_of_schema() -> None:
    from pydantic import BaseModel

    from codex.config.plugin_tables import check_plugin_tables

    class Needs(BaseModel):
        token_file: str

    schemas = {
        "model": Needs,
        "schema": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
    }
    checked, _shown, errors = check_plugin_tables({}, schemas, lambda loc: "config.toml")

    assert checked == {}
    assert errors == [
        "config.toml: plugins.model.token_file: required key is missing; add it to [plugins.model]",
        "config.toml: plugins.schema.url: required key is missing; add it to [plugins.schema]",
    ]
