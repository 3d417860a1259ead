"""The ``codex`` command group: global flags, lazily imported subcommands, plugin subcommands.

A built-in subcommand is one line in ``COMMANDS``: its name, where it lives, and the one-line
help shown by ``codex --help`` (kept here so listing commands imports none of them). Plugin
subcommands come from the ``codex_cli_commands`` hook; plugins are loaded only for a name that
is not built in, and for ``--help``.

Words that name no command are a prompt for the interactive terminal, unless the first one
looks like a mistyped command (close to a command's name) or names a command of the Rust peer
that codex-py lacks: those end with a usage error naming the closest command, rather than
sending ``codex exce hi`` to the model. ``codex -- WORDS`` always makes WORDS the prompt.
"""

from __future__ import annotations

import re
from typing import Any

import click

from codex import __version__
from codex.cli.options import agent_options, cli_state, image_options, plugin_manager, warn
from codex.references import load_reference

# name -> ("module:attribute", one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "completion": ("codex.cli.completion_cmd:completion", "Print a shell completion script (bash, zsh or fish)."),
    "config": ("codex.cli.config_cmd:config", "Show the effective configuration or edit config.toml."),
    "debug": ("codex.cli.debug_cmd:debug_group", "Explain codex's decisions (e.g. why a command is not safe)."),
    "doctor": ("codex.cli.doctor_cmd:doctor_command", "Check config, sign-in, provider, MCP servers, sandbox and git."),
    "exec": ("codex.cli.exec_cmd:exec_command", "Run a task non-interactively, answer on stdout (alias: e)."),
    "login": ("codex.cli.login_cmd:login_group", "Store an OpenAI API key read from stdin; `codex login status`."),
    "logout": ("codex.cli.login_cmd:logout_command", "Remove the API key stored by `codex login`."),
    "mcp": ("codex.cli.mcp_cmd:mcp", "Serve codex over MCP (stdio), or manage [mcp_servers]."),
    "mcp-server": ("codex.cli.mcp_cmd:mcp_server", "Serve codex over MCP on stdin/stdout."),
    "plugins": ("codex.cli.plugins_cmd:plugins", "List installed plugins and what each one provides."),
    "review": ("codex.cli.review_cmd:review", "Find problems in uncommitted changes, a branch or a commit."),
    "resume": ("codex.cli.resume_cmd:resume", "Reopen a recorded session in the interactive terminal."),
    "sandbox": ("codex.cli.sandbox_cmd:sandbox_group", "Run a command under the sandbox, or show sandbox status."),
}
# Short names for commands, as the peer has them (`codex e` is `codex exec`).
ALIASES: dict[str, str] = {"e": "exec"}
# `codex` alone, or `codex PROMPT...` (words that name no command): the interactive terminal.
INTERACTIVE = "codex.cli.tui.command:interactive"
# The Rust peer's (0.169) commands and aliases, from its --help. A peer user who types one of
# these means the command, not a prompt; those we lack get an error instead of a model turn.
PEER_COMMANDS: dict[str, str] = {
    "a": "apply",
    "agents": "agents",
    "app-server": "app-server",
    "apply": "apply",
    "archive": "archive",
    "cloud": "cloud",
    "completion": "completion",
    "debug": "debug",
    "delete": "delete",
    "doctor": "doctor",
    "e": "exec",
    "exec": "exec",
    "exec-server": "exec-server",
    "features": "features",
    "fork": "fork",
    "help": "help",
    "login": "login",
    "logout": "logout",
    "mcp": "mcp",
    "mcp-server": "mcp-server",
    "migrate-nfs-db": "migrate-nfs-db",
    "migrate-rollouts": "migrate-rollouts",
    "plugin": "plugin",
    "queue": "queue",
    "remote-control": "remote-control",
    "resume": "resume",
    "review": "review",
    "sandbox": "sandbox",
    "unarchive": "unarchive",
    "update": "update",
}
# What a peer user reaching for one of its commands can use here instead.
PEER_INSTEAD: dict[str, str] = {
    "help": "`codex --help` lists the commands; `codex COMMAND --help` explains one",
    "plugin": "`codex plugins` lists installed plugins; install more with pip",
    "update": "update with your Python installer, e.g. `pip install -U codex-py`",
    "fork": "`codex resume` reopens a recorded session",
    "apply": "codex-py writes its changes into the working tree as it goes, there is no Codex Cloud diff to apply",
    "cloud": "codex-py works only locally",
}
# A single bare word: what a command name looks like (a prompt has spaces or punctuation).
_COMMAND_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# How close a word must be to a command's name to be taken for a typo of it (difflib's ratio:
# "exce" to "exec" is 0.75, "configure" to "config" 0.8, "debugging" to "debug" 0.71).
_TYPO_CUTOFF = 0.75
# The words after a `--` that ended the group's options: they are a prompt, whatever they say.
_FORCED_PROMPT = "codex.forced_prompt"


class LazyGroup(click.Group):
    """A click Group that imports a built-in subcommand only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in names, then the names plugin commands add."""
        self._load_plugin_commands(ctx)
        plugin_names = sorted(name for name in self.commands if name not in COMMANDS)
        return sorted(COMMANDS) + plugin_names

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a built-in on demand; load plugin commands only for other names."""
        cmd_name = ALIASES.get(cmd_name, cmd_name)
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

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Remember the words after a ``--`` that ends codex's own options (``codex -- exec``)."""
        if "--" in args:
            ctx.meta[_FORCED_PROMPT] = args[args.index("--") + 1 :]
        return super().parse_args(ctx, args)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Words that name no command start the interactive terminal with the words as prompt,
        unless the first one looks like a command (see ``command_mistake``)."""
        if not args:
            return super().resolve_command(ctx, args)
        if args == ctx.meta.get(_FORCED_PROMPT):
            return "interactive", _interactive_command(), args
        if len(args) > 1 and ALIASES.get(args[0], args[0]) == "exec" and args[1] == "review":
            # The peer's spelling of a non-interactive review; `codex review` never asks either.
            args = args[1:]
        if not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            mistake = None if ctx.resilient_parsing else self.command_mistake(ctx, args[0])
            if mistake is not None:
                raise click.UsageError(mistake, ctx)
            return "interactive", _interactive_command(), args
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command is not None else name), command, rest

    def command_mistake(self, ctx: click.Context, word: str) -> str | None:
        """Why ``word``, first on the command line and naming no command, is not a prompt's
        first word: a peer command codex-py lacks, or near a command's name. None: a prompt."""
        if _COMMAND_LIKE.fullmatch(word) is None:
            return None
        import difflib
        how_to_prompt = f"to send it to the model as a prompt, run: codex -- {word} ..."
        peer = PEER_COMMANDS.get(word.lower())
        if peer is not None and self.get_command(ctx, peer) is None:
            instead = PEER_INSTEAD.get(peer)
            if instead is None:
                close = difflib.get_close_matches(peer, self.list_commands(ctx), n=1, cutoff=_TYPO_CUTOFF)
                instead = f"did you mean `codex {close[0]}`?" if close else "`codex --help` lists the commands here"
            return f"`{word}` is a Rust Codex CLI command that codex-py does not have; {instead} ({how_to_prompt})"
        names = [*self.list_commands(ctx), *ALIASES]
        close = difflib.get_close_matches(word.lower(), names, n=1, cutoff=_TYPO_CUTOFF)
        if not close:
            return None
        return f"no such command {word!r}; did you mean `codex {ALIASES.get(close[0], close[0])}`? ({how_to_prompt})"

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
  codex "fix the failing test"     start the interactive terminal with a first prompt
  codex -- review my changes       a prompt even though its first word looks like a command
\b
Words that name no command are a prompt. A first word that looks like a mistyped command
(codex exce) or names a Rust Codex command codex-py lacks is an error instead; put `--`
before the words to send them as a prompt anyway.
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
    subcommand_metavar="[PROMPT]... | COMMAND [ARGS]...",
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
