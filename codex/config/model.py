"""The shape of config.toml, following the Rust peer's key names so one file serves both.

Plain dataclasses, so that reading the configuration does not import pydantic: pydantic checks
the merged data (``codex.config.schema`` builds strict validators from these classes) and a
``Memo`` remembers inputs that passed, so an unchanged configuration is not checked again.
Then ``from_data`` builds these objects from the checked data.

Unknown keys are kept (``extras``) so the loader can warn about them once with their location
instead of failing; wrong types and enum values fail with the key's path. Bounds and aliases
live in each field's metadata (``_limits``), where the validator builder reads them.
"""

# No ``from __future__ import annotations``: the loader reads these classes' field types on every
# run (typing.get_type_hints), and evaluated annotations spare it compiling each one from text.
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal, TypeVar

ApprovalPolicyName = str  # a registered policy name; built-ins: untrusted, on-failure, on-request, never
SandboxModeName = Literal["read-only", "workspace-write", "danger-full-access"]
ReasoningEffortName = Literal["none", "minimal", "low", "medium", "high", "xhigh"]
FileOpenerName = Literal["vscode", "vscode-insiders", "windsurf", "cursor", "none"]
WireApiName = str  # "responses", "chat", or any registered wire API

S = TypeVar("S", bound="_Section")


def _limits(**limits: Any) -> dict[str, Any]:
    """Field metadata the validator applies: ``ge``/``gt``/``le`` bounds, ``alias``."""
    return limits


@dataclass
class _Section:
    """A table of config.toml. Keys it does not declare are kept in ``extras``."""

    @property
    def extras(self) -> dict[str, Any]:
        """Keys of this table that no field declares (plugins may read their own)."""
        extras: dict[str, Any] = self.__dict__.get("_extras") or {}
        return extras

    @classmethod
    def from_data(cls: type[S], data: typing.Mapping[str, Any]) -> S:
        """Build from data that passed validation (a table keyed by field name or alias)."""
        by_key, hints = _field_keys(cls), _hints(cls)
        values: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        for key, value in data.items():
            name = by_key.get(key)
            if name is None:
                extras[key] = value
            else:
                values[name] = _convert(hints[name], value)
        built = cls(**values)
        if extras:
            built.__dict__["_extras"] = extras
        return built

    def to_data(self, *, by_alias: bool = True, exclude_none: bool = False) -> dict[str, Any]:
        """Plain data (the TOML/JSON view), nested tables included, extras last."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = _plain(getattr(self, item.name), by_alias, exclude_none)
            if value is None and exclude_none:
                continue
            data[item.metadata.get("alias", item.name) if by_alias else item.name] = value
        data.update(self.extras)
        return data


def _plain(value: Any, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(value, _Section):
        return value.to_data(by_alias=by_alias, exclude_none=exclude_none)
    if isinstance(value, dict):
        return {k: _plain(v, by_alias, exclude_none) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, by_alias, exclude_none) for v in value]
    return value


# Per-class answers, computed once: a dict, because sections (dataclasses with eq) are unhashable
# as far as functools.cache's typing is concerned.
_HINTS: dict[type, dict[str, Any]] = {}
_FIELD_KEYS: dict[type, dict[str, str]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _field_keys(cls: type) -> dict[str, str]:
    """Every key a table may use for a field (its name and its alias) -> the field's name."""
    keys = _FIELD_KEYS.get(cls)
    if keys is None:
        keys = {}
        for item in fields(cls):
            keys[item.name] = item.name
            if "alias" in item.metadata:
                keys[item.metadata["alias"]] = item.name
        _FIELD_KEYS[cls] = keys
    return keys


def section_type(annotation: Any) -> tuple[str, type[_Section]] | None:
    """("table", S) for a field holding a section, ("map", S) for ``dict[str, S]``, else None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = candidates[0] if len(candidates) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, _Section):
        return ("table", annotation)
    if typing.get_origin(annotation) is dict:
        value_type = typing.get_args(annotation)[1]
        if isinstance(value_type, type) and issubclass(value_type, _Section):
            return ("map", value_type)
    return None


def field_types(cls: type[_Section]) -> dict[str, Any]:
    """Each key a table of ``cls`` may use (names and aliases) -> the field's type."""
    hints = _hints(cls)
    return {key: hints[name] for key, name in _field_keys(cls).items()}


def _convert(annotation: Any, value: Any) -> Any:
    """A validated TOML value as the field holds it (sections built, ints widened to float)."""
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        shape = section_type(annotation)
        if shape is not None:
            kind, section = shape
            if kind == "table":
                return section.from_data(value)
            return {key: section.from_data(entry) for key, entry in value.items()}
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def is_section(value: Any) -> bool:
    """Whether ``value`` is a config table object (a plugin may hand one in)."""
    return is_dataclass(value) and isinstance(value, _Section)


@dataclass
class ModelProviderInfo(_Section):
    """One ``[model_providers.<id>]`` entry (or a plugin's built-in provider)."""

    id: str = ""
    name: str = ""
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    wire_api: WireApiName = "responses"
    query_params: dict[str, str] | None = None
    http_headers: dict[str, str] | None = None
    env_http_headers: dict[str, str] | None = None
    request_max_retries: int = field(default=4, metadata=_limits(ge=0, le=100))
    stream_max_retries: int = field(default=5, metadata=_limits(ge=0, le=100))
    stream_idle_timeout_ms: int = field(default=300_000, metadata=_limits(gt=0))
    requires_openai_auth: bool = False
    # Chat Completions: send reasoning back on assistant messages (default: only to localhost).
    chat_send_reasoning: bool | None = None
    # Chat Completions: ask for usage in the stream (stream_options.include_usage).
    chat_include_usage: bool | None = None
    # Local servers: the context window fixed for the session (the oss flow fills it in).
    context_window: int | None = field(default=None, metadata=_limits(ge=512))

    def api_key(self) -> str | None:
        """The key from ``env_key``, else (``requires_openai_auth``) from ``$CODEX_HOME/auth.json``
        as ``codex login`` stores it; None when the provider needs none.

        Raises ProviderError naming the variable (and the provider's instructions) when neither
        has a key, and AuthFileError when auth.json cannot be trusted.
        """
        from codex.auth import key_origin
        from codex.errors import ProviderError

        if not self.env_key and not self.requires_openai_auth:
            return None
        origin = key_origin(self.env_key, use_auth_file=self.requires_openai_auth)
        if origin is not None:
            return origin.key
        hint = f" {self.env_key_instructions}" if self.env_key_instructions else ""
        if self.requires_openai_auth:
            where = f"set the environment variable {self.env_key}, or " if self.env_key else ""
            raise ProviderError(
                f"provider {self.id or self.name!r} needs an API key and has none: {where}store one "
                f"with `codex login --with-api-key` (it reads the key from stdin).{hint}"
            )
        raise ProviderError(
            f"provider {self.id or self.name!r} needs an API key in the environment variable "
            f"{self.env_key}, which is not set.{hint}"
        )


@dataclass
class SandboxWorkspaceWrite(_Section):
    """``[sandbox_workspace_write]``: what workspace-write adds to read-only."""

    writable_roots: list[str] = field(default_factory=list)
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False
    # Ours: let commands write .git inside writable roots (git commit, git checkout), accepting
    # that they could also plant hooks that run later outside the sandbox.
    allow_git_writes: bool = False


@dataclass
class ShellEnvironmentPolicy(_Section):
    """``[shell_environment_policy]``: which variables a command the model runs sees."""

    inherit: Literal["all", "core", "none"] = "all"
    ignore_default_excludes: bool = False
    exclude: list[str] = field(default_factory=list)
    set: dict[str, str] = field(default_factory=dict)
    include_only: list[str] = field(default_factory=list)


@dataclass
class McpServerConfig(_Section):
    """``[mcp_servers.<name>]``: a stdio server (command) or a streamable HTTP one (url)."""

    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    url: str | None = None
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] | None = None
    startup_timeout_sec: float = field(default=10.0, metadata=_limits(gt=0))
    tool_timeout_sec: float = field(default=60.0, metadata=_limits(gt=0))
    # The Rust CLI's switch: false keeps the entry but does not start the server.
    enabled: bool = True


@dataclass
class History(_Section):
    """``[history]``: the interactive prompt's history file."""

    persistence: Literal["save-all", "none"] = "save-all"
    max_bytes: int | None = None


@dataclass
class ToolsSettings(_Section):
    """``[tools]`` (the Rust CLI's table): built-in tools that can be switched off."""

    # The model may look at image files in the workspace (the view_image tool).
    view_image: bool = True


@dataclass
class ApprovalSettings(_Section):
    """``[approval]`` (ours): extends the known-safe command list."""

    trusted_commands: list[str] = field(default_factory=list)
    elicitation_timeout_sec: float = field(default=600.0, metadata=_limits(gt=0))


@dataclass
class OssSettings(_Section):
    """``[oss]`` (ours): the local-model flow of ``--oss``."""

    autostart: bool = False
    stop_on_exit: bool = False
    context_window: int = field(default=32768, metadata=_limits(ge=2048))


@dataclass
class Analytics(_Section):
    """``[analytics]``: the peer's usage-reporting switch, accepted so one config.toml serves
    both programs (the peer needs ``enabled = false`` offline). We report nothing either way."""

    enabled: bool = True


@dataclass
class ProjectConfig(_Section):
    """``[projects."<path>"]``: the Rust CLI records here whether the person trusts a folder.

    A listed project runs with ``sandbox_mode = "workspace-write"``, and an untrusted one also
    with ``approval_policy = "untrusted"``, unless a layer sets them: the defaults the Rust CLI
    0.169 applies to the same folders.
    """

    trust_level: Literal["trusted", "untrusted"] | None = None


@dataclass
class Profile(_Section):
    """``[profiles.<name>]``: any top-level setting, chosen by ``--profile`` or ``profile =``."""

    model: str | None = None
    model_provider: str | None = None
    approval_policy: ApprovalPolicyName | None = None
    sandbox_mode: SandboxModeName | None = None
    model_reasoning_effort: str | None = None
    model_reasoning_summary: str | None = None
    model_verbosity: str | None = None


@dataclass
class Config(_Section):
    """The effective configuration after every layer has been merged."""

    model: str = "gpt-5-codex"
    model_provider: str = "openai"
    model_providers: dict[str, ModelProviderInfo] = field(default_factory=dict)
    approval_policy: ApprovalPolicyName = "on-request"
    sandbox_mode: SandboxModeName = "read-only"
    sandbox_workspace_write: SandboxWorkspaceWrite = field(default_factory=SandboxWorkspaceWrite)
    sandbox_backend: str = "auto"
    # Ours: let a backend that offers one start confined commands from a per-session fork server.
    sandbox_fork_server: bool = True
    shell_environment_policy: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    mcp_servers: dict[str, McpServerConfig] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    profile: str | None = None
    model_reasoning_effort: ReasoningEffortName | None = None
    model_reasoning_summary: Literal["auto", "concise", "detailed", "none"] | None = None
    model_verbosity: Literal["low", "medium", "high"] | None = None
    hide_agent_reasoning: bool = False
    # Raw reasoning text (open models stream it): None shows it when the model sends it, false
    # never shows it, true always does. Summaries follow hide_agent_reasoning alone.
    show_raw_agent_reasoning: bool | None = None
    project_doc_max_bytes: int = field(default=32 * 1024, metadata=_limits(ge=0))
    # Names tried, in order, in a directory that has no AGENTS.md (e.g. ["CLAUDE.md"]).
    project_doc_fallback_filenames: list[str] = field(default_factory=list)
    projects: dict[str, ProjectConfig] = field(default_factory=dict)
    history: History = field(default_factory=History)
    tools: ToolsSettings = field(default_factory=ToolsSettings)
    notify: list[str] | None = None
    instructions: str | None = None
    base_instructions: str | None = field(default=None, metadata=_limits(alias="base-instructions"))
    disable_response_storage: bool = False
    # The editor whose URI scheme file links in the terminal UI use (OSC 8 hyperlinks).
    file_opener: FileOpenerName = "none"
    # The peer's key for the built-in openai provider's URL (beats OPENAI_BASE_URL; an explicit
    # [model_providers.openai] base_url beats it). Applied when the providers are merged.
    openai_base_url: str | None = None
    # The model `codex review` and /review ask (the peer's key); -m on the command line wins.
    review_model: str | None = None
    include_plan_tool: bool = True
    # The model's context window in tokens (default: the provider entry's, else known models').
    model_context_window: int | None = field(default=None, metadata=_limits(ge=512))
    # Compact the conversation before a request that would carry more tokens than this
    # (default: 80 % of the context window).
    model_auto_compact_token_limit: int | None = field(default=None, metadata=_limits(ge=256))
    # Tokens of one tool's output sent to the model (head and tail; default: a 16th of the
    # window, at most 10,000). The whole output is still shown and recorded.
    tool_output_token_limit: int | None = field(default=None, metadata=_limits(ge=0))
    # Ours: how long any tool call may take before the model is told it timed out (MCP tools
    # keep their server's tool_timeout_sec, shell its command timeout).
    tool_timeout_sec: float = field(default=60.0, metadata=_limits(gt=0))
    oss_model: str | None = None
    oss_provider: str | None = None
    oss: OssSettings = field(default_factory=OssSettings)
    approval: ApprovalSettings = field(default_factory=ApprovalSettings)
    analytics: Analytics = field(default_factory=Analytics)
    cwd: str | None = None
    # ``[plugins.<name>]``: each plugin's own table, checked against the schema the plugin
    # declares (``codex_config_schema``) by the loader; read it with ``plugin_config``.
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)

    def plugin_config(self, name: str) -> Any:
        """The ``[plugins.<name>]`` table as the plugin declared it.

        A pydantic model instance when the plugin declared a model, the checked dict (the
        schema's defaults filled in) for a JSON Schema, the table as written when no schema was
        declared, and ``{}`` when there is no table at all::

            limit = config.plugin_config("word-count")["max_words"]
        """
        checked: dict[str, Any] = self.__dict__.get("_plugin_configs") or {}
        if name in checked:
            return checked[name]
        return dict(self.plugins.get(name, {}))

    def provider(self, provider_id: str | None = None) -> ModelProviderInfo:
        """The selected provider entry; an unknown id is a ConfigError listing the known ones."""
        from codex.errors import ConfigError

        wanted = provider_id or self.model_provider
        try:
            return self.model_providers[wanted]
        except KeyError:
            known = ", ".join(sorted(self.model_providers)) or "(none)"
            raise ConfigError(
                f"model_provider: unknown provider {wanted!r}; known: {known}. "
                f"Define it in config.toml as [model_providers.{wanted}]."
            ) from None


def config_defaults() -> dict[str, Any]:
    """The built-in defaults as plain data (the lowest layer, shown as 'default')."""
    return Config().to_data(by_alias=True, exclude_none=True)
