"""``codex mcp``: run codex as an MCP server, and manage the ``[mcp_servers]`` codex connects to.

``codex mcp`` (or ``codex mcp-server``) with no subcommand serves MCP on stdin/stdout. The
subcommands edit config.toml through tomlkit, keeping the user's comments and layout, and
validate the edited file before writing it. The MCP SDK is imported only when the server runs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from codex.cli.options import (
    agent_options,
    agent_settings,
    config_flags,
    loaded_config,
    plugin_manager,
    plugin_providers,
    plugin_schemas,
    warn,
)
from codex.errors import CodexError, ConfigError, UsageError

_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")

SERVE_EPILOG = """\b
Examples:
  codex mcp                                  serve MCP on stdin/stdout
  codex mcp -a untrusted -s workspace-write  defaults for the sessions it opens
  npx @modelcontextprotocol/inspector codex mcp
\b
Tools: `codex` (prompt, model, profile, cwd, approval-policy, sandbox, config,
base-instructions, include-plan-tool) and `codex-reply` (prompt, sessionId).
Approvals are asked through elicitation; a client without it gets denials.
"""

GROUP_EPILOG = SERVE_EPILOG + """\b
Managing the servers codex itself uses ([mcp_servers.NAME] in config.toml):
  codex mcp add docs -- npx -y @acme/docs-mcp
  codex mcp add files --env ROOT=/srv -- python -m files_server
  codex mcp add remote --url https://mcp.example.com/mcp --bearer-token-env-var ACME_TOKEN
  codex mcp list
  codex mcp get docs --json
  codex mcp remove docs
\b
A stdio server's stderr goes to $CODEX_HOME/log/mcp-NAME.log (in the
terminal UI and in `codex exec`); when a server fails to start, the
message quotes its last stderr lines.
"""


@click.group("mcp", invoke_without_command=True, epilog=GROUP_EPILOG)
@agent_options
@click.pass_context
def mcp(ctx: click.Context, /, **_flags: Any) -> None:
    """Serve codex over MCP on stdin/stdout, or manage [mcp_servers] in config.toml.

    Without a subcommand this is the MCP server: each `codex` tool call opens its own session
    (the agent flags give their defaults), events stream as `codex/event` notifications, and
    approvals are asked through elicitation.
    """
    if ctx.invoked_subcommand is None:
        serve(ctx)


@click.command("mcp-server", epilog=SERVE_EPILOG)
@agent_options
@click.pass_context
def mcp_server(ctx: click.Context, /, **_flags: Any) -> None:
    """Serve codex over MCP on stdin/stdout (the same as `codex mcp` without a subcommand)."""
    serve(ctx)


def serve(ctx: click.Context) -> None:
    """Run the stdio MCP server until the client closes stdin."""
    import asyncio

    from codex.cli.options import added_roots_override
    from codex.mcp.server_tools import ServerSettings

    loaded = loaded_config(ctx)  # a broken config.toml is reported now, not at the first call
    settings = agent_settings(ctx)
    providers, owners = plugin_providers(ctx)
    flags = config_flags(settings)
    server_settings = ServerSettings(
        cwd=loaded.cwd,
        home=loaded.codex_home,
        cli_overrides=[*settings["config_overrides"], *added_roots_override(loaded, settings)],
        profile=settings.get("profile"),
        flags={k: v for k, v in flags.items() if v is not None},
        plugin_providers=providers,
        provider_plugins=owners,
        plugin_schemas=plugin_schemas(ctx),
    )
    if sys.stdin is not None and sys.stdin.isatty():
        click.echo(
            "codex mcp speaks the Model Context Protocol on stdin/stdout; start it from an MCP client, "
            "e.g. `npx @modelcontextprotocol/inspector codex mcp`. Press Ctrl-D to stop.",
            err=True,
        )
    from codex.mcp.server import run_stdio_server

    asyncio.run(run_stdio_server(plugin_manager(ctx), server_settings))


# ---------------------------------------------------------------------------- list / get


def _servers(ctx: click.Context) -> dict[str, Any]:
    return dict(loaded_config(ctx).config.mcp_servers)


def _entry_dict(entry: Any) -> dict[str, Any]:
    data: dict[str, Any] = entry.to_data(exclude_none=True)
    return data


def _transport(data: dict[str, Any]) -> str:
    if data.get("url"):
        return f"http {data['url']}"
    words = [str(data.get("command", ""))] + [str(a) for a in data.get("args") or []]
    import shlex

    return "stdio " + " ".join(shlex.quote(w) for w in words)


def _masked_env(data: dict[str, Any]) -> str:
    env = data.get("env") or {}
    return ", ".join(f"{key}=*****" for key in sorted(env)) or "-"


@mcp.command("list", epilog="\b\nExamples:\n  codex mcp list\n  codex mcp list --json | jq 'keys'")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as a JSON object keyed by name.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the MCP servers codex connects to at session start (env values are masked)."""
    servers = {name: _entry_dict(entry) for name, entry in sorted(_servers(ctx).items())}
    if as_json:
        click.echo(json.dumps(servers, indent=2))
        return
    if not servers:
        click.echo("No MCP servers configured. Add one with `codex mcp add NAME -- COMMAND [ARGS...]`.", err=True)
        return
    rows = [("NAME", "TRANSPORT", "ENV")] + [(n, _transport(d), _masked_env(d)) for n, d in servers.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, transport, env in rows:
        click.echo(f"{name.ljust(widths[0])}  {transport.ljust(widths[1])}  {env}")


@mcp.command("get", epilog="\b\nExamples:\n  codex mcp get docs\n  codex mcp get docs --json")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON (env values included).")
@click.pass_context
def get(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show one [mcp_servers.NAME] entry."""
    servers = _servers(ctx)
    if name not in servers:
        known = ", ".join(sorted(servers)) or "(none)"
        raise CodexError(f"no MCP server named {name!r} in the configuration; configured: {known}")
    data = _entry_dict(servers[name])
    if as_json:
        click.echo(json.dumps({name: data}, indent=2))
        return
    click.echo(name)
    for key, value in data.items():
        shown = {k: "*****" for k in value} if key == "env" and isinstance(value, dict) else value
        click.echo(f"  {key}: {json.dumps(shown)}")


# ---------------------------------------------------------------------------- add / remove


def _config_path() -> Path:
    from codex.config.loader import CONFIG_FILE, codex_home

    return codex_home() / CONFIG_FILE


def _check_and_write(ctx: click.Context, path: Path, text: str, what: str) -> None:
    from codex.config.edit import write_atomically
    from codex.config.loader import load_config

    providers, owners = plugin_providers(ctx)
    try:
        loaded = load_config(
            home=path.parent,
            config_text=text,
            plugin_providers=providers,
            provider_plugins=owners,
            plugin_schemas=plugin_schemas(ctx),
        )
    except ConfigError as exc:
        raise ConfigError(f"{what} refused, {path} was not changed:\n{exc}") from None
    for message in loaded.warnings:
        warn(ctx, message)
    write_atomically(path, text)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from None


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {text!r}: expected KEY=VALUE")
        pairs[key.strip()] = value
    return pairs


def server_table(
    command: tuple[str, ...], url: str | None, env: dict[str, str], headers: dict[str, str],
    bearer_token_env_var: str | None, cwd: str | None, startup_timeout: float | None, tool_timeout: float | None,
) -> dict[str, Any]:
    """The ``[mcp_servers.NAME]`` table ``codex mcp add`` writes."""
    if bool(command) == bool(url):
        raise UsageError("give either a command after `--` (a stdio server) or --url (a streamable HTTP server)")
    table: dict[str, Any] = {}
    if command:
        if headers or bearer_token_env_var:
            raise UsageError("--header and --bearer-token-env-var go with --url, not with a command")
        table["command"] = command[0]
        table["args"] = list(command[1:])
        if cwd:
            table["cwd"] = cwd
    else:
        if env or cwd:
            raise UsageError("--env and --cwd go with a command (a stdio server), not with --url")
        table["url"] = url
        if bearer_token_env_var:
            table["bearer_token_env_var"] = bearer_token_env_var
        if headers:
            table["http_headers"] = headers
    if env:
        table["env"] = env
    if startup_timeout is not None:
        table["startup_timeout_sec"] = startup_timeout
    if tool_timeout is not None:
        table["tool_timeout_sec"] = tool_timeout
    return table


def add_server_to_text(text: str, name: str, table: dict[str, Any]) -> tuple[str, bool]:
    """``text`` with ``[mcp_servers.NAME]`` set to ``table``; also whether it replaced one."""
    import tomlkit
    import tomlkit.items

    doc = tomlkit.parse(text)
    servers = doc.get("mcp_servers")
    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        doc["mcp_servers"] = servers
    elif not isinstance(servers, tomlkit.items.Table):
        raise ConfigError("mcp_servers in config.toml is not a table; fix it by hand before using `codex mcp add`")
    replaced = name in servers
    item = tomlkit.table()
    for key, value in table.items():
        if isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            item[key] = inline
        else:
            item[key] = value
    servers[name] = item
    return doc.as_string(), replaced


def remove_server_from_text(text: str, name: str) -> str:
    """``text`` without ``[mcp_servers.NAME]``; ConfigError when it is not there."""
    import tomlkit

    doc = tomlkit.parse(text)
    servers = doc.get("mcp_servers")
    if servers is None or not hasattr(servers, "keys") or name not in servers:
        known = ", ".join(sorted(servers.keys())) if servers is not None and hasattr(servers, "keys") else ""
        raise ConfigError(f"config.toml has no [mcp_servers.{name}]; configured there: {known or '(none)'}")
    del servers[name]
    return doc.as_string()


@mcp.command(
    "add",
    context_settings={"ignore_unknown_options": True},
    epilog="""\b
Examples:
  codex mcp add docs -- npx -y @acme/docs-mcp
  codex mcp add files --env ROOT=/srv --startup-timeout 20 -- python -m files_server
  codex mcp add remote --url https://mcp.example.com/mcp --bearer-token-env-var ACME_TOKEN
""",
)
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--url", help="URL of a streamable HTTP server (instead of a command).")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE", help="Environment for a stdio server.")
@click.option("--header", "header_pairs", multiple=True, metavar="NAME=VALUE", help="HTTP header sent to a URL server.")
@click.option("--bearer-token-env-var", metavar="VAR", help="Send `Authorization: Bearer $VAR` to a URL server.")
@click.option("--cwd", "server_cwd", metavar="DIR", help="Working directory of a stdio server.")
@click.option("--startup-timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to wait for start-up.")
@click.option("--tool-timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to wait for a tool call.")
@click.pass_context
def add(
    ctx: click.Context, name: str, command: tuple[str, ...], url: str | None, env_pairs: tuple[str, ...],
    header_pairs: tuple[str, ...], bearer_token_env_var: str | None, server_cwd: str | None,
    startup_timeout: float | None, tool_timeout: float | None,
) -> None:
    """Add (or replace) [mcp_servers.NAME] in config.toml.

    Put the server's command after `--`, or give --url for a streamable HTTP server. NAME may
    hold letters, digits, `_` and `-` (it prefixes the tool names the model sees).
    """
    if not _NAME.match(name):
        raise UsageError(f"server name {name!r}: use only letters, digits, '_' and '-'")
    table = server_table(
        command, url, _pairs(env_pairs, "--env"), _pairs(header_pairs, "--header"),
        bearer_token_env_var, server_cwd, startup_timeout, tool_timeout,
    )
    path = _config_path()
    try:
        text, replaced = add_server_to_text(_read(path), name, table)
    except ConfigError:
        raise
    except Exception as exc:  # tomlkit's own parse errors
        raise ConfigError(f"{path}: cannot edit: {exc}") from None
    _check_and_write(ctx, path, text, f"adding MCP server {name!r}")
    verb = "Replaced" if replaced else "Added"
    click.echo(f"{verb} MCP server {name!r} in {path}.", err=True)


@mcp.command("remove", epilog="\b\nExample:\n  codex mcp remove docs")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove [mcp_servers.NAME] from config.toml (comments elsewhere are kept)."""
    path = _config_path()
    try:
        text = remove_server_from_text(_read(path), name)
    except ConfigError:
        raise
    except Exception as exc:  # tomlkit's own parse errors
        raise ConfigError(f"{path}: cannot edit: {exc}") from None
    _check_and_write(ctx, path, text, f"removing MCP server {name!r}")
    click.echo(f"Removed MCP server {name!r} from {path}.", err=True)


__all__ = ["mcp", "mcp_server"]
