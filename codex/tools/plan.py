"""The ``update_plan`` tool: the model keeps a visible checklist of its steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex.events import PlanUpdate
from codex.tools.base import ToolContext, ToolResult

if TYPE_CHECKING:
    from codex.tools.arguments import UpdatePlanArgs


async def run_update_plan(args: UpdatePlanArgs, ctx: ToolContext) -> ToolResult:
    """Handler of update_plan."""
    ctx.emit(PlanUpdate(args.explanation, [step.model_dump() for step in args.plan]))
    return ToolResult("Plan updated")
