"""A small MCP server written with the official SDK, for the client tests.

Run as ``python fake_server.py [--hang-at-startup | --crash-at-startup | --stdout-noise] [--http PORT]``.
It says on stderr that it started and when ``echo`` is called (lines starting ``fake server:``);
``--stdout-noise`` makes it misbehave by printing a banner on stdout, the protocol channel.
Tools: ``echo`` (read-only), ``add`` (structured output), ``write_note`` (writes a file, not
read-only), ``picture`` (an image), ``fail`` (an error result), ``slow`` (sleeps), ``crash``
(the process exits mid-call) and, over HTTP, ``whoami`` (echoes the Authorization and X-Team headers).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import Server

# A 1x1 transparent PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYGD4DwABBAEAghLa3QAAAABJRU5ErkJggg=="
)


def _tool(name: str, description: str, properties: dict[str, Any], *, read_only: bool = False,
          output: dict[str, Any] | None = None) -> types.Tool:
    return types.Tool(
        name=name,
        description=description,
        input_schema={"type": "object", "properties": properties, "required": list(properties)},
        output_schema=output,
        annotations=types.ToolAnnotations(read_only_hint=read_only),
    )


TOOLS = [
    _tool("echo", "Repeat the text.", {"text": {"type": "string"}}, read_only=True),
    _tool("add", "Add two numbers.", {"a": {"type": "number"}, "b": {"type": "number"}}, read_only=True,
          output={"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]}),
    _tool("write_note", "Write text into a file.", {"path": {"type": "string"}, "text": {"type": "string"}}),
    _tool("picture", "Return a tiny picture.", {}, read_only=True),
    _tool("fail", "Always fails.", {}, read_only=True),
    _tool("slow", "Sleep for a while.", {"seconds": {"type": "number"}}, read_only=True),
    _tool("crash", "Exit the server process in the middle of the call.", {}, read_only=True),
    _tool("whoami", "The Authorization and X-Team headers of the request (HTTP only).", {}, read_only=True),
]


def _text(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    args = params.arguments or {}
    name = params.name
    if name == "echo":
        print(f"fake server: echo called with {args.get('text')!r}", file=sys.stderr, flush=True)
        return _text(str(args.get("text", "")))
    if name == "add":
        total = args["a"] + args["b"]
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=str(total))], structured_content={"sum": total}
        )
    if name == "write_note":
        Path(args["path"]).write_text(args["text"], encoding="utf-8")
        return _text(f"wrote {args['path']}")
    if name == "picture":
        data = base64.b64encode(PIXEL).decode()
        return types.CallToolResult(content=[types.ImageContent(type="image", data=data, mime_type="image/png")])
    if name == "fail":
        return _text("the tool failed on purpose", error=True)
    if name == "slow":
        await anyio.sleep(float(args.get("seconds", 30)))
        return _text("done sleeping")
    if name == "crash":
        sys.stdout.flush()
        os._exit(3)
    if name == "whoami":
        request = getattr(ctx, "request", None)
        headers = request.headers if request is not None else {}
        return _text(f"{headers.get('authorization', '-')} | {headers.get('x-team', '-')}")
    return _text(f"unknown tool {name}", error=True)


def make_server() -> Server[Any]:
    return Server("fake", version="1.0", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio() -> None:
    from mcp.server.stdio import stdio_server

    server = make_server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hang-at-startup", action="store_true")
    parser.add_argument("--crash-at-startup", action="store_true")
    parser.add_argument("--stdout-noise", action="store_true")
    parser.add_argument("--http", type=int, default=None, help="serve streamable HTTP on this port")
    options = parser.parse_args()
    if options.crash_at_startup:
        print("fake server: crashing at startup on purpose", file=sys.stderr)
        sys.exit(1)
    if options.hang_at_startup:
        time.sleep(3600)
    print(f"fake server: started (pid {os.getpid()})", file=sys.stderr, flush=True)
    if options.stdout_noise:
        print("Fake Server v1.0 -- starting up (this banner belongs on stderr)", flush=True)
    if options.http is not None:
        import uvicorn

        app = make_server().streamable_http_app()
        uvicorn.run(app, host="127.0.0.1", port=options.http, log_level="warning")
        return
    anyio.run(serve_stdio)


if __name__ == "__main__":
    main()
