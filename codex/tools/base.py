"""The tool seam: what a tool is, what it gets when called, and how a call is dispatched.

A tool is data (name, description, a pydantic model of its arguments) plus an async handler.
Dispatch never lets a bad call crash the session: malformed JSON, unknown tools and schema
violations come back to the model as the call's output, and the turn goes on.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from codex.errors import CodexError
from codex.protocol import ToolSpec

if TYPE_CHECKING:
    from pydantic import BaseModel

    from codex.approval.policy import ApprovalPolicy
    from codex.config.model import Config
    from codex.events import ApprovalAnswer, EventMsg
    from codex.sandbox import ConfinedSpawner, SandboxBackend, SandboxPolicy


@dataclass
class ToolResult:
    """What goes back to the model as the call's output."""

    output: str
    success: bool = True


class TurnAborted(Exception):
    """Raised inside a tool when the person chose "abort": the turn ends without an answer."""


class ToolContext(Protocol):
    """What a handler may use: the session's settings and services, nothing more."""

    call_id: str

    @property
    def cwd(self) -> Path: ...

    @property
    def config(self) -> Config: ...

    @property
    def approval_policy(self) -> ApprovalPolicy: ...

    @property
    def sandbox_policy(self) -> SandboxPolicy: ...

    @property
    def sandbox_backend(self) -> SandboxBackend | None: ...

    @property
    def approved_commands(self) -> set[tuple[str, ...]]: ...

    @property
    def approved_prefixes(self) -> list[tuple[str, ...]]: ...

    def emit(self, msg: EventMsg) -> None:
        """Send an event to the face."""
        ...

    def confined_spawner(self) -> ConfinedSpawner | None:
        """The sandbox backend's fork server for this session, if it offers one."""
        ...

    async def ask_exec_approval(
        self, command: list[str], cwd: Path, reason: str, *, sandboxed: bool | None = None
    ) -> ApprovalAnswer:
        """Ask the person about a command (the face answers; exec's face always denies).

        ``sandboxed`` says where it runs once approved (None: not a shell command, e.g. an MCP tool).
        """
        ...

    async def ask_patch_approval(
        self, changes: dict[str, dict[str, Any]], diff: str, reason: str
    ) -> ApprovalAnswer:
        """Ask the person about a patch."""
        ...


Handler = Callable[[Any, ToolContext], Awaitable[ToolResult]]
# The tool gate (codex.hook_calls.ToolGate.check): (tool, its plugin, arguments, context, turn id)
# -> the arguments to run with, or the result the model gets instead.
Gate = Callable[[str, str, dict[str, Any], ToolContext, str], Awaitable["dict[str, Any] | ToolResult"]]


@dataclass
class Tool:
    """A tool offered to the model.

    ``parameters`` is the pydantic model of the arguments, or a ``"module:Class"`` reference to
    it, imported when the schema is first needed. The schema the model reads is built from the
    model on every run, never read back from a cache.
    ``handler`` may likewise be a ``"module:function"`` reference, imported on the first call.

    Example::

        class EchoArgs(BaseModel):
            text: str

        async def echo(args: EchoArgs, ctx: ToolContext) -> ToolResult:
            return ToolResult(args.text)

        Tool("echo", "Repeat the text back.", EchoArgs, echo)
        Tool("echo", "Repeat the text back.", "my_plugin.args:EchoArgs", echo)
    """

    name: str
    description: str
    parameters: type[BaseModel] | str
    handler: Handler | str
    # Tools that change nothing (MCP annotations) skip approval; built-ins decide for themselves.
    read_only: bool = False
    schema_override: dict[str, Any] | None = field(default=None, repr=False)
    # Seconds a call may take before the model is told it timed out; None: the session's
    # ``tool_timeout_sec``; ``math.inf``: the handler bounds itself (shell's command timeout).
    timeout_sec: float | None = None
    _spec: ToolSpec | None = field(default=None, init=False, repr=False, compare=False)

    def resolved_handler(self) -> Handler:
        """The handler (a reference is imported on first use)."""
        if isinstance(self.handler, str):
            from codex.references import load_reference

            self.handler = load_reference(self.handler)
        assert callable(self.handler), f"tool {self.name!r}: its handler is not callable"
        return self.handler

    def model(self) -> type[BaseModel]:
        """The arguments' pydantic model (a reference is imported on first use)."""
        if isinstance(self.parameters, str):
            self.parameters = _resolve_model(self.parameters, self.name)
        return self.parameters

    def spec(self) -> ToolSpec:
        """The JSON-schema form the model sees (built once: every model request sends it)."""
        if self._spec is None:
            schema = self.schema_override
            if schema is None:
                schema = _clean_schema(self.model().model_json_schema())
            self._spec = ToolSpec(self.name, self.description, schema)
        return self._spec

    def parse_arguments(self, raw: dict[str, Any]) -> Any:
        """The handler's arguments, an instance of the model.

        Raises ``pydantic.ValidationError`` when the arguments are invalid.
        """
        return self.model().model_validate(raw)


def _resolve_model(reference: str, tool: str) -> type[BaseModel]:
    from pydantic import BaseModel

    from codex.references import load_reference

    try:
        model = load_reference(reference)
    except (ImportError, AttributeError) as exc:
        raise TypeError(f"tool {tool!r}: parameters {reference!r} cannot be imported: {exc}") from exc
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"tool {tool!r}: parameters {reference!r} is not a pydantic model class")
    return model


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles: they cost tokens and say nothing the property names don't."""
    schema = dict(schema)
    schema.pop("title", None)
    props = schema.get("properties")
    if isinstance(props, dict):
        schema["properties"] = {k: {kk: vv for kk, vv in v.items() if kk != "title"} for k, v in props.items()}
    if "$defs" in schema:
        schema["$defs"] = {k: _clean_schema(v) for k, v in schema["$defs"].items()}
    schema.setdefault("additionalProperties", False)
    return schema


class ToolRegistry:
    """Tools by name, and the error-proof dispatch of one call.

    Whatever a tool does wrong (raises, never returns, cannot even describe its arguments) stays
    with that tool: the model is told, naming the tool and the plugin that offered it
    (``owners``), and the turn goes on.
    """

    def __init__(
        self,
        tools: list[Tool],
        owners: dict[str, str] | None = None,
        timeout_sec: float = 60.0,
        gate: Gate | None = None,
    ) -> None:
        self.tools: dict[str, Tool] = {}
        for tool in tools:
            self.tools[tool.name] = tool
        self.owners = dict(owners or {})
        self.timeout_sec = timeout_sec
        # Plugins' codex_before_tool_call, asked about every call before it is validated and run.
        self.gate = gate
        # Tools dropped because their spec could not be built: name -> why, until a face is told.
        self.left_out: dict[str, str] = {}

    def describe(self, name: str) -> str:
        """``tool 'x' (plugin 'p')``: how messages name a tool."""
        owner = self.owners.get(name)
        return f"tool {name!r}" + (f" (plugin {owner!r})" if owner else "")

    def specs(self) -> list[ToolSpec]:
        """The specs the model is offered; a tool whose spec cannot be built is left out."""
        specs: list[ToolSpec] = []
        for name, tool in list(self.tools.items()):
            try:
                specs.append(tool.spec())
            except Exception as exc:
                del self.tools[name]
                self.left_out[name] = (
                    f"{self.describe(name)} is left out: its parameters could not be described "
                    f"({type(exc).__name__}: {exc})"
                )
        return specs

    async def dispatch(self, name: str, arguments: str, ctx: ToolContext) -> ToolResult:
        """Run one call; every failure, including a timeout, is a failed result for the model.

        A call of a known tool with a JSON object for arguments passes the gate (plugins'
        ``codex_before_tool_call``) first, which may refuse it or change its arguments.
        """
        tool = self.tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self.tools))
            return ToolResult(f"error: unknown tool {name!r}; available tools: {known}", False)
        try:
            raw = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            return ToolResult(
                f"error: the arguments of {name} are not valid JSON ({exc.msg} at position {exc.pos}); "
                "send a JSON object matching the tool's schema",
                False,
            )
        if not isinstance(raw, dict):
            return ToolResult(f"error: the arguments of {name} must be a JSON object", False)
        if self.gate is not None:
            verdict = await self.gate(name, self.owners.get(name, ""), raw, ctx, getattr(ctx, "sub_id", ""))
            if isinstance(verdict, ToolResult):
                return verdict
            raw = verdict
        try:
            args = tool.parse_arguments(raw)
        except Exception as exc:
            # pydantic is imported only here: a plainly valid call may never have needed it.
            from pydantic import ValidationError

            if not isinstance(exc, ValidationError):
                return self._failed(name, exc)
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
            )
            return ToolResult(f"error: invalid arguments for {name}: {problems}", False)
        return await self._call(tool, args, ctx)

    async def _call(self, tool: Tool, args: Any, ctx: ToolContext) -> ToolResult:
        limit = self.timeout_sec if tool.timeout_sec is None else tool.timeout_sec
        scope = asyncio.timeout(limit if math.isfinite(limit) else None)
        try:
            async with scope:
                # The context may stop the clock while a person is asked (see CallContext).
                bind: Callable[[asyncio.Timeout], None] | None = getattr(ctx, "bind_time_limit", None)
                if bind is not None:
                    bind(scope)
                return await tool.resolved_handler()(args, ctx)
        except TurnAborted:
            raise
        except TimeoutError as exc:
            if not scope.expired():
                return self._failed(tool.name, exc)
            return ToolResult(
                f"error: {self.describe(tool.name)} did not finish within {limit:g} s (tool_timeout_sec); "
                "it was stopped. Try a smaller task, or another way.",
                False,
            )
        except Exception as exc:
            return self._failed(tool.name, exc)

    def _failed(self, name: str, exc: Exception) -> ToolResult:
        if isinstance(exc, CodexError):  # already a sentence meant for people
            return ToolResult(f"error: {self.describe(name)} failed: {exc}", False)
        return ToolResult(f"error: {self.describe(name)} failed: {type(exc).__name__}: {exc}", False)
