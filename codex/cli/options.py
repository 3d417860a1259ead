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

click is imported inside the functions so that ``codex --version`` never pays for it, and
everything but the click glue lives on ``CliState``, so ``codex exec`` can run without click
(``codex.cli.quick_parse`` reads the same ``OptionSpec`` declarations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import click

    from codex.config.loader import LoadedConfig
    from codex.plugins import CodexPluginManager

F = TypeVar("F", bound=Callable[..., Any])

SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")


@dataclass(frozen=True)
class OptionSpec:
    """One command-line option, declared once for click and for ``codex.cli.quick_parse``.

    ``kind``: "flag" (True when given), "value" (one value, the last one given wins) or
    "multiple" (every value, in order). ``path``: "existing-dir" (a directory that exists,
    passed as a Path) or "file" (a Path that is not a directory).
    """

    name: str
    decls: tuple[str, ...]
    help: str
    kind: str = "value"
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    path: str | None = None
    default: Any = None
    show_default: bool = False

    def click_option(self) -> Callable[[F], F]:
        """The click decorator declaring this option."""
        import click

        kwargs: dict[str, Any] = {"help": self.help, "default": self.default}
        if self.kind == "flag":
            kwargs.update(is_flag=True, default=bool(self.default))
        elif self.kind == "multiple":
            kwargs.update(multiple=True, default=None)
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        if self.show_default:
            kwargs["show_default"] = True
        if self.choices is not None:
            kwargs["type"] = click.Choice(self.choices)
        elif self.path == "existing-dir":
            kwargs["type"] = click.Path(exists=True, file_okay=False, path_type=Path)
        elif self.path == "file":
            kwargs["type"] = click.Path(dir_okay=False, path_type=Path)
        decorator: Callable[[F], F] = click.option(*self.decls, self.name, **kwargs)
        return decorator


# The help sentences are what `codex --help` teaches.
AGENT_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "config_overrides",
        ("-c", "--config"),
        "Override a config.toml value for this run: -c key.path=value. The value is TOML "
        "(true, 5, [\"a\"], '\"o3\"') or else plain text; repeat for several keys.",
        kind="multiple",
        metavar="KEY=VALUE",
    ),
    OptionSpec(
        "profile",
        ("-p", "--profile"),
        "Use the profile NAME: $CODEX_HOME/NAME.config.toml (the Rust CLI's form) and/or [profiles.NAME] in "
        "config.toml; with both, the file wins key by key (the Rust CLI refuses both).",
        metavar="NAME",
    ),
    OptionSpec("model", ("-m", "--model"), "The model to ask, e.g. o3 or gpt-5-codex.", metavar="MODEL"),
    OptionSpec(
        "sandbox_mode",
        ("-s", "--sandbox"),
        "Where commands the model runs may write: read-only, workspace-write (the working "
        "directory and temp dirs) or danger-full-access (anywhere, no sandbox).",
        choices=SANDBOX_MODES,
        metavar="MODE",
    ),
    OptionSpec(
        "approval_policy",
        ("-a", "--ask-for-approval"),
        "When to ask before running a command: untrusted (anything not known to be safe), "
        "on-failure (retry unsandboxed only with approval), on-request (when the model asks) "
        "or never (plugins may add more).",
        metavar="POLICY",
    ),
    OptionSpec(
        "full_auto",
        ("--full-auto",),
        "Work without asking: --sandbox workspace-write and -a on-failure.",
        kind="flag",
    ),
    OptionSpec(
        "dangerously_bypass",
        ("--dangerously-bypass-approvals-and-sandbox",),
        "Run every command without a sandbox and without asking. Only for disposable "
        "environments such as containers.",
        kind="flag",
    ),
    OptionSpec(
        "oss",
        ("--oss",),
        "Use a local open-weights model through the oss provider (Ollama, gpt-oss:20b unless "
        "-m or oss_model says otherwise).",
        kind="flag",
    ),
    OptionSpec(
        "cd", ("-C", "--cd"), "Work in this directory instead of the current one.", metavar="DIR", path="existing-dir"
    ),
    OptionSpec(
        "add_dirs",
        ("--add-dir",),
        "Let commands also write in DIR for this run (repeatable): added to the sandbox's writable "
        "roots, like [sandbox_workspace_write] writable_roots. Takes effect under -s workspace-write.",
        kind="multiple",
        metavar="DIR",
        path="existing-dir",
    ),
    OptionSpec(
        "strict_config",
        ("--strict-config",),
        "Treat unknown keys in config.toml and -c as errors instead of warnings.",
        kind="flag",
    ),
)


# -i/--image: exec's and the interactive terminal's (also on the group: `codex -i shot.png "..."`).
IMAGE_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "images",
        ("-i", "--image"),
        "Attach an image (PNG, JPEG, GIF or WebP, up to 20 MiB) to the first prompt; repeat the "
        "option or separate files with commas (-i a.png,b.png). Unlike the Rust CLI's, it takes "
        "exactly one value, so a prompt after it stays the prompt.",
        kind="multiple",
        metavar="FILE",
    ),
)


def image_options(function: F) -> F:
    """Add ``-i/--image`` to a click command."""
    for spec in reversed(IMAGE_OPTIONS):
        function = spec.click_option()(function)
    return function


def image_arguments(ctx: click.Context) -> list[str]:
    """Every ``-i`` value given on this command line, the group's and the subcommand's."""
    values: list[str] = []
    current: click.Context | None = ctx
    chain: list[click.Context] = []
    while current is not None:
        chain.append(current)
        current = current.parent
    for level in reversed(chain):
        values.extend(level.params.get("images") or ())
    return values


def agent_options(function: F) -> F:
    """Add the global agent flags to a click command (they are also on the ``codex`` group)."""
    for spec in reversed(AGENT_OPTIONS):
        function = spec.click_option()(function)
    return function


@dataclass
class CliState:
    """Per-process CLI state on the root context's ``obj``: made once, shared by all commands.

    Tests may pass their own (``CliRunner().invoke(cli, args, obj=CliState(pm))``) to run
    commands against a plugin manager built with ``autoload=False``.
    """

    plugin_manager: CodexPluginManager | None = None
    loaded: LoadedConfig | None = None
    plugin_commands_loaded: bool = False
    warned: set[str] = field(default_factory=set)

    def warn(self, message: str) -> None:
        """Print ``codex: warning: message`` to stderr, once per process."""
        import sys

        if message not in self.warned:
            self.warned.add(message)
            sys.stderr.write(f"codex: warning: {message}\n")
            sys.stderr.flush()

    def plugins(self) -> CodexPluginManager:
        """The process's plugin manager (built-ins and entry points), made on first use."""
        if self.plugin_manager is None:
            from codex.plugins import make_plugin_manager

            self.plugin_manager = make_plugin_manager()
        return self.plugin_manager

    def load(self, settings: Mapping[str, Any]) -> LoadedConfig:
        """Load the configuration for these agent settings (once), printing warnings to stderr."""
        if self.loaded is not None:
            return self.loaded
        from codex.config.loader import load_config

        providers, owners = self.plugin_providers()
        for plugin in self.plugins().records.values():
            if plugin.error is not None:
                self.warn(f"plugin {plugin.name!r} ({plugin.distribution}) is broken: {plugin.error}; "
                          f"see `codex plugins`, or disable it with CODEX_DISABLE_PLUGINS={plugin.name}")
        loaded = load_config(
            cli_overrides=settings.get("config_overrides", []),
            profile=settings.get("profile"),
            flags=config_flags(settings),
            strict=settings.get("strict_config", False),
            plugin_providers=providers,
            provider_plugins=owners,
            plugin_schemas=self.plugin_schemas(),
        )
        for message in loaded.warnings:
            self.warn(message)
        check_approval_policies(loaded, self.approval_policy_names())
        for message in add_writable_roots(loaded, settings.get("add_dirs") or ()):
            self.warn(message)
        self.loaded = loaded
        return loaded

    def approval_policy_names(self) -> list[str]:
        """The approval policies plugins register (built-ins: untrusted, on-failure, on-request, never)."""
        from codex.plugins import collect_registry

        return collect_registry(self.plugins(), "codex_approval_policies", "approval policy").names()

    def plugin_schemas(self) -> dict[str, Any]:
        """The ``[plugins.<name>]`` schemas plugins declare (the first in pluggy's answer wins)."""
        from codex.config.plugin_tables import schema_problem
        from codex.plugins import named_entries

        schemas: dict[str, Any] = {}
        owners: dict[str, str] = {}
        for name, schema, plugin in named_entries(self.plugins().call_hook("codex_config_schema")):
            if name in owners:
                self.warn(f"config table [plugins.{name}] is declared by both plugin {owners[name]!r} and plugin "
                          f"{plugin!r}; using the one from {owners[name]!r}")
                continue
            problem = schema_problem(schema)
            if problem is not None:
                self.warn(f"plugin {plugin!r}: codex_config_schema: [plugins.{name}]: {problem}; "
                          "the table is not checked")
                continue
            schemas[name] = schema
            owners[name] = plugin
        for _plugin, sentence in self.plugins().hook_failures("codex_config_schema"):
            self.warn(f"{sentence}; its config tables are not checked")
        return schemas

    def plugin_providers(self) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Provider entries from every plugin, and which plugin gave each id (the first in pluggy's answer wins)."""
        from codex.config.model import is_section
        from codex.plugins import named_entries

        providers: dict[str, dict[str, Any]] = {}
        owners: dict[str, str] = {}
        answer = self.plugins().call_hook("codex_model_providers")
        for plugin, value in answer.contributions:
            if not isinstance(value, Mapping):
                self.warn(f"plugin {plugin!r}: codex_model_providers must return a dict of provider entries")
        # pluggy's order decides: the first entry of an id wins (see codex.plugins.collect_registry).
        for provider_id, entry, plugin in named_entries(answer):
            if provider_id in owners:
                self.warn(
                    f"model provider {provider_id!r} is defined by both plugin {owners[provider_id]!r} "
                    f"and plugin {plugin!r}; using the one from {owners[provider_id]!r} "
                    f"(disable the other with CODEX_DISABLE_PLUGINS={plugin})"
                )
                continue
            try:
                as_dict = entry.to_data(exclude_none=True) if is_section(entry) else dict(entry)
            except (TypeError, ValueError):
                self.warn(f"plugin {plugin!r} returned an unusable entry for model provider {provider_id!r}; "
                          f"expected a table of provider settings, got {type(entry).__name__}")
                continue
            providers[provider_id] = as_dict
            owners[provider_id] = plugin
        # A provider a plugin failed to declare would otherwise be just "unknown" later.
        for _plugin, sentence in self.plugins().hook_failures("codex_model_providers"):
            self.warn(f"{sentence}; its model providers are not available")
        return providers, owners


def check_approval_policies(loaded: LoadedConfig, known: Iterable[str]) -> None:
    """Refuse an ``approval_policy`` that names no registered policy, wherever it was set
    (config.toml, a profile, ``-c``, ``-a``), before anything runs.

    config.toml cannot know the names plugins add, so it is checked here, against the registry,
    with the origin of the value in the message.
    """
    from codex.config.overrides import format_key_path
    from codex.errors import ConfigError, UsageError

    known = sorted(known)
    config = loaded.config
    checks = [
        (format_key_path(("profiles", name, "approval_policy")), profile.approval_policy)
        for name, profile in config.profiles.items()
    ]
    checks.append(("approval_policy", config.approval_policy))
    for key, value in checks:
        if value is None or value in known:
            continue
        origin = loaded.origins.get(key, "default")
        expected = f'expected one of {", ".join(known)}; got "{value}"'
        if origin == "--ask-for-approval":
            raise UsageError(f"-a/--ask-for-approval: {expected}")
        if origin == "-c":
            raise ConfigError(f"-c {key}={value}: {expected}")
        where = f"{loaded.config_path}{origin[len('config.toml'):]}" if origin.startswith("config.toml") else origin
        raise ConfigError(f"{where}: {key}: {expected}")


def add_writable_roots(loaded: LoadedConfig, directories: Iterable[Path | str]) -> list[str]:
    """Add ``--add-dir`` directories to the writable roots of this run; return warnings when the
    sandbox mode makes them meaningless (read-only writes nowhere, danger-full-access anywhere)."""
    added = [str(Path(directory).resolve()) for directory in directories]
    if not added:
        return []
    roots = loaded.config.sandbox_workspace_write.writable_roots
    roots.extend(root for root in dict.fromkeys(added) if root not in roots)
    key = "sandbox_workspace_write.writable_roots"
    before = loaded.origins.get(key, "default")
    loaded.origins[key] = "--add-dir" if before == "default" else f"{before} + --add-dir"
    mode = loaded.config.sandbox_mode
    if mode == "read-only":
        return [f"--add-dir {added[0]} has no effect under the read-only sandbox, where commands write "
                "nowhere; add -s workspace-write to let them write there"]
    if mode == "danger-full-access":
        return [f"--add-dir {added[0]} has no effect under danger-full-access, where commands may write anywhere"]
    return []


def added_roots_override(loaded: LoadedConfig, settings: Mapping[str, Any]) -> list[str]:
    """``--add-dir`` as a ``-c`` override, for faces that load the configuration again per session
    (the MCP server): the writable roots ``loaded`` ended with, as one TOML array."""
    import json

    if not settings.get("add_dirs"):
        return []
    roots = loaded.config.sandbox_workspace_write.writable_roots
    return [f"sandbox_workspace_write.writable_roots={json.dumps(roots)}"]


def cli_state(ctx: click.Context) -> CliState:
    """The CliState of this invocation (created on first use)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def warn(ctx: click.Context, message: str) -> None:
    """Print ``codex: warning: message`` to stderr, once per process."""
    cli_state(ctx).warn(message)


def plugin_manager(ctx: click.Context) -> CodexPluginManager:
    """The process's plugin manager (built-ins and entry points), made on first use."""
    return cli_state(ctx).plugins()


def config_flags(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The dedicated flags among merged agent settings, as ``load_config(flags=...)`` takes them."""
    return {
        "model": settings.get("model"),
        "sandbox_mode": settings.get("sandbox_mode"),
        "approval_policy": settings.get("approval_policy"),
        "oss": settings.get("oss", False),
        "full_auto": settings.get("full_auto", False),
        "dangerously_bypass": settings.get("dangerously_bypass", False),
        "cwd": settings.get("cd"),
    }


def merge_agent_settings(levels: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The agent flags of each command level (outermost first) as one mapping, later levels winning
    and ``-c`` lists concatenated."""
    merged: dict[str, Any] = {spec.name: [] for spec in AGENT_OPTIONS if spec.kind == "multiple"}
    for params in levels:
        for spec in AGENT_OPTIONS:
            if spec.name not in params:
                continue
            value = params[spec.name]
            if spec.kind == "multiple":
                merged[spec.name] += list(value or ())
            elif spec.kind == "flag":
                merged[spec.name] = merged.get(spec.name, False) or bool(value)
            elif value is not None:
                merged[spec.name] = value
    return merged


def agent_settings(ctx: click.Context) -> dict[str, Any]:
    """The agent flags given anywhere on the command line, the subcommand's winning."""
    chain: list[click.Context] = []
    current: click.Context | None = ctx
    while current is not None:
        chain.append(current)
        current = current.parent
    return merge_agent_settings(level.params for level in reversed(chain))


def plugin_providers(ctx: click.Context) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Provider entries from every plugin, and which plugin gave each id (the first in pluggy's answer wins)."""
    return cli_state(ctx).plugin_providers()


def plugin_schemas(ctx: click.Context) -> dict[str, Any]:
    """The ``[plugins.<name>]`` schemas plugins declare (``codex_config_schema``)."""
    return cli_state(ctx).plugin_schemas()


def loaded_config(ctx: click.Context) -> LoadedConfig:
    """Load the configuration for this command line (once), printing warnings to stderr."""
    return cli_state(ctx).load(agent_settings(ctx))
