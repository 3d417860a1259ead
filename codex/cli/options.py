"""The global agent flags, accepted before the subcommand and after it, and what they load.

``codex -m o3 exec ...`` and ``codex exec -m o3 ...`` mean the same; when both are given the
later (the subcommand's) wins and ``-c`` lists are concatenated. A command that runs the agent
puts ``@agent_options`` on itself and calls ``loaded_config(ctx)``::

    @click.command()
    @agent_options
    @click.pass_context
    def exec(ctx: click.Context, **_: object) -> None:
        loaded = loaded_config(ctx)          # LoadedConfig, warnings already on stderr
        pm = plugin_manager(ctx)             # one plugin manager per process

click is imported inside the functions so that ``codex --version`` never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from codex.records import record

if TYPE_CHECKING:
    import click

    from codex.config.loader import LoadedConfig
    from codex.plugins import CodexPluginManager

F = TypeVar("F", bound=Callable[..., Any])

SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")

# (parameter name, flags, help). The help sentences are what `codex --help` teaches.
AGENT_FLAGS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "config_overrides",
        ("-c", "--config"),
        "Override a config.toml value for this run: -c key.path=value. The value is TOML "
        "(true, 5, [\"a\"], '\"o3\"') or else plain text; repeat for several keys.",
    ),
    ("profile", ("-p", "--profile"), "Use the settings of [profiles.NAME] from config.toml."),
    ("model", ("-m", "--model"), "The model to ask, e.g. o3 or gpt-5-codex."),
    (
        "sandbox_mode",
        ("-s", "--sandbox"),
        "Where commands the model runs may write: read-only, workspace-write (the working "
        "directory and temp dirs) or danger-full-access (anywhere, no sandbox).",
    ),
    (
        "approval_policy",
        ("-a", "--ask-for-approval"),
        "When to ask before running a command: untrusted (anything not known to be safe), "
        "on-failure (retry unsandboxed only with approval), on-request (when the model asks) "
        "or never (plugins may add more).",
    ),
    ("full_auto", ("--full-auto",), "Work without asking: --sandbox workspace-write and -a on-failure."),
    (
        "dangerously_bypass",
        ("--dangerously-bypass-approvals-and-sandbox",),
        "Run every command without a sandbox and without asking. Only for disposable "
        "environments such as containers.",
    ),
    (
        "oss",
        ("--oss",),
        "Use a local open-weights model through the oss provider (Ollama, gpt-oss:20b unless "
        "-m or oss_model says otherwise).",
    ),
    ("cd", ("-C", "--cd"), "Work in this directory instead of the current one."),
    (
        "strict_config",
        ("--strict-config",),
        "Treat unknown keys in config.toml and -c as errors instead of warnings.",
    ),
)

_FLAG_NAMES = {"full_auto", "dangerously_bypass", "oss", "strict_config"}


def agent_options(function: F) -> F:
    """Add the global agent flags to a click command (they are also on the ``codex`` group)."""
    import click

    for name, decls, help_text in reversed(AGENT_FLAGS):
        if name in _FLAG_NAMES:
            decorator = click.option(*decls, name, is_flag=True, default=False, help=help_text)
        elif name == "config_overrides":
            decorator = click.option(*decls, name, multiple=True, metavar="KEY=VALUE", help=help_text)
        elif name == "sandbox_mode":
            decorator = click.option(
                *decls, name, type=click.Choice(SANDBOX_MODES), default=None, metavar="MODE", help=help_text
            )
        elif name == "cd":
            decorator = click.option(
                *decls,
                name,
                type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=None,
                metavar="DIR",
                help=help_text,
            )
        else:
            metavar = {"profile": "NAME", "model": "MODEL", "approval_policy": "POLICY"}[name]
            decorator = click.option(*decls, name, default=None, metavar=metavar, help=help_text)
        function = decorator(function)
    return function


@record
class CliState:
    """Per-process CLI state on the root context's ``obj``: made once, shared by all commands.

    Tests may pass their own (``CliRunner().invoke(cli, args, obj=CliState(pm))``) to run
    commands against a plugin manager built with ``autoload=False``.
    """

    plugin_manager: CodexPluginManager | None = None
    loaded: LoadedConfig | None = None
    plugin_commands_loaded: bool = False
    warned: set[str] = field(default_factory=set)


def cli_state(ctx: click.Context) -> CliState:
    """The CliState of this invocation (created on first use)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def warn(ctx: click.Context, message: str) -> None:
    """Print ``codex: warning: message`` to stderr, once per process."""
    import click

    state = cli_state(ctx)
    if message not in state.warned:
        state.warned.add(message)
        click.echo(f"codex: warning: {message}", err=True)


def plugin_manager(ctx: click.Context) -> CodexPluginManager:
    """The process's plugin manager (built-ins and entry points), made on first use."""
    state = cli_state(ctx)
    if state.plugin_manager is None:
        from codex.plugins import make_plugin_manager

        state.plugin_manager = make_plugin_manager()
    return state.plugin_manager


def agent_settings(ctx: click.Context) -> dict[str, Any]:
    """The agent flags given anywhere on the command line, the subcommand's winning."""
    merged: dict[str, Any] = {"config_overrides": []}
    chain: list[click.Context] = []
    current: click.Context | None = ctx
    while current is not None:
        chain.append(current)
        current = current.parent
    for level in reversed(chain):  # root first, so deeper levels overwrite
        for name, _decls, _help in AGENT_FLAGS:
            if name not in level.params:
                continue
            value = level.params[name]
            if name == "config_overrides":
                merged[name] += list(value or ())
            elif name in _FLAG_NAMES:
                merged[name] = merged.get(name, False) or bool(value)
            elif value is not None:
                merged[name] = value
    return merged


def plugin_providers(ctx: click.Context) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Provider entries from every plugin, and which plugin gave each id (first one wins)."""
    from codex.config.model import is_section

    pm = plugin_manager(ctx)
    providers: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for plugin, value in pm.call_each("codex_model_providers"):
        if not isinstance(value, Mapping):
            warn(ctx, f"plugin {plugin!r}: codex_model_providers must return a dict of provider entries")
            continue
        for provider_id, entry in value.items():
            if provider_id in owners:
                warn(
                    ctx,
                    f"model provider {provider_id!r} is defined by both plugins {owners[provider_id]!r} "
                    f"and {plugin!r}; using {owners[provider_id]!r}'s",
                )
                continue
            try:
                as_dict = entry.to_data(exclude_none=True) if is_section(entry) else dict(entry)
            except (TypeError, ValueError):
                warn(ctx, f"plugin {plugin!r} returned an unusable entry for model provider {provider_id!r}; "
                     f"expected a table of provider settings, got {type(entry).__name__}")
                continue
            providers[provider_id] = as_dict
            owners[provider_id] = plugin
    return providers, owners


def loaded_config(ctx: click.Context) -> LoadedConfig:
    """Load the configuration for this command line (once), printing warnings to stderr."""
    state = cli_state(ctx)
    if state.loaded is not None:
        return state.loaded
    from codex.config.loader import load_config

    settings = agent_settings(ctx)
    providers, owners = plugin_providers(ctx)
    for plugin in plugin_manager(ctx).records.values():
        if plugin.error is not None:
            warn(ctx, f"plugin {plugin.name!r} ({plugin.distribution}) is broken: {plugin.error}; "
                 f"see `codex plugins`, or disable it with CODEX_DISABLE_PLUGINS={plugin.name}")
    flags = {
        "model": settings.get("model"),
        "sandbox_mode": settings.get("sandbox_mode"),
        "approval_policy": settings.get("approval_policy"),
        "oss": settings.get("oss", False),
        "full_auto": settings.get("full_auto", False),
        "dangerously_bypass": settings.get("dangerously_bypass", False),
        "cwd": settings.get("cd"),
    }
    loaded = load_config(
        cli_overrides=settings["config_overrides"],
        profile=settings.get("profile"),
        flags=flags,
        strict=settings.get("strict_config", False),
        plugin_providers=providers,
        provider_plugins=owners,
    )
    for message in loaded.warnings:
        warn(ctx, message)
    state.loaded = loaded
    return loaded
