"""Pydantic models of config.toml, following the Rust peer's key names so one file serves both.

Unknown keys are kept (``extra="allow"``) so the loader can warn about them once with their
location instead of failing; wrong types and enum values fail with the key's path.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ApprovalPolicyName = str  # a registered policy name; built-ins: untrusted, on-failure, on-request, never
SandboxModeName = Literal["read-only", "workspace-write", "danger-full-access"]
WireApiName = str  # "responses", "chat", or any registered wire API


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


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
    request_max_retries: int = Field(4, ge=0, le=100)
    stream_max_retries: int = Field(5, ge=0, le=100)
    stream_idle_timeout_ms: int = Field(300_000, gt=0)
    requires_openai_auth: bool = False
    # Chat Completions: send reasoning back on assistant messages (default: only to localhost).
    chat_send_reasoning: bool | None = None
    # Chat Completions: ask for usage in the stream (stream_options.include_usage).
    chat_include_usage: bool | None = None
    # Local servers: the context window fixed for the session (the oss flow fills it in).
    context_window: int | None = Field(None, ge=512)

    def api_key(self) -> str | None:
        """The key from ``env_key``, or None when the provider needs none.

        Raises ProviderError naming the variable (and the provider's instructions) when unset.
        """
        import os

        from codex.errors import ProviderError

        if not self.env_key:
            return None
        value = os.environ.get(self.env_key, "").strip()
        if not value:
            hint = f" {self.env_key_instructions}" if self.env_key_instructions else ""
            raise ProviderError(
                f"provider {self.id or self.name!r} needs an API key in the environment variable "
                f"{self.env_key}, which is not set.{hint}"
            )
        return value


class SandboxWorkspaceWrite(_Section):
    """``[sandbox_workspace_write]``: what workspace-write adds to read-only."""

    writable_roots: list[str] = Field(default_factory=list)
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False
    # Ours: let commands write .git inside writable roots (git commit, git checkout), accepting
    # that they could also plant hooks that run later outside the sandbox.
    allow_git_writes: bool = False


class ShellEnvironmentPolicy(_Section):
    """``[shell_environment_policy]``: which variables a command the model runs sees."""

    inherit: Literal["all", "core", "none"] = "all"
    ignore_default_excludes: bool = False
    exclude: list[str] = Field(default_factory=list)
    set: dict[str, str] = Field(default_factory=dict)
    include_only: list[str] = Field(default_factory=list)


class McpServerConfig(_Section):
    """``[mcp_servers.<name>]``: a stdio server (command) or a streamable HTTP one (url)."""

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    url: str | None = None
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] | None = None
    startup_timeout_sec: float = Field(10.0, gt=0)
    tool_timeout_sec: float = Field(60.0, gt=0)


class History(_Section):
    """``[history]``: the interactive prompt's history file."""

    persistence: Literal["save-all", "none"] = "save-all"
    max_bytes: int | None = None


class ApprovalSettings(_Section):
    """``[approval]`` (ours): extends the known-safe command list."""

    trusted_commands: list[str] = Field(default_factory=list)
    elicitation_timeout_sec: float = Field(600.0, gt=0)


class OssSettings(_Section):
    """``[oss]`` (ours): the local-model flow of ``--oss``."""

    autostart: bool = False
    stop_on_exit: bool = False
    context_window: int = Field(32768, ge=2048)


class Profile(_Section):
    """``[profiles.<name>]``: any top-level setting, chosen by ``--profile`` or ``profile =``."""

    model: str | None = None
    model_provider: str | None = None
    approval_policy: ApprovalPolicyName | None = None
    sandbox_mode: SandboxModeName | None = None
    model_reasoning_effort: str | None = None
    model_reasoning_summary: str | None = None
    model_verbosity: str | None = None


class Config(_Section):
    """The effective configuration after every layer has been merged."""

    model: str = "gpt-5-codex"
    model_provider: str = "openai"
    model_providers: dict[str, ModelProviderInfo] = Field(default_factory=dict)
    approval_policy: ApprovalPolicyName = "on-request"
    sandbox_mode: SandboxModeName = "read-only"
    sandbox_workspace_write: SandboxWorkspaceWrite = Field(default_factory=SandboxWorkspaceWrite)
    sandbox_backend: str = "auto"
    # Ours: let a backend that offers one start confined commands from a per-session fork server.
    sandbox_fork_server: bool = True
    shell_environment_policy: ShellEnvironmentPolicy = Field(default_factory=ShellEnvironmentPolicy)
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    profiles: dict[str, Profile] = Field(default_factory=dict)
    profile: str | None = None
    model_reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    model_reasoning_summary: Literal["auto", "concise", "detailed", "none"] | None = None
    model_verbosity: Literal["low", "medium", "high"] | None = None
    hide_agent_reasoning: bool = False
    project_doc_max_bytes: int = Field(32 * 1024, ge=0)
    history: History = Field(default_factory=History)
    notify: list[str] | None = None
    instructions: str | None = None
    base_instructions: str | None = Field(None, alias="base-instructions")
    disable_response_storage: bool = False
    file_opener: str = "none"
    include_plan_tool: bool = True
    oss_model: str | None = None
    oss_provider: str | None = None
    oss: OssSettings = Field(default_factory=OssSettings)
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    cwd: str | None = None

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
    return Config().model_dump(mode="json", by_alias=True, exclude_none=True)
