"""The two tools ``codex mcp`` offers: their schemas, their parameters, and the config of a call.

``codex`` starts a session; ``codex-reply`` continues one. Parameter names follow the Rust peer
(``approval-policy``, ``base-instructions``...); snake_case and camelCase spellings are accepted
too, because clients generated from other schemas send those. Bad parameters are reported as a
tool error naming each parameter and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

if TYPE_CHECKING:
    from codex.config.loader import LoadedConfig

APPROVAL_POLICIES = ("untrusted", "on-failure", "on-request", "never")
SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")

CODEX_TOOL = "codex"
CODEX_REPLY_TOOL = "codex-reply"

CODEX_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "description": "The task for Codex: the first user message of the session."},
        "model": {"type": "string", "description": "Model to use, e.g. o3 or gpt-5-codex (default: config.toml)."},
        "profile": {"type": "string", "description": "A [profiles.NAME] table of config.toml to use."},
        "cwd": {
            "type": "string",
            "description": "Working directory of the session; a relative path is resolved against the server's.",
        },
        "approval-policy": {
            "type": "string",
            "enum": list(APPROVAL_POLICIES),
            "description": "When to ask (through elicitation) before running a command.",
        },
        "sandbox": {
            "type": "string",
            "enum": list(SANDBOX_MODES),
            "description": "Where commands may write.",
        },
        "config": {
            "type": "object",
            "additionalProperties": True,
            "description": "config.toml overrides as dotted keys, e.g. {\"model_reasoning_effort\": \"high\"}.",
        },
        "base-instructions": {"type": "string", "description": "Replace the built-in instructions."},
        "include-plan-tool": {"type": "boolean", "description": "Offer the update_plan tool to the model."},
    },
    "required": ["prompt"],
    "additionalProperties": False,
}

CODEX_REPLY_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "description": "The next user message."},
        "sessionId": {"type": "string", "description": "The threadId a `codex` call returned."},
        "conversationId": {"type": "string", "description": "Same as sessionId (older clients)."},
        "threadId": {"type": "string", "description": "Same as sessionId (newer clients)."},
        "compact": {
            "type": "boolean",
            "description": "First replace the conversation by a summary the model writes (frees context; "
            "long sessions also compact on their own near their limit).",
        },
    },
    "required": ["prompt"],
    "additionalProperties": False,
}

OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "threadId": {"type": "string", "description": "The session id; pass it to codex-reply to continue."},
        "content": {"type": "string", "description": "Codex's final message of the turn."},
    },
    "required": ["threadId", "content"],
}

CODEX_DESCRIPTION = (
    "Run a Codex session: Codex works on the prompt in the given directory (reading files, running "
    "commands in a sandbox, editing with patches) and returns its final message. Commands that need "
    "approval are asked through elicitation. Progress streams as codex/event notifications."
)
CODEX_REPLY_DESCRIPTION = (
    "Continue a Codex session with another prompt. Sessions are recorded on disk, so a threadId "
    "from an earlier server process works too."
)


def _aliases(*names: str) -> Any:
    return AliasChoices(*names)


class CodexToolArgs(BaseModel):
    """Parameters of the ``codex`` tool."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    model: str | None = Field(None, min_length=1)
    profile: str | None = Field(None, min_length=1)
    cwd: str | None = Field(None, min_length=1)
    approval_policy: Literal["untrusted", "on-failure", "on-request", "never"] | None = Field(
        None, validation_alias=_aliases("approval-policy", "approval_policy", "approvalPolicy")
    )
    sandbox: Literal["read-only", "workspace-write", "danger-full-access"] | None = Field(
        None, validation_alias=_aliases("sandbox", "sandbox_mode", "sandboxMode")
    )
    config: dict[str, Any] | None = None
    base_instructions: str | None = Field(
        None, validation_alias=_aliases("base-instructions", "base_instructions", "baseInstructions")
    )
    include_plan_tool: bool | None = Field(
        None, validation_alias=_aliases("include-plan-tool", "include_plan_tool", "includePlanTool")
    )

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the prompt is empty")
        return value


class CodexReplyArgs(BaseModel):
    """Parameters of the ``codex-reply`` tool (the session id under any of its three names)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    session_id: str | None = Field(None, validation_alias=_aliases("sessionId", "session_id"))
    conversation_id: str | None = Field(None, validation_alias=_aliases("conversationId", "conversation_id"))
    thread_id: str | None = Field(None, validation_alias=_aliases("threadId", "thread_id"))
    compact: bool = False

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the prompt is empty")
        return value

    def target(self) -> str:
        """The one session id given; ValueError when none, or different ones, were given."""
        given = {v.strip() for v in (self.session_id, self.conversation_id, self.thread_id) if v and v.strip()}
        if not given:
            raise ValueError("sessionId is required (the threadId a `codex` call returned)")
        if len(given) > 1:
            raise ValueError(f"sessionId, conversationId and threadId name different sessions: {sorted(given)}")
        return given.pop()


M = TypeVar("M", bound=BaseModel)


class ArgumentError(Exception):
    """Tool arguments that do not fit the schema; the message lists each problem."""


def parse_args(model: type[M], tool: str, arguments: Any) -> M:
    """Validate ``arguments`` for ``tool``; ArgumentError says which parameter is wrong and why."""
    if not isinstance(arguments, dict):
        raise ArgumentError(f"invalid arguments for {tool}: expected an object, got {type(arguments).__name__}")
    try:
        return model.model_validate(arguments)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                known = ", ".join(_parameter_names(model))
                message = f"unknown parameter; known parameters: {known}"
            elif error["type"] == "missing":
                message = "required parameter is missing"
            elif error["type"] == "value_error":
                message = str(error.get("ctx", {}).get("error", message))
            else:
                message = f"{message} (got {_short(error.get('input'))})"
            problems.append(f"{where}: {message}")
        raise ArgumentError(f"invalid arguments for {tool}: " + "; ".join(problems)) from None


def _parameter_names(model: type[BaseModel]) -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        names.append(alias.choices[0] if isinstance(alias, AliasChoices) else name)
    return [str(n) for n in names]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------- config of a call


@dataclass
class ServerSettings:
    """What ``codex mcp`` was started with; every session it opens starts from these.

    ``flags`` uses ``load_config``'s flag names (model, sandbox_mode, approval_policy, oss,
    full_auto, dangerously_bypass, cwd).
    """

    cwd: Path
    home: Path | None = None
    cli_overrides: list[str] = field(default_factory=list)
    profile: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    plugin_providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    provider_plugins: dict[str, str] = field(default_factory=dict)
    plugin_schemas: dict[str, Any] | None = None


def config_for_call(
    settings: ServerSettings, call: CodexToolArgs | None = None, *, cwd: Path | None = None
) -> LoadedConfig:
    """The server's settings with one call's parameters on top (the call's win).

    Raises ArgumentError for a bad ``cwd`` or ``config`` entry and ConfigError for a config that
    does not validate.
    """
    from codex.config.loader import load_config
    from codex.config.overrides import format_value

    overrides = list(settings.cli_overrides)
    flags = dict(settings.flags)
    profile = settings.profile
    if cwd is not None:
        flags["cwd"] = cwd
    if call is not None:
        for key, value in (call.config or {}).items():
            if value is None:
                raise ArgumentError(f"invalid arguments for codex: config.{key}: null has no TOML form; leave it out")
            overrides.append(f"{key}={format_value(value)}")
        if call.base_instructions is not None:
            overrides.append(f"base_instructions={format_value(call.base_instructions)}")
        if call.include_plan_tool is not None:
            overrides.append(f"include_plan_tool={format_value(call.include_plan_tool)}")
        if call.model is not None:
            flags["model"] = call.model
        if call.profile is not None:
            profile = call.profile
        if call.approval_policy is not None:
            flags["approval_policy"] = call.approval_policy
        if call.sandbox is not None:
            flags["sandbox_mode"] = call.sandbox
        if call.cwd is not None:
            target = (settings.cwd / Path(call.cwd).expanduser()).resolve()
            if not target.is_dir():
                raise ArgumentError(f"invalid arguments for codex: cwd: {target} is not a directory")
            flags["cwd"] = target
    return load_config(
        home=settings.home,
        cli_overrides=overrides,
        profile=profile,
        flags=flags,
        plugin_providers=settings.plugin_providers,
        provider_plugins=settings.provider_plugins,
        cwd=settings.cwd,
        plugin_schemas=settings.plugin_schemas,
    )


def call_config_warnings(call: CodexToolArgs) -> list[str]:
    """One warning per key of the call's ``config`` that config.toml does not know.

    The same check (and spelling hint) as ``-c`` on the command line; the key is ignored, as
    there, but the client is told rather than left guessing why the setting had no effect.
    """
    if not call.config:
        return []
    from codex.config.errors import Source
    from codex.config.loader import find_unknown_keys
    from codex.config.overrides import format_value, nest, parse_overrides

    source = Source("config", "the codex tool's `config` argument")
    texts = [f"{key}={format_value(value)}" for key, value in call.config.items() if value is not None]
    warnings: list[str] = []
    for override in parse_overrides(texts):
        warnings += find_unknown_keys(nest(override.path, override.value), lambda _path: source)
    return warnings
