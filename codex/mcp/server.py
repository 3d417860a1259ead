"""``codex mcp``: codex as an MCP server over stdio, built on the official ``mcp`` SDK.

Each ``codex`` tool call opens its own session (several may run at once); ``codex-reply``
continues one, from memory or, after a restart, from its rollout file. While a call runs, every
session event goes to the client once as a ``codex/event`` notification (the peer's shape) and,
when the client asked for progress, as ``notifications/progress`` too. Approvals become
``elicitation/create`` requests; a client that cannot answer (no elicitation capability, an
error, no answer within ``approval.elicitation_timeout_sec``) is taken as a denial, never a
hang. ``notifications/cancelled`` interrupts the call's turn; the session stays usable.

The connection speaks the initialize handshake (protocol versions 2024-11-05 to 2025-11-25, as
the SDK negotiates them): it is the era in which a server may send requests, which elicitation
needs. Malformed lines get JSON-RPC parse or invalid-request errors, and so does a request whose
id JSON-RPC forbids (null, a float, a boolean, an object or array), which the SDK would take for
a notification and leave unanswered; nothing a client sends stops the server.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from codex import events as ev
from codex.errors import CodexError
from codex.mcp.elicitation import decision_from_answer, exec_elicitation, patch_elicitation
from codex.mcp.server_tools import (
    CODEX_DESCRIPTION,
    CODEX_INPUT_SCHEMA,
    CODEX_REPLY_DESCRIPTION,
    CODEX_REPLY_INPUT_SCHEMA,
    CODEX_REPLY_TOOL,
    CODEX_TOOL,
    OUTPUT_SCHEMA,
    ArgumentError,
    CodexReplyArgs,
    CodexToolArgs,
    ServerSettings,
    call_config_warnings,
    config_for_call,
    parse_args,
)

if TYPE_CHECKING:
    import mcp_types
    from mcp.server.connection import Connection
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel.server import Server
    from mcp.shared.message import SessionMessage

    from codex.config.loader import LoadedConfig
    from codex.plugins import CodexPluginManager
    from codex.session import Session

SERVER_NAME = "codex-mcp-server"
SERVER_TITLE = "Codex"
# Idle sessions kept in memory; older ones are closed and resumed from disk if replied to.
MAX_IDLE_SESSIONS = 16
# Events worth a progress notification (deltas and token counts would only be noise).
_PROGRESS_EVENTS = {
    "task_started", "agent_message", "agent_reasoning", "exec_command_begin", "exec_command_end",
    "exec_approval_request", "apply_patch_approval_request", "patch_apply_begin", "patch_apply_end",
    "plan_update", "mcp_tool_call_begin", "mcp_tool_call_end", "tool_call_begin", "tool_call_end",
    "background_event", "stream_error",
    "error", "task_complete", "turn_aborted", "context_compacted",
}


@dataclass
class _Entry:
    """A session the server holds, and whether a call is driving it right now."""

    session: Session
    busy: bool = False


class CodexMcpServer:
    """The server's state: the sessions it opened and the client connection it serves.

    Example::

        server = CodexMcpServer(pm, ServerSettings(cwd=Path.cwd()))
        await server.serve_stdio()
    """

    def __init__(self, pm: CodexPluginManager, settings: ServerSettings) -> None:
        self.pm = pm
        self.settings = settings
        self.sessions: OrderedDict[str, _Entry] = OrderedDict()
        self.connection: Connection | None = None
        self._closing: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ serving

    def build(self) -> Server[Any]:
        """The SDK's low-level server with codex's handlers."""
        from mcp.server.lowlevel.server import Server

        from codex import __version__

        return Server(
            SERVER_NAME,
            version=__version__,
            title=SERVER_TITLE,
            instructions="Call `codex` with a prompt to start a session; `codex-reply` continues it.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    async def serve_stdio(self) -> None:
        """Serve one client over the process's stdin/stdout until it goes away, then close every
        session (fd 0 reads /dev/null and fd 1 points at stderr meanwhile, so neither a command
        nor a stray print by a plugin can touch the protocol stream)."""
        import anyio
        from mcp.server.stdio import stdio_server

        with _claimed_stdin() as stdin:
            guard = RequestIdGuard(anyio.wrap_file(stdin))
            # stdio_server only iterates the lines of the stdin it is given.
            async with stdio_server(stdin=cast("anyio.AsyncFile[str]", guard)) as (read_stream, write_stream):
                guard.reply = write_stream.send
                await self._serve(read_stream, write_stream)

    async def _serve(self, read_stream: Any, write_stream: Any) -> None:
        # The stream types are the SDK's private protocols, so they stay unnamed here.
        from mcp.server.connection import Connection
        from mcp.server.runner import serve_connection
        from mcp.shared.jsonrpc_dispatcher import JSONRPCDispatcher

        async def reject(exc: Exception) -> None:
            await write_stream.send(unreadable_message_error(exc))

        dispatcher: JSONRPCDispatcher[Any] = JSONRPCDispatcher(
            read_stream,
            write_stream,
            # initialize runs before the next message is read, so a pipelined request sees it.
            inline_methods=frozenset({"initialize"}),
            on_stream_exception=reject,
        )
        self.connection = Connection.for_loop(dispatcher)
        server = self.build()
        try:
            await serve_connection(
                server,
                dispatcher,
                connection=self.connection,
                lifespan_state={},
                init_options=server.create_initialization_options(),
            )
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close every session the server still holds."""
        entries = list(self.sessions.values())
        self.sessions.clear()
        await asyncio.gather(*(entry.session.close() for entry in entries), return_exceptions=True)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # ------------------------------------------------------------------ handlers

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        import mcp_types as types

        annotations = types.ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True)
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=CODEX_TOOL,
                    title="Codex",
                    description=CODEX_DESCRIPTION,
                    input_schema=CODEX_INPUT_SCHEMA,
                    output_schema=OUTPUT_SCHEMA,
                    annotations=annotations,
                ),
                types.Tool(
                    name=CODEX_REPLY_TOOL,
                    title="Codex reply",
                    description=CODEX_REPLY_DESCRIPTION,
                    input_schema=CODEX_REPLY_INPUT_SCHEMA,
                    output_schema=OUTPUT_SCHEMA,
                    annotations=annotations,
                ),
            ]
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        from mcp.shared.exceptions import MCPError
        from mcp_types import INVALID_PARAMS

        if params.name not in (CODEX_TOOL, CODEX_REPLY_TOOL):
            raise MCPError(
                INVALID_PARAMS, f"unknown tool {params.name!r}; this server offers {CODEX_TOOL} and {CODEX_REPLY_TOOL}"
            )
        try:
            if params.name == CODEX_TOOL:
                return await self._codex(ctx, params.arguments or {})
            return await self._codex_reply(ctx, params.arguments or {})
        except (ArgumentError, CodexError) as exc:
            return tool_error(str(exc))
        except Exception as exc:  # a bug must cost one call, not the server
            import traceback

            traceback.print_exc(file=sys.stderr)
            return tool_error(f"internal error in codex ({type(exc).__name__}: {exc}); see the server's stderr")

    async def _codex(self, ctx: ServerRequestContext[Any], arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        args = parse_args(CodexToolArgs, CODEX_TOOL, arguments)
        loaded = await asyncio.to_thread(config_for_call, self.settings, args)
        warnings = call_config_warnings(args)
        session = await self._open(loaded, None)
        entry = self._register(session)
        return with_warnings(await self._drive(ctx, entry, args.prompt, warnings), warnings)

    async def _codex_reply(
        self, ctx: ServerRequestContext[Any], arguments: dict[str, Any]
    ) -> mcp_types.CallToolResult:
        args = parse_args(CodexReplyArgs, CODEX_REPLY_TOOL, arguments)
        try:
            session_id = args.target()
        except ValueError as exc:
            raise ArgumentError(f"invalid arguments for {CODEX_REPLY_TOOL}: {exc}") from None
        entry = self.sessions.get(session_id)
        if entry is None:
            entry = self._register(await self._resume(session_id))
        else:
            self.sessions.move_to_end(session_id)
        return await self._drive(ctx, entry, args.prompt, compact=args.compact)

    # ------------------------------------------------------------------ sessions

    async def _open(self, loaded: LoadedConfig, resume: Path | None) -> Session:
        from codex.engine import open_session, prepare_provider
        from codex.ui import StderrUI

        await asyncio.to_thread(prepare_provider, self.pm, loaded, StderrUI(interactive=False))
        return await open_session(self.pm, loaded, resume=resume)

    async def _resume(self, session_id: str) -> Session:
        """Reopen a recorded session; the id must name exactly one rollout file."""
        from codex.config.loader import codex_home
        from codex.rollout import find_session, read_session

        home = self.settings.home or codex_home()
        try:
            path = find_session(home, session_id)
            saved = read_session(path)
        except CodexError:
            raise CodexError(
                f"no session {session_id!r}: it is not running in this server and no recording of it "
                f"exists under {home / 'sessions'}; start one with the `codex` tool"
            ) from None
        if saved.session_id != session_id:
            raise CodexError(f"no session {session_id!r}; pass the full threadId a `codex` call returned")
        recorded_cwd = Path(str(saved.meta.get("cwd", "")))
        cwd = recorded_cwd if saved.meta.get("cwd") and recorded_cwd.is_dir() else None
        loaded = await asyncio.to_thread(config_for_call, self.settings, None, cwd=cwd)
        return await self._open(loaded, path)

    def _register(self, session: Session) -> _Entry:
        entry = _Entry(session)
        self.sessions[session.session_id] = entry
        idle = [sid for sid, e in self.sessions.items() if not e.busy and e is not entry]
        for sid in idle[: max(0, len(self.sessions) - MAX_IDLE_SESSIONS)]:
            old = self.sessions.pop(sid)
            task = asyncio.create_task(old.session.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return entry

    # ------------------------------------------------------------------ one turn

    async def _drive(
        self,
        ctx: ServerRequestContext[Any],
        entry: _Entry,
        prompt: str,
        warnings: Sequence[str] = (),
        *,
        compact: bool = False,
    ) -> mcp_types.CallToolResult:
        """Run one turn of ``entry``'s session for this call (after a compaction when asked),
        forwarding its events (``warnings`` first, as ``background_event``s, where the CLI would
        print them before the session)."""
        session = entry.session
        if entry.busy:
            return tool_error(
                f"session {session.session_id} is already running a turn for another call; wait for that "
                "call's result (or cancel it) and reply again"
            )
        entry.busy = True
        progress = _Progress(ctx)
        try:
            for warning in warnings:
                await self._forward(ctx, ev.Event("0", ev.BackgroundEvent(f"warning: {warning}")), progress)
            if compact:
                compact_id = session.submit(ev.Compact())
                while True:
                    event = await session.next_event()
                    if event.id not in (compact_id, "0"):
                        continue
                    await self._forward(ctx, event, progress)
                    if isinstance(event.msg, ev.Error):
                        return tool_error(event.msg.message, session.session_id)
                    if isinstance(event.msg, ev.TaskComplete | ev.TurnAborted):
                        break
            sub_id = session.submit(ev.UserInput(prompt))
            while True:
                event = await session.next_event()
                if event.id not in (sub_id, "0"):
                    continue  # the tail of a turn an earlier, cancelled call left behind
                await self._forward(ctx, event, progress)
                msg = event.msg
                if isinstance(msg, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
                    decision, feedback = await self._ask(ctx, event, session)
                    session.submit(ev.ApprovalAnswer(msg.request_id, decision, feedback))
                elif isinstance(msg, ev.TaskComplete):
                    return tool_success(session.session_id, msg.last_agent_message or "")
                elif isinstance(msg, ev.Error):
                    return tool_error(msg.message, session.session_id)
                elif isinstance(msg, ev.TurnAborted):
                    why = "the user chose to stop it" if msg.reason == "aborted" else "it was interrupted"
                    return tool_error(f"the turn was aborted: {why}", session.session_id)
        except BaseException:
            # notifications/cancelled (or shutdown) cancels this call: stop the turn with it.
            session.submit(ev.Interrupt())
            raise
        finally:
            entry.busy = False

    async def _forward(self, ctx: ServerRequestContext[Any], event: ev.Event, progress: _Progress) -> None:
        msg = jsonable(ev.event_to_dict(event)["msg"])
        params = {"_meta": {"requestId": ctx.request_id}, "id": event.id, "msg": msg}
        if self.connection is not None:
            await self.connection.notify("codex/event", params)
        if msg.get("type") in _PROGRESS_EVENTS:
            await progress.step(describe_event(msg))

    async def _ask(
        self, ctx: ServerRequestContext[Any], event: ev.Event, session: Session
    ) -> tuple[ev.ReviewDecision, str | None]:
        """Ask the client through elicitation; anything but a readable answer is a denial."""
        import anyio
        from mcp.shared.exceptions import MCPError, NoBackChannelError

        connection = self.connection
        capabilities = connection.client_capabilities if connection is not None else None
        if connection is None or capabilities is None or capabilities.elicitation is None:
            return ev.ReviewDecision.DENIED, "the MCP client cannot answer approval requests (no elicitation support)"
        msg = event.msg
        call_id = ctx.request_id if ctx.request_id is not None else ""
        if isinstance(msg, ev.ExecApprovalRequest):
            params = exec_elicitation(msg, tool_call_id=call_id, event_id=event.id)
        elif isinstance(msg, ev.PatchApprovalRequest):
            params = patch_elicitation(msg, tool_call_id=call_id, event_id=event.id)
        else:
            return ev.ReviewDecision.DENIED, None
        timeout = session.config.approval.elicitation_timeout_sec
        try:
            with anyio.fail_after(timeout):
                answer = await connection.send_raw_request("elicitation/create", params)
        except TimeoutError:
            return ev.ReviewDecision.DENIED, f"nobody answered the approval request within {timeout:g} s"
        except MCPError as exc:
            return ev.ReviewDecision.DENIED, f"the MCP client could not ask for approval: {exc.message}"
        except NoBackChannelError:
            return ev.ReviewDecision.DENIED, "the MCP connection cannot carry approval requests"
        return decision_from_answer(answer)


class _Progress:
    """``notifications/progress`` for one call (a no-op when the client sent no progress token)."""

    def __init__(self, ctx: ServerRequestContext[Any]) -> None:
        self.ctx = ctx
        self.count = 0

    async def step(self, message: str) -> None:
        self.count += 1
        await self.ctx.session.report_progress(float(self.count), None, message)


def tool_success(thread_id: str, text: str) -> mcp_types.CallToolResult:
    """The final message as text content, and ``{threadId, content}`` as structured content."""
    import mcp_types as types

    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content={"threadId": thread_id, "content": text},
    )


def tool_error(text: str, thread_id: str | None = None) -> mcp_types.CallToolResult:
    """A failed call: ``isError`` with the reason (and the session id when there is one)."""
    import mcp_types as types

    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content={"threadId": thread_id, "content": text} if thread_id else None,
        is_error=True,
    )


def with_warnings(result: mcp_types.CallToolResult, warnings: Sequence[str]) -> mcp_types.CallToolResult:
    """``result`` with one more text block per warning, after the answer (which stays first)."""
    import mcp_types as types

    for warning in warnings:
        result.content.append(types.TextContent(type="text", text=f"warning: {warning}"))
    return result


def jsonable(value: Any) -> Any:
    """Plain JSON data (paths, enums and other odd leaves become strings)."""
    return json.loads(json.dumps(value, default=str))


def describe_event(msg: dict[str, Any]) -> str:
    """A one-line progress message for an event."""
    kind = str(msg.get("type"))
    if kind in ("exec_command_begin", "exec_approval_request"):
        command = " ".join(str(word) for word in msg.get("command") or [])
        prefix = "running" if kind == "exec_command_begin" else "waiting for approval to run"
        return f"{prefix}: {command}"
    if kind == "exec_command_end":
        return f"command exited with {msg.get('exit_code')}"
    if kind == "agent_message":
        text = str(msg.get("message") or "")
        return text if len(text) <= 200 else text[:197] + "..."
    if kind in ("error", "stream_error", "background_event"):
        return str(msg.get("message") or kind)
    if kind in ("mcp_tool_call_begin", "mcp_tool_call_end"):
        return f"{kind.replace('_', ' ')}: {msg.get('server')}.{msg.get('tool')}"
    if kind in ("tool_call_begin", "tool_call_end"):
        return f"{kind.replace('_', ' ')}: {msg.get('tool')}"
    if kind == "context_compacted":
        before, after = msg.get("tokens_before"), msg.get("tokens_after")
        return f"context compacted ({msg.get('reason')}): {before} -> {after} tokens"
    return kind.replace("_", " ")


def unreadable_message_error(exc: Exception) -> SessionMessage:
    """The JSON-RPC error for a line that is not JSON (-32700) or not a JSON-RPC message (-32600)."""
    from mcp.shared.message import SessionMessage
    from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
    from pydantic import ValidationError

    request_id: Any = None
    code, message = INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 request, notification or response"
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            code, message = PARSE_ERROR, "Parse error: the line is not valid JSON"
        for problem in errors:
            candidate = problem.get("input")
            if not isinstance(candidate, dict):
                continue
            found = candidate.get("id")
            if isinstance(found, str | int) and not isinstance(found, bool):
                request_id = found
                break
    reply = JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))
    return SessionMessage(message=reply)


def request_id_problem(line: str) -> str | None:
    """What is wrong with the id of a request line, or None (fine, not a request, or not JSON).

    JSON-RPC ids are strings or integers; the SDK reads a request with any other id as a
    notification, which gets no answer, so the client would wait forever.
    """
    if '"id"' not in line or '"method"' not in line:
        return None  # the common case costs a substring search, not a second parse
    try:
        message = json.loads(line)
    except ValueError:
        return None  # the SDK answers -32700 itself
    if not isinstance(message, dict) or "method" not in message or "id" not in message:
        return None
    if str(message["method"]).startswith("notifications/"):
        return None  # a notification that carries an id anyway is still plainly a notification
    value = message["id"]
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return None
    kinds = {bool: "a boolean", float: "a float", dict: "an object", list: "an array", type(None): "null"}
    return f"the id must be a string or an integer, not {kinds.get(type(value), type(value).__name__)}"


def invalid_request_id_error(problem: str) -> SessionMessage:
    """``-32600 Invalid Request`` with ``id: null`` (the request's own id cannot be echoed)."""
    from mcp.shared.message import SessionMessage
    from mcp_types import INVALID_REQUEST, ErrorData, JSONRPCError

    error = ErrorData(code=INVALID_REQUEST, message=f"Invalid Request: {problem}")
    return SessionMessage(message=JSONRPCError(jsonrpc="2.0", id=None, error=error))


class RequestIdGuard:
    """The lines of stdin for the SDK's transport, minus requests whose id JSON-RPC forbids.

    Those are answered here, through ``reply`` (the transport's write stream), and not passed on.
    """

    def __init__(self, lines: AsyncIterable[str]) -> None:
        self.lines = lines
        self.reply: Callable[[SessionMessage], Awaitable[None]] | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._guarded()

    async def _guarded(self) -> AsyncIterator[str]:
        import anyio

        async for line in self.lines:
            problem = request_id_problem(line)
            if problem is None or self.reply is None:
                yield line
                continue
            try:
                await self.reply(invalid_request_id_error(problem))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return  # the connection is closing


class _UnownedText(io.TextIOWrapper):
    """A text layer over a buffer that is not ours: closing it leaves ``sys.stdin`` usable."""

    def close(self) -> None:
        try:
            self.detach()
        except ValueError:
            pass


@contextmanager
def _claimed_stdin() -> Iterator[TextIO]:
    """stdin for the protocol alone: read through a private descriptor while fd 0 is /dev/null.

    (What the SDK does when it opens stdin itself; a transport given its stdin skips that.)
    Where descriptors cannot be moved, ``sys.stdin`` is read in place.
    """
    try:
        import fcntl

        private = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    except (ImportError, OSError):
        yield _UnownedText(sys.stdin.buffer, encoding="utf-8", errors="replace")
        return
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        try:
            os.dup2(devnull, 0)
        finally:
            os.close(devnull)
    except OSError:
        pass  # fd 0 stays the wire; commands start with their own stdin anyway
    # closefd=False: the reading thread may still block on it after the server is done.
    binary = os.fdopen(private, "rb", buffering=0, closefd=False)
    try:
        yield io.TextIOWrapper(io.BufferedReader(binary), encoding="utf-8", errors="replace")
    finally:
        try:
            os.dup2(private, 0)
        except OSError:
            pass


async def run_stdio_server(pm: CodexPluginManager, settings: ServerSettings) -> None:
    """Entry point of ``codex mcp``: serve stdin/stdout until the client closes it."""
    await CodexMcpServer(pm, settings).serve_stdio()
