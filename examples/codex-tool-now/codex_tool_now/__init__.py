"""codex-tool-now: a tool that tells the model the current date and time in any time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from codex.plugin import Tool, ToolContext, ToolResult, hookimpl

CODEX_PLUGIN_API = "1.1"
ZONE = {"type": "string", "default": "UTC", "description": "An IANA time zone, such as Europe/Paris."}


async def now(args: dict[str, str], ctx: ToolContext) -> ToolResult:
    return ToolResult(datetime.now(ZoneInfo(args["timezone"])).isoformat(timespec="seconds"))


@hookimpl
def codex_tools(config: object) -> list[Tool]:
    """Offer ``now`` to the model in every session."""
    return [Tool("now", "The current date and time (ISO 8601) in a time zone.",
                 {"type": "object", "properties": {"timezone": ZONE}}, now, read_only=True)]
