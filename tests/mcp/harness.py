"""Drivers for `codex mcp` in tests: the official SDK client, and a raw JSON-RPC line client.

``SdkClient`` runs ``mcp.client.session.ClientSession`` against a ``codex mcp`` subprocess on an
event loop in a background thread, so plain (sync) tests can call tools, answer elicitations and
read the ``codex/event`` notifications::

    with SdkClient(home, cwd) as client:
        result = client.call("codex", {"prompt": "hi"})

``RawClient`` writes JSON-RPC lines itself: for malformed input, the peer's answer shape, and
the ``codex_*`` elicitation fields the SDK's typed models drop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import mcp_types as types
from pydantic import BaseModel, ConfigDict

WAIT = 60.0  # upper bound for anything a test waits for

CODEX_MCP = [sys.executable, "-m", "codex", "mcp"]


def config_toml(base_url: str, extra: str = "") -> str:
    """A config.toml using the mock model server over Chat Completions, without retries."""
    return (
        'model = "mock-model"\n'
        'model_provider = "mock"\n'
        f"{extra}"
        "[model_providers.mock]\n"
        'name = "Mock"\n'
        f'base_url = "{base_url}"\n'
        'wire_api = "chat"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n"
    )


def server_env(home: Path) -> dict[str, str]:
    """The environment of a `codex mcp` subprocess: a private CODEX_HOME, no plugin selection."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_")}
    env["CODEX_HOME"] = str(home)
    return env


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``predicate`` (bounded); fail with ``what`` when it never holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class _EventParams(BaseModel):
    model_config = ConfigDict(extra="allow")


Answer = Callable[[types.ElicitRequestParams], Awaitable[types.ElicitResult | types.ErrorData]]


async def approve(params: types.ElicitRequestParams) -> types.ElicitResult:
    """The default elicitation answer: the standard accept with an explicit decision."""
    return types.ElicitResult(action="accept", content={"decision": "approved"})


class SdkClient:
    """An SDK ``ClientSession`` connected to ``codex mcp`` (see the module docstring)."""

    def __init__(
        self, home: Path, cwd: Path, *, elicitation: bool = True, args: tuple[str, ...] = ()
    ) -> None:
        self.home = home
        self.cwd = cwd
        self.elicitation = elicitation
        self.args = args
        self.answer: Answer = approve
        self.asked: list[types.ElicitRequestParams] = []
        self.events: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="mcp-test-client", daemon=True)
        self._stop: asyncio.Event | None = None
        self._main: concurrent.futures.Future[None] | None = None
        self._ready = threading.Event()
        self.session: Any = None
        self.initialize_result: types.InitializeResult | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SdkClient:
        self._thread.start()
        self._main = asyncio.run_coroutine_threadsafe(self._run(), self.loop)
        deadline = time.monotonic() + WAIT
        while not self._ready.wait(0.05):
            if self._main.done():
                self._main.result()  # raises the connection failure
            if time.monotonic() > deadline:
                raise AssertionError("codex mcp did not initialize in time")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close stdin of the server (it exits) and stop the loop."""
        if self._stop is not None and self._main is not None and not self._main.done():
            self.loop.call_soon_threadsafe(self._stop.set)
            try:
                self._main.result(WAIT)
            except Exception:
                pass
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(WAIT)

    async def _run(self) -> None:
        from mcp.client.extension import NotificationBinding
        from mcp.client.session import ClientSession
        from mcp.client.stdio import StdioServerParameters, stdio_client

        self._stop = asyncio.Event()
        params = StdioServerParameters(
            command=CODEX_MCP[0], args=[*CODEX_MCP[1:], *self.args], env=server_env(self.home), cwd=self.cwd
        )
        binding = NotificationBinding(method="codex/event", params_type=_EventParams, handler=self._on_event)
        async with stdio_client(params) as (read, write):
            callback = self._on_elicit if self.elicitation else None
            async with ClientSession(
                read, write, elicitation_callback=callback, notification_bindings=[binding]
            ) as session:
                self.initialize_result = await session.initialize()
                self.session = session
                self._ready.set()
                await self._stop.wait()

    async def _on_event(self, params: _EventParams) -> None:
        self.events.append(params.model_dump())

    async def _on_elicit(self, context: Any, params: types.ElicitRequestParams) -> Any:
        self.asked.append(params)
        return await self.answer(params)

    # ------------------------------------------------------------------ calls

    def run(self, coro: Awaitable[Any], timeout: float = WAIT) -> Any:
        """Run a coroutine on the client's loop and wait for its result (bounded)."""

        async def wrapper() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def call(self, tool: str, arguments: dict[str, Any], timeout: float = WAIT) -> types.CallToolResult:
        """Call a tool and wait for its result."""
        result: types.CallToolResult = self.run(
            self.session.call_tool(tool, arguments, read_timeout_seconds=timeout), timeout + 5
        )
        return result

    def start(self, tool: str, arguments: dict[str, Any], **options: Any) -> RunningCall:
        """Start a call without waiting; the handle can wait for it or cancel it."""

        async def create() -> asyncio.Task[Any]:
            return asyncio.ensure_future(self.session.call_tool(tool, arguments, **options))

        task: asyncio.Task[Any] = self.run(create())
        return RunningCall(self, task)

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        """The ``msg`` of every ``codex/event`` notification of this type received so far."""
        return [e["msg"] for e in list(self.events) if e.get("msg", {}).get("type") == kind]


class RunningCall:
    """A tool call in flight on an SdkClient."""

    def __init__(self, client: SdkClient, task: asyncio.Task[Any]) -> None:
        self.client = client
        self.task = task

    def result(self, timeout: float = WAIT) -> types.CallToolResult:
        async def wait() -> Any:
            return await asyncio.wait_for(asyncio.shield(self.task), timeout)

        outcome: types.CallToolResult = self.client.run(wait(), timeout + 5)
        return outcome

    def cancel(self) -> None:
        """Cancel the call; the SDK tells the server with notifications/cancelled."""

        async def cancel() -> None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

        self.client.run(cancel())


def text_of(result: types.CallToolResult) -> str:
    """The text content of a tool result."""
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


# ---------------------------------------------------------------------------- the raw client


class RawClient:
    """JSON-RPC lines to and from a ``codex mcp`` subprocess, nothing interpreted for us.

    ``on_request`` answers server-to-client requests (elicitation): it gets the request dict and
    returns the ``result`` to send.
    """

    def __init__(self, home: Path, cwd: Path) -> None:
        self.process = subprocess.Popen(
            CODEX_MCP,
            cwd=cwd,
            env=server_env(home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.on_request: Callable[[dict[str, Any]], dict[str, Any]] = lambda request: {}
        self.stderr: list[str] = []
        self._next_id = 100
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            if "method" in message and "id" in message:
                self.server_requests.append(message)
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": self.on_request(message)})
            elif "method" in message:
                self.notifications.append(message)
            else:
                self.messages.put(message)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def send(self, message: dict[str, Any] | str) -> None:
        """Write one line (a dict is JSON-encoded; a string is sent as is)."""
        assert self.process.stdin is not None
        line = message if isinstance(message, str) else json.dumps(message)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def response(self, request_id: Any = ..., timeout: float = WAIT) -> dict[str, Any]:
        """The next response (or error) from the server; with ``request_id``, the one for it."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no response for {request_id!r}; stderr: {''.join(self.stderr)[-2000:]}")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if request_id is ... or message.get("id") == request_id:
                return message

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = WAIT) -> dict[str, Any]:
        """Send a request and wait for its response."""
        self._next_id += 1
        request_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.response(request_id, timeout)

    def initialize(self, version: str = "2025-06-18", elicitation: bool = True) -> dict[str, Any]:
        """The handshake; returns the initialize response."""
        capabilities: dict[str, Any] = {"elicitation": {}} if elicitation else {}
        reply = self.request(
            "initialize",
            {"protocolVersion": version, "capabilities": capabilities, "clientInfo": {"name": "raw", "version": "0"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply

    def close(self) -> None:
        """Close stdin and wait for the server to exit (killed if it does not)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(WAIT)

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
