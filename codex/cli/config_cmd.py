"""``codex config``: show the effective configuration with origins; set and unset keys."""

from __future__ import annotations

import json
from typing import Any

import click

from codex.cli.options import (
    agent_options,
    check_approval_policies,
    cli_state,
    loaded_config,
    plugin_providers,
    plugin_schemas,
    warn,
)
from codex.config.loader import LoadedConfig, codex_home, load_config
from codex.config.overrides import format_key, format_key_path, format_value

GROUP_EPILOG = """\b
Examples:
  codex config show                      every setting and where it came from
  codex -p fast -c model=o3 config show  what a profile and an override change
  codex config set model '"o3"'          write model = "o3" to config.toml
  codex config unset model               back to the default
  codex config path                      where config.toml lives
"""


@click.group(epilog=GROUP_EPILOG)
def config() -> None:
    """Show the effective configuration, or edit config.toml keeping its comments and layout."""


def _origin_comment(origin: str) -> str:
    return "# default" if origin == "default" else f"# from {origin}"


def render_annotated(loaded: LoadedConfig) -> str:
    """The effective config as TOML, each value followed by a comment saying where it came from.

    Unset optional keys are left out (TOML has no null); ``profiles`` is left out because the
    selected profile is already merged in, and each provider's ``id`` is its table name.
    """
    from codex.config.peer_keys import split_peer_only

    data, peer_only = split_peer_only(loaded.config.to_data(by_alias=True, exclude_none=True))
    data.pop("profiles", None)
    providers = data.get("model_providers")
    for entry in providers.values() if isinstance(providers, dict) else ():
        entry.pop("id", None)
    lines = [
        f"# Effective configuration (config file: {loaded.config_path}).",
        "# Precedence, low to high: default < config.toml < profile ([profiles.NAME], then NAME.config.toml)"
        " < -c < flags.",
    ]

    def table(node: dict[str, Any], path: tuple[str, ...]) -> None:
        simple = [(k, v) for k, v in node.items() if not (isinstance(v, dict) and v)]
        nested = [(k, v) for k, v in node.items() if isinstance(v, dict) and v]
        if simple and path:
            lines.append("")
            lines.append(f"[{format_key_path(path)}]")
        for key, value in simple:
            origin = loaded.origins.get(format_key_path((*path, key)), "default")
            lines.append(f"{format_key(key)} = {format_value(value)}  {_origin_comment(origin)}")
        for key, value in nested:
            table(value, (*path, key))

    table(data, ())
    if peer_only:
        lines += ["", "# Accepted from the Rust CLI, not used here:"]
        for key, reason in peer_only.items():
            origin = loaded.origins.get(key) or _first_origin(loaded, key)
            lines.append(f"#   {key} ({origin}) — {reason}")
    return "\n".join(lines)


def _first_origin(loaded: LoadedConfig, key: str) -> str:
    """Where a table was written: the origin of its first value."""
    prefix = key + "."
    return next((origin for path, origin in loaded.origins.items() if path.startswith(prefix)), "default")


@config.command(
    "show",
    epilog="""\b
Examples:
  codex config show
  codex config show -p fast -m o3        preview a profile plus a flag
  codex config show --json | jq .origins
""",
)
@agent_options
@click.option("--json", "as_json", is_flag=True, help="Print {config, origins} as JSON instead of TOML.")
@click.pass_context
def show(ctx: click.Context, /, as_json: bool, **_flags: Any) -> None:
    """Print the effective configuration, each value with its origin.

    The output is TOML; a comment after each value says where it came from. The agent
    flags (-c, -p, -m, ...) are applied, so this shows what a run with the same flags uses.
    Keys of the Rust CLI's config.toml that codex-py accepts but does not use (such as
    [features] or [tui]) are listed last, each with the reason, instead of warning on every run.
    """
    from codex.config.peer_keys import split_peer_only

    loaded = loaded_config(ctx)
    if as_json:
        payload = {
            "config": loaded.config.to_data(by_alias=True),
            "origins": loaded.origins,
            "accepted_not_used": split_peer_only(loaded.config.to_data(by_alias=True))[1],
            "config_path": str(loaded.config_path),
            "cwd": str(loaded.cwd),
        }
        # default=str: TOML dates and times in unknown keys have no JSON form.
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    click.echo(render_annotated(loaded))


def _checker(ctx: click.Context) -> Any:
    """Validate would-be file content the way a run would load it (plugin providers included)."""
    providers, owners = plugin_providers(ctx)
    schemas = plugin_schemas(ctx)
    home = codex_home()

    def check(text: str) -> None:
        loaded = load_config(
            home=home, config_text=text, plugin_providers=providers, provider_plugins=owners, plugin_schemas=schemas
        )
        for message in loaded.warnings:
            warn(ctx, message)
        check_approval_policies(loaded, cli_state(ctx).approval_policy_names())

    return check


@config.command(
    "set",
    epilog="""\b
Examples:
  codex config set model '"o3"'
  codex config set model o3                        plain text is a string too
  codex config set sandbox_workspace_write.network_access true
  codex config set 'model_providers."my.host".base_url' http://10.0.0.2:8080/v1
""",
)
@click.argument("key")
@click.argument("value")
@click.pass_context
def set_(ctx: click.Context, key: str, value: str) -> None:
    """Set KEY (a dotted path) to VALUE in config.toml.

    VALUE is TOML (a quoted string, number, true/false, [array] or {inline table}); anything
    that is not TOML is stored as a string. The edited file is validated first: an invalid
    value is refused and the file is left untouched. Comments and layout are kept.
    """
    from codex.config.edit import set_config_value

    result = set_config_value(codex_home() / "config.toml", key, value, check=_checker(ctx))
    was = "" if result.previous is None else f" (was {format_value(result.previous)})"
    click.echo(f"Set {result.key} in {result.path}{was}.", err=True)


@config.command(
    "unset",
    epilog="""\b
Examples:
  codex config unset model
  codex config unset sandbox_workspace_write.network_access
""",
)
@click.argument("key")
@click.pass_context
def unset(ctx: click.Context, key: str) -> None:
    """Remove KEY from config.toml (back to the default).

    The value then comes from the layer below: a plugin's provider entry or the built-in default.
    The edited file is validated first, like `codex config set`.
    """
    from codex.config.edit import unset_config_value

    result = unset_config_value(codex_home() / "config.toml", key, check=_checker(ctx))
    click.echo(f"Removed {result.key} from {result.path} (was {format_value(result.previous)}).", err=True)


@config.command("path", epilog="\b\nExample:\n  $EDITOR \"$(codex config path)\"")
def path() -> None:
    """Print the path of config.toml (it may not exist yet)."""
    click.echo(str(codex_home() / "config.toml"))


__all__ = ["config", "render_annotated"]
