"""The ``codex`` command group: global flags, lazily imported subcommands, plugin subcommands.

A built-in subcommand is one line in ``COMMANDS``: its name, where it lives, and the one-line
help shown by ``codex --help`` (kept here so listing commands imports none of them). Plugin
subcommands come from the ``codex_cli_commands`` hook; plugins are loaded only for a name that
is not built in, and for ``--help``.
"""

from __future__ import annotations

from typing import Any

import click

from codex import __version__
from codex.cli.options import agent_options, cli_state, image_options, plugin_manager, warn
from codex.references import load_reference

# name -> ("module:attribute", one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("codex.cli.config_cmd:config", "Show the effective configuration or edit config.toml."),
    "debug": ("codex.cli.debug_cmd:debug_group", "Explain codex's decisions (e.g. why a command is not safe)."),
    "doctor": ("codex.cli.doctor_cmd:doctor_command", "Check config, sign-in, provider, MCP servers, sandbox and git."),
    "exec": ("codex.cli.exec_cmd:exec_command", "Run a task non-interactively; the answer goes to stdout."),
    "login": ("codex.cli.login_cmd:login_group", "Store an OpenAI API key read from stdin; `codex login status`."),
    "logout": ("codex.cli.login_cmd:logout_command", "Remove the API key stored by `codex login`."),
    "mcp": ("codex.cli.mcp_cmd:mcp", "Serve codex over MCP (stdio), or manage [mcp_servers]."),
    "mcp-server": ("codex.cli.mcp_cmd:mcp_server", "Serve codex over MCP on stdin/stdout."),
    "plugins": ("codex.cli.plugins_cmd:plugins", "List installed plugins and what each one provides."),
    "review": ("codex.cli.review_cmd:review", "Find problems in uncommitted changes, a branch or a commit."),
    "resume": ("codex.cli.resume_cmd:resume", "Reopen a recorded session in the interactive terminal."),
    "sandbox": ("codex.cli.sandbox_cmd:sandbox_group", "Run a command under the sandbox, or show sandbox status."),
}
# `codex` alone, or `codex PROMPT...` (words that name no command): the interactive terminal.
INTERACTIVE = "codex.cli.tui.command:interactive"


class LazyGroup(click.Group):
    """A click Group that imports a built-in subcommand only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in names, then the names plugin commands add."""
        self._load_plugin_commands(ctx)
        plugin_names = sorted(name for name in self.commands if name not in COMMANDS)
        return sorted(COMMANDS) + plugin_names

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a built-in on demand; load plugin commands only for other names."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in COMMANDS:
            command = load_reference(COMMANDS[cmd_name][0])
            if not isinstance(command, click.Command):
                raise TypeError(f"{COMMANDS[cmd_name][0]} is not a click command")
            self.commands[cmd_name] = command
            return command
        self._load_plugin_commands(ctx)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A first word that names no command starts the interactive terminal with the words as prompt."""
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            return "interactive", _interactive_command(), args
        return super().resolve_command(ctx, args)

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        state = cli_state(ctx)
        if state.plugin_commands_loaded:
            return
        state.plugin_commands_loaded = True
        # Plugins add commands to a scratch group first so none can replace a built-in.
        scratch = click.Group("plugins")
        pm = plugin_manager(ctx)
        pm.call_hook("codex_cli_commands", attribute=False, cli=scratch)
        for name, command in scratch.commands.items():
            if name in COMMANDS or name in self.commands:
                warn(ctx, f"a plugin tried to add the command {name!r}, which already exists; ignored")
                continue
            self.commands[name] = command
        for record in pm.records.values():
            if record.error is not None and "codex_cli_commands" in record.error:
                warn(ctx, f"plugin {record.name!r} failed to add its commands: {record.error}")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List built-ins from the table (no imports), then plugin commands, each one line."""
        self._load_plugin_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        builtin = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        plugins = [
            (name, command.get_short_help_str(limit))
            for name, command in sorted(self.commands.items())
            if name not in COMMANDS and not command.hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(builtin)
        if plugins:
            with formatter.section("Plugin commands"):
                formatter.write_dl(plugins)


EPILOG = """\b
Examples:
  codex --help                     what you are reading
  codex plugins                    which plugins are installed and what they add
  codex config show                the effective configuration and where each value came from
  codex config set model '"o3"'    change config.toml, keeping its comments and layout
  codex -c model=o3 -p fast config show
\b
Files: $CODEX_HOME/config.toml, auth.json (`codex login`); CODEX_HOME defaults to ~/.codex.
OPENAI_API_KEY wins over auth.json. The openai provider's URL: [model_providers.openai]
base_url, else openai_base_url (config), else OPENAI_BASE_URL. `codex doctor` checks all of this.
Set CODEX_DEBUG=1 or pass --debug to see tracebacks.
"""


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
    epilog=EPILOG,
)
@agent_options
@image_options
@click.option("--debug", is_flag=True, help="Show a Python traceback when an error stops codex.")
@click.version_option(
    __version__, "-V", "--version", prog_name="codex-py", message="%(prog)s %(version)s",
    help="Print the version and exit.",
)
def cli(**_options: Any) -> None:
    """codex: a coding agent for the terminal, built from plugins.

    The flags below apply to every command that runs the agent; they may also be given after
    the command name (codex exec -m o3 ...), where they win over the ones given before it.
    """
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        command = _interactive_command()
        with command.make_context("codex", [], parent=ctx) as interactive_ctx:
            command.invoke(interactive_ctx)


def _interactive_command() -> click.Command:
    command = load_reference(INTERACTIVE)
    assert isinstance(command, click.Command)
    return command
