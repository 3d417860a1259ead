"""The tool seam: what a tool is, what it gets when called, and how a call is dispatched.

A tool is data (name, description, a JSON Schema of its arguments) plus an async handler that
receives the checked arguments as a dict. Built-in, plugin and MCP tools are all this one
shape, checked by one validator (``codex.tools.validation``). Dispatch never lets a bad call
crash the session: malformed JSON, unknown tools and schema violations come back to the model
as the call's output, naming the field and what was expected, and the turn goes on.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from codex.errors import CodexError
from codex.protocol import ImageInput, ToolSpec

if TYPE_CHECKING:
    from pydantic import BaseModel

    from codex.approval.policy import ApprovalPolicy
    from codex.config.model import Config
    from codex.events import ApprovalAnswer, EventMsg
    from codex.sandbox import ConfinedSpawner, SandboxBackend, SandboxPolicy
    from codex.tools.validation import ArgumentValidator


@dataclass
class ToolResult:
    """What goes back to the model as the call's output."""

    output: str
    success: bool = True
    # Images for the model to see (``view_image``): sent as a user message after the outputs.
    images: tuple[ImageInput, ...] = ()


class TurnAborted(Exception):
    """Raised inside a tool when the person chose "abort": the turn ends without an answer."""


@dataclass(frozen=True)
class CommandResult:
    """What ``ToolContext.run_command`` returns: how the command ended and what it printed.

    ``stdout`` and ``stderr`` are capped as the shell tool's are (head and tail kept);
    ``timed_out`` says the command was killed at its time limit (``exit_code`` is then 124);
    ``sandboxed`` is False when the person allowed it to run outside the sandbox.
    """

    exit_code: int
    stdout: str
    stderr: str
    duration_seconds: float
    timed_out: bool = False
    sandboxed: bool = True


class CommandRefused(CodexError):
    """``ToolContext.run_command`` did not run the command: the approval policy rejected it or
    the person declined. The message says why; a handler that does not catch it fails its call
    with that message, which the model reads."""


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

    async def run_command(
        self, argv: Sequence[str], *, cwd: str | Path | None = None, timeout: float | None = None
    ) -> CommandResult:
        """Run a command as the shell tool would: the approval policy decides (the person may be
        asked), the sandbox confines it, and its events show in every face.

        ``cwd`` is relative to the session's directory (default: that directory); ``timeout`` is
        in seconds (default: the shell tool's 120 s). Raises ``CommandRefused`` when the command
        was not run, ``TurnAborted`` when the person aborted the turn::

            result = await ctx.run_command(["git", "status", "--short"])
            if result.exit_code != 0:
                return ToolResult(f"git failed: {result.stderr}", success=False)
        """
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
    """A tool offered to the model: its name, what it does, its parameters, and its handler.

    ``parameters`` is a JSON Schema of an object: the model reads it, and codex checks every
    call against it before the handler runs. The handler is ``async (arguments, ctx)`` and
    receives the validated arguments as a plain ``dict`` (each missing top-level property that
    has a ``default`` filled in), plus the call's ``ToolContext``. It returns a ``ToolResult``.

    Example::

        async def echo(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
            return ToolResult(args["text"] * args["times"])

        Tool("echo", "Repeat the text back.",
             {"type": "object",
              "properties": {"text": {"type": "string"},
                             "times": {"type": "integer", "minimum": 1, "default": 1}},
              "required": ["text"]},
             echo)

    ``handler`` may be a ``"module:function"`` reference, imported on the first call.

    Deprecated (plugin API 1.0): ``parameters`` as a pydantic model class, or a
    ``"module:Class"`` reference to one. It is converted to JSON Schema once and checked like any
    other; its handler still receives an instance of the model, as before.
    """

    name: str
    description: str
    parameters: dict[str, Any] | type[BaseModel] | str
    handler: Handler | str
    # Tools that change nothing (MCP annotations) skip approval; built-ins decide for themselves.
    read_only: bool = False
    # Deprecated: the schema the model reads, when ``parameters`` is a model. Prefer a schema.
    schema_override: dict[str, Any] | None = field(default=None, repr=False)
    # Seconds a call may take before the model is told it timed out; None: the session's
    # ``tool_timeout_sec``; ``math.inf``: the handler bounds itself (shell's command timeout).
    timeout_sec: float | None = None
    # True for tools whose handlers show each call through events of their own (the built-ins'
    # exec_command/patch_apply/plan_update, MCP's mcp_tool_call); every other tool's calls are
    # shown as generic tool_call items (``ToolCallBegin``/``ToolCallEnd``).
    reports_own_items: bool = False
    _spec: ToolSpec | None = field(default=None, init=False, repr=False, compare=False)
    _schema: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    _legacy_model: type[BaseModel] | None = field(default=None, init=False, repr=False, compare=False)
    _validator: ArgumentValidator | None = field(default=None, init=False, repr=False, compare=False)

    def resolved_handler(self) -> Handler:
        """The handler (a reference is imported on first use)."""
        if isinstance(self.handler, str):
            from codex.references import load_reference

            self.handler = load_reference(self.handler)
        assert callable(self.handler), f"tool {self.name!r}: its handler is not callable"
        return self.handler

    def schema(self) -> dict[str, Any]:
        """The parameters as JSON Schema, worked out once (a pydantic model is converted here)."""
        if self._schema is None:
            from codex.tools.validation import check_declaration

            if isinstance(self.parameters, Mapping):
                schema = self.parameters if self.schema_override is None else self.schema_override
                self._schema = check_declaration(schema, self.name)
            else:
                model = self.parameters
                if isinstance(model, str):
                    model = _resolve_model(model, self.name)
                warnings.warn(
                    f"tool {self.name!r}: parameters as a pydantic model are deprecated since plugin API 1.1; "
                    "declare them as a JSON Schema dict (the handler then receives a dict)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                self._legacy_model = model
                declared = self.schema_override
                if declared is None:
                    declared = _clean_schema(model.model_json_schema())
                self._schema = check_declaration(declared, self.name)
        return self._schema

    def spec(self) -> ToolSpec:
        """The JSON-schema form the model sees (built once: every model request sends it)."""
        if self._spec is None:
            self._spec = ToolSpec(self.name, self.description, self.schema())
        return self._spec

    def validator(self) -> ArgumentValidator:
        """The checker of this tool's arguments (built on the first call)."""
        if self._validator is None:
            from codex.tools.validation import ArgumentValidator

            self._validator = ArgumentValidator(self.schema())
        return self._validator

    def handler_arguments(self, arguments: dict[str, Any]) -> Any:
        """What the handler receives for checked ``arguments``: the dict itself, or for a tool
        declared with a (deprecated) pydantic model, the model's instance."""
        if self._legacy_model is None:
            return arguments
        return self._legacy_model.model_validate(arguments)


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
                return self._shown_unrun(tool, raw, verdict, ctx)
            raw = verdict
        checked = self._check(tool, raw)
        if isinstance(checked, ToolResult):
            return self._shown_unrun(tool, raw, checked, ctx)
        if tool.reports_own_items:
            return await self._call(tool, checked, ctx)
        return await self._call_as_item(tool, copy.deepcopy(raw), checked, ctx)

    def _check(self, tool: Tool, raw: dict[str, Any]) -> Any:
        """The handler's arguments, or the failed result that tells the model what to fix."""
        from codex.tools.validation import SchemaDeclarationError

        try:
            validator = tool.validator()
        except SchemaDeclarationError as exc:
            return ToolResult(f"error: {self.describe(tool.name)} cannot be called: {exc}", False)
        except Exception as exc:
            return self._failed(tool.name, exc)
        problems = validator.problems(raw)
        if not problems:
            try:
                return tool.handler_arguments(validator.with_defaults(raw))
            except Exception as exc:  # a deprecated pydantic model's own checks (validators)
                found = _pydantic_problems(exc)
                if found is None:
                    return self._failed(tool.name, exc)
                problems = found
        return ToolResult(
            f"error: invalid arguments for {tool.name}: {'; '.join(problems)}. "
            "Fix them to match the tool's parameters and call it again.",
            False,
        )

    def _shown_unrun(self, tool: Tool, arguments: dict[str, Any], result: ToolResult, ctx: ToolContext) -> ToolResult:
        """A call that never reached its handler still shows as an item (failed) where calls do."""
        if not tool.reports_own_items:
            from codex.events import ToolCallBegin, ToolCallEnd

            owner = self.owners.get(tool.name, "")
            ctx.emit(ToolCallBegin(ctx.call_id, tool.name, owner, arguments))
            ctx.emit(ToolCallEnd(ctx.call_id, tool.name, owner, result.success, result.output, 0.0))
        return result

    async def _call_as_item(self, tool: Tool, shown: dict[str, Any], args: Any, ctx: ToolContext) -> ToolResult:
        """Run a tool that shows no items of its own between generic begin and end events."""
        from codex.events import ToolCallBegin, ToolCallEnd

        owner = self.owners.get(tool.name, "")
        ctx.emit(ToolCallBegin(ctx.call_id, tool.name, owner, shown))
        started = time.monotonic()
        result = ToolResult("error: the turn was interrupted during this call", False)
        try:
            result = await self._call(tool, args, ctx)
        except TurnAborted:
            result = ToolResult("error: the person aborted the turn during this call", False)
            raise
        finally:
            elapsed = round(time.monotonic() - started, 3)
            ctx.emit(ToolCallEnd(ctx.call_id, tool.name, owner, result.success, result.output, elapsed))
        return result

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


def _pydantic_problems(exc: Exception) -> list[str] | None:
    """``field: message`` for each error of a pydantic ValidationError; None for anything else."""
    import sys

    pydantic = sys.modules.get("pydantic")  # a model was used, so pydantic is loaded if it raised
    if pydantic is None or not isinstance(exc, pydantic.ValidationError):
        return None
    return [f"{'.'.join(str(p) for p in err['loc']) or '(the arguments)'}: {err['msg']}" for err in exc.errors()]
