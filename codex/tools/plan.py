"""The ``update_plan`` tool: the model keeps a visible checklist of its steps."""

from __future__ import annotations

from typing import Any

from codex.events import PlanUpdate
from codex.tools.base import ToolContext, ToolResult


async def run_update_plan(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """Handler of update_plan (the schema has checked each step's text and status)."""
    plan = [{"step": step["step"], "status": step["status"]} for step in args["plan"]]
    if sum(step["status"] == "in_progress" for step in plan) > 1:
        return ToolResult(
            "error: invalid arguments for update_plan: plan: at most one step may be in_progress", False
        )
    ctx.emit(PlanUpdate(args.get("explanation"), plan))
    return ToolResult("Plan updated")
