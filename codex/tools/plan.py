"""The ``update_plan`` tool: the model keeps a visible checklist of its steps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from codex.events import PlanUpdate
from codex.tools.base import ToolContext, ToolResult


class PlanStep(BaseModel):
    """One step of the plan."""

    step: str = Field(min_length=1)
    status: Literal["pending", "in_progress", "completed"]


class UpdatePlanArgs(BaseModel):
    """Arguments of update_plan."""

    explanation: str | None = Field(None, description="Why the plan changed (optional).")
    plan: list[PlanStep] = Field(description="The steps, in order; at most one in_progress.")

    @model_validator(mode="after")
    def _one_in_progress(self) -> UpdatePlanArgs:
        if sum(step.status == "in_progress" for step in self.plan) > 1:
            raise ValueError("at most one step may be in_progress")
        return self


UPDATE_PLAN_DESCRIPTION = (
    "Record your plan as a checklist the user can see. Send the whole list each time, with each "
    "step's status (pending, in_progress, completed); keep at most one step in_progress."
)


async def run_update_plan(args: UpdatePlanArgs, ctx: ToolContext) -> ToolResult:
    """Handler of update_plan."""
    ctx.emit(PlanUpdate(args.explanation, [step.model_dump() for step in args.plan]))
    return ToolResult("Plan updated")
