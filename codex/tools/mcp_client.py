"""The MCP client: the servers of ``[mcp_servers.<name>]`` become tools the model can call.

``start_mcp_servers`` connects to every configured server at once (stdio or streamable HTTP),
each bounded by its ``startup_timeout_sec``, lists their tools and wraps each one as a codex
``Tool`` named ``<server>__<tool>``. A server that cannot start is reported in ``failures`` and
left out; the session goes on without it. A server that dies later makes its tools answer with
an error naming it, never a hang (calls are bounded by ``tool_timeout_sec``).

Each server's connection lives in its own asyncio task, entered and left there: the SDK's
transports are anyio context managers that must exit in the task that entered them, while tool
calls arrive from the session's turn task.

A stdio server's stderr is appended to ``$CODEX_HOME/log/mcp-<server>.log`` (``log_dir``) in
every face: the terminal UI has no file descriptor to lend it (``sys.stderr`` is the screen
there), and in ``codex exec`` a chatty server would bury the transcript. When a server fails,
the reason quotes the last lines it wrote there and names the file. A line on a server's stdout
that is not JSON-RPC is reported once, as one line naming the server, and logged.

Tool calls go through the session's approval policy unless the tool is annotated
``readOnlyHint: true``: a tool that may change things acts outside codex's sandbox, so it is
treated like a command that is not known to be safe (see ``mcp_call_decision``).

Example (what a face does around a session)::

    connections = await start_mcp_servers(loaded.config, cwd=loaded.cwd, log_dir=loaded.codex_home / "log")
    services.tools.extend(connections.tools)
    for message in connections.startup_messages():
        print(message, file=sys.stderr)
    ...
    await connections.aclose()
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from codex.approval.policy import Action, CommandFacts, Decision
from codex.events import BackgroundEvent, McpToolCallBegin, McpToolCallEnd, ReviewDecision
from codex.tools.base import Tool, ToolContext, ToolResult, TurnAborted
from codex.tools.mcp_tool_names import qualified_tool_names

if TYPE_CHECKING:
    import mcp_types
    from mcp.client.session import ClientSession

    from codex.approval.policy import ApprovalPolicy
    from codex.config.model import Config, McpServerConfig

CLIENT_NAME = "codex-py"
# Inline binary content larger than this is summarised for the model instead of sent as base64.
MAX_INLINE_BINARY_CHARS = 4096
# How long closing waits for one server to exit before leaving it to the SDK's kill escalation.
CLOSE_TIMEOUT_SECONDS = 8.0
# A server's log is moved aside to ``.log.1`` when it has grown past this at a server's start.
LOG_MAX_BYTES = 1024 * 1024
# How many of its last stderr lines a failure message quotes.
STDERR_TAIL_LINES = 3


class McpServerError(Exception):
    """A server could not be started or stopped answering; the message names it."""


@dataclass
class McpToolInfo:
    """One tool of one server, as offered to the model."""

    server: str
    name: str
    qualified_name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool


class McpServerConnection:
    """One configured server: a task owns the connection; calls go through ``call_tool``."""

    def __init__(self, name: str, config: McpServerConfig, cwd: Path, log_dir: Path | None = None) -> None:
        self.name = name
        self.config = config
        self.cwd = cwd
        self.log_dir = log_dir
        self.log: ServerLog | None = None
        self.log_problem: str | None = None
        self.session: ClientSession | None = None
        self.stopped_reason: str | None = None
        self._noise_reported = False
        self._stop = asyncio.Event()
        self._ready: asyncio.Future[list[mcp_types.Tool]] | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> list[mcp_types.Tool]:
        """Connect, initialise and list tools within ``startup_timeout_sec``; raise McpServerError."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._task = asyncio.create_task(self._serve(self._ready), name=f"mcp-server-{self.name}")
        timeout = self.config.startup_timeout_sec
        try:
            return await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except TimeoutError:
            self.stopped_reason = f"did not start within {timeout:g} s (startup_timeout_sec){self.stderr_hint()}"
            self._task.cancel()  # the transport kills the process while unwinding
            raise McpServerError(self.stopped_reason) from None
        except McpServerError as exc:
            self.stopped_reason = str(exc)
            raise

    async def _serve(self, ready: asyncio.Future[list[mcp_types.Tool]]) -> None:
        try:
            async with AsyncExitStack() as stack:
                session = await self._connect(stack)
                await session.initialize()
                tools = await _list_all_tools(session)
                self.session = session
                if not ready.done():
                    ready.set_result(tools)
                await self._stop.wait()
        except asyncio.CancelledError:
            ready.cancel()  # whoever waited for it has given up already
            raise
        except BaseException as exc:  # every failure becomes a report, never a crash
            reason = describe_failure(exc, self.config)
            if _process_ran(exc):
                reason += self.stderr_hint()
            if not ready.done():
                ready.set_exception(McpServerError(reason))
            else:
                self.stopped_reason = reason
        finally:
            self.session = None
            if self.stopped_reason is None and ready.done() and not self._stop.is_set():
                self.stopped_reason = "the connection ended"

    async def _connect(self, stack: AsyncExitStack) -> ClientSession:
        from mcp.client.session import ClientSession
        from mcp_types import Implementation

        from codex import __version__

        read, write = await stack.enter_async_context(self._transport(stack))
        info = Implementation(name=CLIENT_NAME, title="Codex", version=__version__)
        session = ClientSession(read, write, client_info=info, message_handler=self._on_incoming)
        return await stack.enter_async_context(session)

    def _transport(self, stack: AsyncExitStack) -> Any:
        config = self.config
        if config.url:
            return _http_transport(config)
        if not config.command:
            raise McpServerError("has neither `command` (a stdio server) nor `url` (a streamable HTTP server)")
        from mcp.client.stdio import StdioServerParameters, stdio_client

        _quiet_sdk_parse_errors()
        cwd = (self.cwd / Path(config.cwd).expanduser()) if config.cwd else self.cwd
        params = StdioServerParameters(command=config.command, args=list(config.args), env=config.env, cwd=cwd)
        # Always an explicit file: the SDK's default is whatever sys.stderr was when it was
        # imported, which in the terminal UI is the screen, a stream without a descriptor.
        errlog: TextIO
        if self.log_dir is None:
            errlog = _process_stderr(stack)
        else:
            try:
                self.log = ServerLog.open(self.log_dir, self.name, config)
            except OSError as exc:  # a read-only CODEX_HOME costs the log, not the server
                where = exc.filename or self.log_dir
                self.log_problem = f"its stderr is discarded: cannot write {where}: {exc.strerror}"
                errlog = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  (closed by the stack)
                stack.callback(errlog.close)
            else:
                stack.callback(self.log.close)
                errlog = self.log.file
        return stdio_client(params, errlog=errlog)

    def stderr_hint(self) -> str:
        """``; its stderr ended with: ... (log: PATH)`` for a failure message ("" without a log)."""
        log = self.log
        if log is None:
            return f"; {self.log_problem}" if self.log_problem else ""
        tail = log.tail(STDERR_TAIL_LINES)
        if not tail:
            return f"; it wrote nothing on stderr (log: {log.path})"
        return f"; its stderr ended with: {' | '.join(tail)} (log: {log.path})"

    async def _on_incoming(self, message: Any) -> None:
        """Transport faults arrive here: a stdout line that is not JSON-RPC is reported once."""
        if not isinstance(message, Exception):
            return
        line = _unreadable_line(message)
        if line is None:
            return
        if self.log is not None:
            self.log.note(f"[codex: this line on stdout is not JSON-RPC and was ignored] {line}")
        if self._noise_reported:
            return
        self._noise_reported = True
        excerpt = line if len(line) <= 120 else line[:117] + "..."
        where = f"; it and any more go to {self.log.path}" if self.log is not None else ""
        print(
            f"MCP server {self.name!r} wrote a line on stdout that is not JSON-RPC, ignored{where}: "
            f"{_printable(excerpt)!r} (servers must keep stdout for the protocol and log to stderr)",
            file=sys.stderr,
            flush=True,
        )

    async def aclose(self) -> None:
        """Stop the connection (the SDK closes stdin, then terminates the process group)."""
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=CLOSE_TIMEOUT_SECONDS)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=CLOSE_TIMEOUT_SECONDS)

    # ------------------------------------------------------------------ calls

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call one tool, bounded by ``tool_timeout_sec``; McpServerError says what went wrong."""
        from mcp.shared.exceptions import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        session = self.session
        if session is None:
            raise McpServerError(f"MCP server {self.name!r} is not running ({self.stopped_reason or 'stopped'})")
        timeout = self.config.tool_timeout_sec
        too_slow = f"MCP server {self.name!r} did not answer {tool!r} within {timeout:g} s (tool_timeout_sec)"
        try:
            return await asyncio.wait_for(session.call_tool(tool, arguments, read_timeout_seconds=timeout), timeout + 1)
        except TimeoutError:
            raise McpServerError(too_slow) from None
        except MCPError as exc:
            if exc.code == REQUEST_TIMEOUT:
                raise McpServerError(too_slow) from None
            if exc.code == CONNECTION_CLOSED:
                self.stopped_reason = (
                    "its connection closed during a call (the server exited or crashed)" + self.stderr_hint()
                )
                self.session = None
                self._stop.set()
                raise McpServerError(f"MCP server {self.name!r} stopped: {self.stopped_reason}") from None
            refused = f"MCP server {self.name!r} refused {tool!r}: {exc.message} (code {exc.code})"
            raise McpServerError(refused) from None
        except (RuntimeError, ValueError) as exc:
            # The SDK checks structured content against the tool's outputSchema.
            raise McpServerError(f"MCP server {self.name!r} returned an invalid result for {tool!r}: {exc}") from None


def _http_transport(config: McpServerConfig) -> Any:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    headers = dict(config.http_headers or {})
    if config.bearer_token_env_var:
        token = os.environ.get(config.bearer_token_env_var, "").strip()
        if not token:
            raise McpServerError(
                f"needs a bearer token in the environment variable {config.bearer_token_env_var}, which is not set"
            )
        headers["Authorization"] = f"Bearer {token}"
    client = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0))

    @asynccontextmanager
    async def connect() -> Any:
        async with client, streamable_http_client(str(config.url), http_client=client) as streams:
            yield streams

    return connect()


class ServerLog:
    """One stdio server's stderr: ``LOG_DIR/mcp-<server>.log``, appended to, 0600 in a 0700 folder.

    The server writes to the file directly (it is the process's stderr), so nothing of ours sits
    between it and the disk; each start is marked with a header line, and ``tail`` reads only
    what this start wrote.
    """

    def __init__(self, path: Path, file: TextIO, start: int) -> None:
        self.path = path
        self.file = file
        self.start = start

    @classmethod
    def open(cls, log_dir: Path, name: str, config: McpServerConfig) -> ServerLog:
        """Open (creating or rotating) the log of server ``name`` and write the start header."""
        from codex import __version__
        from codex.private import FILE_MODE, make_private_dirs

        make_private_dirs(log_dir)
        path = log_dir / f"mcp-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.log"
        try:
            if path.stat().st_size > LOG_MAX_BYTES:
                os.replace(path, path.with_name(path.name + ".1"))
        except FileNotFoundError:
            pass
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags, FILE_MODE)
        file = os.fdopen(fd, "a", encoding="utf-8", errors="replace", buffering=1)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        command = " ".join([config.command or "", *config.args])
        file.write(f"--- {stamp} codex-py {__version__} (pid {os.getpid()}) starts MCP server {name!r}: {command}\n")
        file.flush()
        return cls(path, file, os.fstat(fd).st_size)

    def note(self, text: str) -> None:
        """A line of ours (not the server's) in the log."""
        try:
            self.file.write(text.rstrip("\n") + "\n")
            self.file.flush()
        except (OSError, ValueError):
            pass  # a full disk or a closed log must not break the session

    def tail(self, count: int) -> list[str]:
        """The last ``count`` non-blank lines written since this start, made printable."""
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(self.start, size - 8192))
                data = handle.read()
        except OSError:
            return []
        lines = [_printable(line).strip() for line in data.decode("utf-8", "replace").splitlines()]
        lines = [line if len(line) <= 200 else line[:197] + "..." for line in lines if line]
        return lines[-count:]

    def close(self) -> None:
        """Close our handle (the server may still hold its own until it exits)."""
        self.file.close()


def _process_stderr(stack: AsyncExitStack) -> TextIO:
    """The process's own stderr (fd 2) as a file, for callers that pass no log folder."""
    try:
        file = open(os.dup(2), "w", encoding="utf-8")  # noqa: SIM115  (closed by the stack)
    except OSError:
        file = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    stack.callback(file.close)
    return file


class _SdkParseErrorFilter(logging.Filter):
    """Drops the SDK's traceback for a server's non-JSON stdout line; codex reports it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Failed to parse JSONRPC message from server"


def _quiet_sdk_parse_errors() -> None:
    logger = logging.getLogger("mcp.client.stdio")
    if not any(isinstance(existing, _SdkParseErrorFilter) for existing in logger.filters):
        logger.addFilter(_SdkParseErrorFilter())


def _unreadable_line(exc: Exception) -> str | None:
    """The stdout line behind the SDK's parse error, or None for other transport faults."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return None
    for problem in exc.errors():
        value = problem.get("input")
        if isinstance(value, str):
            return value.rstrip("\r\n")
        if value is not None:
            return json.dumps(value, ensure_ascii=False, default=str)
    return str(exc).splitlines()[0]


def _process_ran(exc: BaseException) -> bool:
    """False when the failure came before the server's process could run (so its log is empty)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return not isinstance(exc, FileNotFoundError | PermissionError | McpServerError)


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())


async def _list_all_tools(session: ClientSession) -> list[mcp_types.Tool]:
    from mcp_types import PaginatedRequestParams

    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(1000):  # a server that pages forever is cut off, not followed
        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def describe_failure(exc: BaseException, config: McpServerConfig) -> str:
    """A one-line reason for a failed connection, from the innermost meaningful exception."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, McpServerError):
        return str(exc)
    if isinstance(exc, FileNotFoundError) and config.command:
        return f"command {config.command!r} was not found; check `command` (and PATH)"
    if isinstance(exc, PermissionError) and config.command:
        return f"command {config.command!r} cannot be executed: {exc.strerror}"
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        from mcp_types import CONNECTION_CLOSED

        if exc.code == CONNECTION_CLOSED:
            return "the server closed the connection while starting (its process exited)"
        return f"the server answered with an error: {exc.message} (code {exc.code})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# ---------------------------------------------------------------------------- the connections


@dataclass
class McpConnections:
    """All servers of one session: the tools they offer, what failed, and how to stop them."""

    servers: dict[str, McpServerConnection] = field(default_factory=dict)
    tools: list[Tool] = field(default_factory=list)
    infos: list[McpToolInfo] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    def startup_messages(self) -> list[str]:
        """One line per server that was left out, for the person (stderr or a background event)."""
        return [
            f"MCP server {name!r} was left out: {reason}. Its tools are not available in this session."
            for name, reason in sorted(self.failures.items())
        ]

    async def aclose(self) -> None:
        """Stop every server (concurrently)."""
        await asyncio.gather(*(server.aclose() for server in self.servers.values()), return_exceptions=True)


async def start_mcp_servers(config: Config, *, cwd: Path, log_dir: Path | None = None) -> McpConnections:
    """Connect to every ``[mcp_servers.<name>]`` concurrently and wrap their tools.

    ``log_dir`` (faces pass ``$CODEX_HOME/log``) receives each stdio server's stderr as
    ``mcp-<name>.log``; without it the servers share this process's stderr.
    Never raises for a server's failure: it is recorded in ``failures`` instead.
    """
    connections = McpConnections()
    for name, server_config in config.mcp_servers.items():
        if server_config.enabled:  # enabled = false (the Rust CLI's switch) keeps it configured, not started
            connections.servers[name] = McpServerConnection(name, server_config, cwd, log_dir)
    if not connections.servers:
        return connections
    names = list(connections.servers)
    outcomes = await asyncio.gather(*(connections.servers[n].start() for n in names), return_exceptions=True)
    listed: dict[str, list[mcp_types.Tool]] = {}
    for name, outcome in zip(names, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            connections.failures[name] = str(outcome) if isinstance(outcome, McpServerError) else repr(outcome)
        else:
            listed[name] = outcome
    qualified = qualified_tool_names((server, tool.name) for server, tools in listed.items() for tool in tools)
    for server, tools in listed.items():
        for tool in tools:
            info = McpToolInfo(
                server=server,
                name=tool.name,
                qualified_name=qualified[(server, tool.name)],
                description=tool.description or tool.title or f"Tool {tool.name} of the MCP server {server}.",
                input_schema=_object_schema(tool.input_schema),
                read_only=bool(tool.annotations and tool.annotations.read_only_hint),
            )
            connections.infos.append(info)
            connections.tools.append(make_tool(connections.servers[server], info))
    return connections


def _object_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Model APIs insist on an object schema with ``properties``; servers sometimes omit it."""
    result = dict(schema or {})
    result["type"] = "object"
    if not isinstance(result.get("properties"), dict):
        result["properties"] = {}
    return result


# ---------------------------------------------------------------------------- one tool call


def mcp_call_decision(policy: ApprovalPolicy, info: McpToolInfo, sandbox_mode: str) -> Decision:
    """Run, ask or reject a call of a tool that is not annotated read-only.

    The tool runs in the server's process, outside codex's sandbox, so the policy is asked as
    for a command that is not known to be safe, where "a sandbox is available" means the
    person allowed writes at all (``sandbox_mode`` is not read-only). Under the built-ins:
    untrusted asks; on-request and on-failure ask only under read-only; never rejects under
    read-only and runs otherwise.
    """
    reason = f"the MCP tool {info.server}.{info.name} is not marked read-only, so it may change things"
    facts = CommandFacts(
        trust=(False, reason),
        sandbox_mode=sandbox_mode,
        sandbox_available=sandbox_mode != "read-only",
    )
    decision = policy.decide_command(facts)
    if decision.action is Action.ASK:
        return Decision(Action.ASK, reason)
    if decision.action is Action.REJECT:
        return Decision(
            Action.REJECT,
            f"{reason}, and approval_policy = {policy.name} does not ask under sandbox_mode = {sandbox_mode}",
        )
    return decision


def make_tool(connection: McpServerConnection, info: McpToolInfo) -> Tool:
    """The codex Tool that calls ``info`` on ``connection``."""

    async def handler(arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        refusal = await _approve(info, arguments, ctx)
        if refusal is not None:
            return refusal
        ctx.emit(McpToolCallBegin(ctx.call_id, info.server, info.name, arguments))
        started = time.monotonic()

        def end(success: bool, result: Any) -> None:
            elapsed = round(time.monotonic() - started, 3)
            ctx.emit(McpToolCallEnd(ctx.call_id, info.server, info.name, success, result, elapsed))

        try:
            result = await connection.call_tool(info.name, arguments)
        except McpServerError as exc:
            end(False, {"error": str(exc)})
            if connection.session is None:
                ctx.emit(BackgroundEvent(str(exc)))
            return ToolResult(f"error: {exc}", False)
        except asyncio.CancelledError:
            end(False, {"error": "interrupted"})
            raise
        wire = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        end(not result.is_error, wire)
        return ToolResult(result_for_model(wire), not result.is_error)

    # The server's inputSchema is the tool's parameters: codex checks calls against it like
    # any tool's before they reach the server.
    return Tool(
        info.qualified_name,
        info.description,
        info.input_schema,
        handler,
        read_only=info.read_only,
        reports_own_items=True,
    )


async def _approve(info: McpToolInfo, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult | None:
    if info.read_only or ("mcp", info.server, info.name) in ctx.approved_commands:
        return None
    decision = mcp_call_decision(ctx.approval_policy, info, ctx.sandbox_policy.mode.value)
    if decision.action is Action.REJECT:
        return ToolResult(f"error: tool not called: {decision.reason}", False)
    if decision.action is not Action.ASK:
        return None
    shown = json.dumps(arguments, ensure_ascii=False, sort_keys=True)
    answer = await ctx.ask_exec_approval([f"{info.server}.{info.name}", shown], ctx.cwd, decision.reason)
    if answer.decision is ReviewDecision.ABORT:
        raise TurnAborted("the user aborted the turn")
    if answer.decision is ReviewDecision.DENIED:
        feedback = f" The user said: {answer.feedback}" if answer.feedback else ""
        return ToolResult(f"error: the user denied this call of {info.server}.{info.name}.{feedback}", False)
    if answer.decision is ReviewDecision.APPROVED_FOR_SESSION:
        ctx.approved_commands.add(("mcp", info.server, info.name))
    return None


def result_for_model(wire: Mapping[str, Any]) -> str:
    """The call's output as the model reads it.

    Plain text results stay plain text; anything richer (images, audio, resources, structured
    content) is sent as the result's JSON, as the peer does, with large binary data summarised.
    """
    content = wire.get("content") or []
    structured = wire.get("structuredContent")
    if structured is None and all(isinstance(b, dict) and b.get("type") == "text" for b in content):
        return "\n".join(str(b.get("text", "")) for b in content)
    compact: dict[str, Any] = {"content": [_compact_block(b) for b in content]}
    if structured is not None:
        compact["structuredContent"] = structured
    if wire.get("isError"):
        compact["isError"] = True
    return json.dumps(compact, ensure_ascii=False)


def _compact_block(block: Any) -> Any:
    if not isinstance(block, dict):
        return block
    data = block.get("data")
    if isinstance(data, str) and len(data) > MAX_INLINE_BINARY_CHARS:
        trimmed = {k: v for k, v in block.items() if k != "data"}
        trimmed["data"] = f"<{len(data) * 3 // 4} bytes of {block.get('mimeType', 'binary data')} not shown>"
        return trimmed
    return block
