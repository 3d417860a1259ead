"""codex-tool-now: a tool that tells the model the current date and time in any time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from codex.plugin import Tool, ToolContext, ToolResult, hookimpl

CODEX_PLUGIN_API = "1.0"


class NowArgs(BaseModel):
    timezone: str = Field("UTC", description="An IANA time zone, such as Europe/Paris.")


async def now(args: NowArgs, ctx: ToolContext) -> ToolResult:
    try:  # an unknown zone is a KeyError (ZoneInfoNotFoundError), a name like "../x" a ValueError
        return ToolResult(datetime.now(ZoneInfo(args.timezone)).isoformat(timespec="seconds"))
    except (KeyError, ValueError):
        return ToolResult(f"error: unknown time zone {args.timezone!r}; use an IANA name", success=False)


@hookimpl
def codex_tools(config: Any) -> list[Tool]:
    """Offer ``now`` to the model in every session."""
    return [Tool("now", "The current date and time (ISO 8601) in a time zone.", NowArgs, now, read_only=True)]
