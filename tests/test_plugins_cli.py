"""``codex plugins`` and plugin isolation: the separately packaged third-party plugin shows up with
its distribution and version, and a broken plugin never takes another command down."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from codex.config.model import Config
from codex.plugins import collect_registry, make_plugin_manager
from tests.conftest import PluginSite, RunCodex


def plugin_rows(run_codex: RunCodex, env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    result = run_codex("plugins", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_third_party_plugin_is_listed_with_its_distribution_and_version(run_codex: RunCodex) -> None:
    rows = plugin_rows(run_codex)
    example = rows["example"]
    assert (example["distribution"], example["version"], example["builtin"]) == ("codex-plugin-example", "0.3.1", False)
    assert example["hooks"] == ["codex_cli_commands", "codex_model_providers", "codex_tools"]
    assert example["provides"] == {"providers": ["example"], "tools": ["word_count"]}
    assert example["error"] is None
    # built-ins are listed through the same machinery
    assert rows["openai"]["distribution"] == "codex-py"
    assert rows["core-sandbox"]["provides"]["sandboxes"] == ["none"]


def test_plugins_table(run_codex: RunCodex) -> None:
    result = run_codex("plugins")
    assert result.returncode == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "API", "HOOKS", "PROVIDES"]
    example = next(row for row in rows if row.startswith("example "))
    assert example.split()[:4] == ["example", "codex-plugin-example", "0.3.1", "1.0"]
    assert example.endswith("providers: example; tools: word_count")


def test_a_plugin_that_fails_to_import_is_shown_broken_and_isolated(
    run_codex: RunCodex, plugin_site: PluginSite
) -> None:
    plugin_site.add("broken", "raise ImportError('needs the frobnicator package')\n", version="2.0")
    rows = plugin_rows(run_codex, plugin_site.env)
    assert rows["broken"]["error"] == "ImportError: needs the frobnicator package"
    assert rows["broken"]["distribution"] == "codex-plugin-broken" and rows["broken"]["version"] == "2.0"
    assert rows["example"]["error"] is None and rows["openai"]["error"] is None

    table = run_codex("plugins", env=plugin_site.env)
    assert table.returncode == 0
    assert "broken (BROKEN)" in table.stdout
    assert "  error: ImportError: needs the frobnicator package" in table.stdout
    assert "CODEX_DISABLE_PLUGINS=broken" in table.stderr

    shown = run_codex("config", "show", env=plugin_site.env)
    assert shown.returncode == 0
    assert "plugin 'broken' (codex-plugin-broken) is broken" in shown.stderr
    assert 'model = "gpt-5-codex"' in shown.stdout

    hello = run_codex("example-hello", env=plugin_site.env)
    assert hello.returncode == 0 and hello.stdout.startswith("hello, world")


def test_a_plugin_whose_hook_raises_is_isolated(run_codex: RunCodex, plugin_site: PluginSite) -> None:
    plugin_site.add(
        "raises",
        """\
        import pluggy
        hookimpl = pluggy.HookimplMarker("codex")

        @hookimpl
        def codex_model_providers():
            raise RuntimeError("provider table unavailable")
        """,
    )
    shown = run_codex("config", "show", env=plugin_site.env)
    assert shown.returncode == 0
    assert "codex_model_providers raised RuntimeError: provider table unavailable" in shown.stderr
    assert "[model_providers.openai]" in shown.stdout
    assert plugin_rows(run_codex, plugin_site.env)["raises"]["error"] is not None


def test_disable_and_select_plugins(run_codex: RunCodex) -> None:
    assert "example" not in plugin_rows(run_codex, {"CODEX_DISABLE_PLUGINS": "example,ollama"})
    only = plugin_rows(run_codex, {"CODEX_PLUGINS": "openai"})
    assert set(only) == {"core-tools", "core-approval", "core-sandbox", "core-notify", "openai"}
    help_text = run_codex("--help", env={"CODEX_DISABLE_PLUGINS": "example"}).stdout
    assert "Plugin commands:" not in help_text and "example-hello" not in help_text


def test_a_plugin_cannot_replace_a_builtin_command(run_codex: RunCodex, plugin_site: PluginSite) -> None:
    plugin_site.add(
        "shadow",
        """\
        import click
        import pluggy
        hookimpl = pluggy.HookimplMarker("codex")

        @hookimpl
        def codex_cli_commands(cli):
            @cli.command("config")
            def hijack():
                "Not the real config."
                click.echo("hijacked")

            @cli.command("shadow-ok")
            def fine():
                "A new name is fine."
                click.echo("shadow ok")
        """,
    )
    hijack = run_codex("config", "path", env=plugin_site.env)
    assert hijack.returncode == 0 and "hijacked" not in hijack.stdout and hijack.stdout.endswith("config.toml\n")
    ok = run_codex("shadow-ok", env=plugin_site.env)
    assert ok.stdout == "shadow ok\n"
    assert "a plugin tried to add the command 'config', which already exists; ignored" in ok.stderr


def test_user_table_overrides_a_third_party_provider(run_codex: RunCodex, codex_home: Path) -> None:
    (codex_home / "config.toml").write_text('[model_providers.example]\nbase_url = "http://127.0.0.1:9/v1"\n')
    shown = run_codex("-c", "model_provider=example", "config", "show").stdout
    assert 'model_provider = "example"  # from -c' in shown
    assert 'base_url = "http://127.0.0.1:9/v1"  # from config.toml:2' in shown
    assert 'env_key = "EXAMPLE_API_KEY"  # from plugin example' in shown


def test_third_party_tool_runs(tmp_path: Path) -> None:
    pm = make_plugin_manager(env={"CODEX_PLUGINS": "example"})
    tools = collect_registry(pm, "codex_tools", "tool", config=Config())
    word_count = tools.get("word_count")
    assert tools.plugin_of("word_count") == "example"
    (tmp_path / "poem.txt").write_text("so much depends\nupon a red wheel barrow\n")
    word_count.spec()  # the deprecated pydantic parameters are converted once, here
    args = word_count.handler_arguments({"path": "poem.txt"})
    result = asyncio.run(word_count.handler(args, SimpleNamespace(cwd=tmp_path)))
    assert (result.output, result.success) == ("8", True)
    missing = asyncio.run(word_count.handler(word_count.handler_arguments({"path": "nope.txt"}),
                                             SimpleNamespace(cwd=tmp_path)))
    assert missing.success is False and "cannot read nope.txt" in missing.output


def test_a_plugin_returning_the_wrong_shape_is_reported(run_codex: RunCodex, plugin_site: PluginSite) -> None:
    plugin_site.add(
        "shapeless",
        """\
        import pluggy
        hookimpl = pluggy.HookimplMarker("codex")

        @hookimpl
        def codex_model_providers():
            return {"odd": 42}
        """,
    )
    shown = run_codex("config", "show", env=plugin_site.env)
    assert shown.returncode == 0
    assert "plugin 'shapeless' returned an unusable entry for model provider 'odd'" in shown.stderr
    assert "[model_providers.odd]" not in shown.stdout


def test_plugin_list_follows_installs_and_removals(
    run_codex: RunCodex, plugin_site: PluginSite, tmp_path: Path
) -> None:
    import shutil

    assert "late" not in plugin_rows(run_codex, plugin_site.env)
    assert not list((tmp_path / "cache" / "codex-py").glob("entry-points-*.json"))  # read each run
    plugin_site.add("late", "")
    assert plugin_rows(run_codex, plugin_site.env)["late"]["distribution"] == "codex-plugin-late"
    shutil.rmtree(plugin_site.root / "codex_plugin_late-1.0.dist-info")
    assert "late" not in plugin_rows(run_codex, plugin_site.env)
