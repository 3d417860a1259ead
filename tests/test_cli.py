"""The ``codex`` command line: version, help, global flags on both sides of the subcommand,
``codex config``, and errors printed without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from codex import __version__
from codex.cli.main import COMMANDS, cli
from codex.cli.options import AGENT_OPTIONS, CliState
from codex.plugins import make_plugin_manager
from tests.conftest import PluginSite, RunCodex

WriteConfig = Callable[[str], Path]


def invoke(*args: str) -> Any:
    """Run the click group in-process with only the core's built-in plugins."""
    state = CliState(plugin_manager=make_plugin_manager(autoload=False))
    return CliRunner().invoke(cli, list(args), obj=state, catch_exceptions=False)


def effective(*args: str) -> dict[str, Any]:
    """``codex ... config show --json`` parsed (args placed as given)."""
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- version and help -----------------------------------------------------------------------------


def test_version_answers_without_importing_heavy_modules(codex_home: Path) -> None:
    probe = (
        "import sys; from codex.cli.entry import main; code = main(['--version']); "
        "print(sorted(m for m in ('click', 'pydantic', 'httpx2', 'pluggy', 'tomlkit') if m in sys.modules), code)"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert completed.stdout.splitlines() == [f"codex-py {__version__}", "[] 0"]


def test_version_through_click_matches_the_fast_path(run_codex: RunCodex) -> None:
    fast = run_codex("--version")
    slow = run_codex("--debug", "--version")
    assert fast.stdout == slow.stdout == f"codex-py {__version__}\n"
    assert fast.returncode == slow.returncode == 0


def test_help_lists_every_command_and_every_global_flag(run_codex: RunCodex) -> None:
    result = run_codex("--help")
    assert result.returncode == 0
    for name, (_target, short_help) in COMMANDS.items():
        assert f"  {name} " in result.stdout and short_help in result.stdout
    for spec in AGENT_OPTIONS:
        assert spec.decls[-1] in result.stdout
    assert "Examples:" in result.stdout
    # the separately installed example plugin adds a command
    assert "example-hello" in result.stdout and "Plugin commands:" in result.stdout


def test_help_follows_plugin_changes_at_once(run_codex: RunCodex) -> None:
    assert "example-hello" in run_codex("--help").stdout
    without_example = run_codex("--help", env={"CODEX_DISABLE_PLUGINS": "example"})
    assert "example-hello" not in without_example.stdout
    assert "example-hello" in run_codex("-h").stdout


def _all_commands(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((name, command))
        if isinstance(command, click.Group):
            sub_ctx = click.Context(command, info_name=name, parent=ctx)
            found += [(f"{name} {sub}", cmd) for sub, cmd in _all_commands(command, sub_ctx)]
    return found


def test_help_teaches_every_option_has_a_sentence_and_every_command_an_example(codex_home: Path) -> None:
    state = CliState(plugin_manager=make_plugin_manager(autoload=False))
    ctx = click.Context(cli, info_name="codex", obj=state)
    commands = [("codex", cli), *_all_commands(cli, ctx)]
    assert {name for name, _ in commands} >= {"codex", "config", "config show", "config set", "plugins"}
    for name, command in commands:
        assert command.help, f"{name} has no help text"
        assert command.epilog and "Example" in command.epilog, f"{name} has no example in its epilog"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help and param.help.rstrip().endswith((".", ")")), f"{name} {param.opts} lacks a sentence"


# --- global flags before and after the subcommand ---------------------------------------------------


def test_flags_before_the_subcommand_apply(codex_home: Path) -> None:
    shown = effective("-m", "o3", "-s", "workspace-write", "config", "show", "--json")
    assert shown["config"]["model"] == "o3" and shown["origins"]["model"] == "--model"
    assert shown["config"]["sandbox_mode"] == "workspace-write"


def test_flags_after_the_subcommand_win(codex_home: Path) -> None:
    shown = effective("-m", "o3", "-a", "never", "config", "show", "--json", "-m", "o4")
    assert shown["config"]["model"] == "o4"
    assert shown["config"]["approval_policy"] == "never"  # given only before: still applies


def test_c_lists_from_both_sides_are_concatenated(codex_home: Path) -> None:
    shown = effective("-c", "model=a", "-c", "hide_agent_reasoning=true", "config", "show", "--json", "-c", "model=b")
    assert shown["config"]["model"] == "b"
    assert shown["config"]["hide_agent_reasoning"] is True


def test_shortcut_before_and_explicit_flag_after(codex_home: Path, tmp_path: Path) -> None:
    shown = effective("--full-auto", "-C", str(tmp_path), "config", "show", "--json", "-s", "read-only")
    assert shown["config"]["sandbox_mode"] == "read-only"
    assert shown["config"]["approval_policy"] == "on-failure"
    assert shown["cwd"] == str(tmp_path.resolve())


def test_profile_after_the_subcommand(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('[profiles.fast]\nmodel = "quick"\n[profiles.slow]\nmodel = "careful"\n')
    assert effective("-p", "slow", "config", "show", "--json", "-p", "fast")["config"]["model"] == "quick"


def test_strict_config_on_either_side(codex_home: Path, write_config: WriteConfig) -> None:
    write_config("modle = 1\n")
    from codex.errors import ConfigError

    for args in (("--strict-config", "config", "show"), ("config", "show", "--strict-config")):
        with pytest.raises(ConfigError):
            invoke(*args)
    assert invoke("config", "show").exit_code == 0


# --- config show / set / unset / path ---------------------------------------------------------------


def test_config_show_is_toml_annotated_with_origins(run_codex: RunCodex, write_config: WriteConfig) -> None:
    write_config('# mine\nmodel = "o3"\n\n[sandbox_workspace_write]\nnetwork_access = true\n')
    result = run_codex("-c", "hide_agent_reasoning=true", "config", "show", "--full-auto")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert 'model = "o3"  # from config.toml:2' in lines
    assert 'sandbox_mode = "workspace-write"  # from --full-auto' in lines
    assert "hide_agent_reasoning = true  # from -c" in lines
    assert 'file_opener = "none"  # default' in lines
    assert "network_access = true  # from config.toml:5" in lines
    assert 'base_url = "https://api.example.invalid/v1"  # from plugin example' in lines
    parsed = tomllib.loads(result.stdout)
    assert parsed["model"] == "o3" and parsed["sandbox_workspace_write"]["network_access"] is True
    assert parsed["model_providers"]["example"]["wire_api"] == "chat"


def test_config_show_round_trips_the_effective_config(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('model = "o3"\nnotify = ["a", "b"]\n[shell_environment_policy]\nset = { A = "1" }\n')
    result = invoke("config", "show")
    shown = effective("config", "show", "--json")["config"]
    shown.pop("profiles")
    for entry in shown["model_providers"].values():
        entry.pop("id")

    def drop_none(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_none(v) for k, v in value.items() if v is not None}
        return value

    assert tomllib.loads(result.stdout) == drop_none(shown)


def test_config_set_then_show_then_unset(run_codex: RunCodex, write_config: WriteConfig) -> None:
    path = write_config("# keep me\napproval_policy = \"never\"  # trusted box\n")
    set_result = run_codex("config", "set", "model", '"o3"')
    assert set_result.returncode == 0, set_result.stderr
    assert f"Set model in {path}" in set_result.stderr
    assert path.read_text() == '# keep me\napproval_policy = "never"  # trusted box\nmodel = "o3"\n'
    assert 'model = "o3"  # from config.toml:3' in run_codex("config", "show").stdout
    unset_result = run_codex("config", "unset", "model")
    assert unset_result.returncode == 0 and '(was "o3")' in unset_result.stderr
    assert path.read_text() == '# keep me\napproval_policy = "never"  # trusted box\n'


def test_config_set_refuses_an_invalid_value(run_codex: RunCodex, write_config: WriteConfig) -> None:
    path = write_config('model = "o3"\n')
    result = run_codex("config", "set", "sandbox_mode", "workspace")
    assert result.returncode == 1
    assert result.stderr.startswith("codex: error: setting sandbox_mode refused")
    assert "expected one of read-only, workspace-write, danger-full-access" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_text() == 'model = "o3"\n'


def test_config_set_accepts_fields_of_plugin_providers(run_codex: RunCodex, codex_home: Path) -> None:
    result = run_codex("config", "set", "model_providers.example.request_max_retries", "7")
    assert result.returncode == 0, result.stderr
    shown = run_codex("config", "show").stdout
    assert "request_max_retries = 7  # from config.toml:2" in shown
    assert (codex_home / "config.toml").read_text() == "[model_providers.example]\nrequest_max_retries = 7\n"


def test_config_path(run_codex: RunCodex, codex_home: Path) -> None:
    result = run_codex("config", "path")
    assert result.stdout == f"{codex_home / 'config.toml'}\n"


# --- errors at the boundary -----------------------------------------------------------------------


def test_bad_config_is_one_clear_line_without_traceback(run_codex: RunCodex, write_config: WriteConfig) -> None:
    path = write_config('sandbox_mode = "workspace"\n')
    result = run_codex("config", "show")
    assert result.returncode == 1
    assert result.stderr == (
        f"codex: error: {path}:1:16: sandbox_mode: expected one of read-only, workspace-write, "
        'danger-full-access; got "workspace"\n'
    )
    assert result.stdout == ""


@pytest.mark.parametrize("how", [("--debug",), ("CODEX_DEBUG",)])
def test_debug_shows_the_traceback(run_codex: RunCodex, write_config: WriteConfig, how: tuple[str]) -> None:
    write_config("[broken\n")
    args = ["--debug", "config", "show"] if how == ("--debug",) else ["config", "show"]
    env = {"CODEX_DEBUG": "1"} if how == ("CODEX_DEBUG",) else {}
    result = run_codex(*args, env=env)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "codex: error:" in result.stderr and "invalid TOML" in result.stderr


def test_syntax_error_shows_the_line_with_a_caret(run_codex: RunCodex, write_config: WriteConfig) -> None:
    path = write_config('model = "o3"\nsandbox_mode = read-only\n')
    result = run_codex("config", "show")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"codex: error: {path}:2:16: invalid TOML: Invalid value",
        "    2 | sandbox_mode = read-only",
        "      |                ^",
    ]


def test_unknown_key_warns_exactly_once(run_codex: RunCodex, write_config: WriteConfig) -> None:
    write_config('profile = "p"\n[profiles.p]\nmodle = "o3"\n')
    result = run_codex("config", "show")
    assert result.returncode == 0
    assert result.stderr.count("unknown config key profiles.p.modle") == 1
    assert result.stderr.count("warning") == 1
    assert result.stderr.startswith("codex: warning: ")


def test_usage_errors_exit_2(run_codex: RunCodex) -> None:
    bad_choice = run_codex("-s", "everything", "config", "show")
    assert bad_choice.returncode == 2 and "'everything' is not one of" in bad_choice.stderr
    bad_override = run_codex("-c", "model", "config", "show")
    assert bad_override.returncode == 1 and "expected key.path=value" in bad_override.stderr
    conflict = run_codex("--full-auto", "config", "show", "--dangerously-bypass-approvals-and-sandbox")
    assert conflict.returncode == 2 and "cannot be used together" in conflict.stderr
    unknown_option = run_codex("config", "show", "--frobnicate")
    # click 8.1 writes "No such option: --frobnicate", 8.2 and later "No such option '--frobnicate'".
    assert unknown_option.returncode == 2 and "No such option" in unknown_option.stderr
    assert "--frobnicate" in unknown_option.stderr


def test_missing_cd_directory_is_a_usage_error(run_codex: RunCodex, tmp_path: Path) -> None:
    result = run_codex("-C", str(tmp_path / "nope"), "config", "show")
    assert result.returncode == 2 and "does not exist" in result.stderr


# --- plugins load only when needed ------------------------------------------------------------------


def test_builtin_commands_do_not_load_plugins(run_codex: RunCodex, plugin_site: PluginSite, tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    plugin_site.add("marker", f"open({str(marker)!r}, 'w').close()\n")
    run_codex("config", "path", env=plugin_site.env)
    assert not marker.exists()
    run_codex("--help", env=plugin_site.env)
    assert marker.exists()


def test_plugin_command_runs(run_codex: RunCodex) -> None:
    result = run_codex("example-hello", "--name", "Ada")
    assert result.returncode == 0
    assert result.stdout == "hello, Ada, from codex-plugin-example\n"
