"""The pydantic models of the built-in tools' arguments.

They live apart from the tools so that offering a tool does not import pydantic: the schemas the
model reads are written out as data in ``codex.tools.schemas`` (a test keeps them equal to these
models), and this module is imported when a call arrives and its arguments are validated.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator


class ShellArgs(BaseModel):
    """Arguments of the shell tool."""

    command: list[str] = Field(min_length=1, description="The command and its arguments, as an argv array.")
    workdir: str | None = Field(None, description="Working directory (default: the session's cwd).")
    timeout_ms: int | None = Field(None, ge=1, description="Kill the command after this many milliseconds.")
    timeout: int | None = Field(None, ge=1, description="Deprecated: timeout in seconds.")


class ShellArgsWithEscalation(ShellArgs):
    """Arguments of the shell tool under on-request, where the model may ask to leave the sandbox."""

    with_escalated_permissions: bool | None = Field(
        None, description="Ask the user to run this command without the sandbox."
    )
    justification: str | None = Field(
        None, description="One sentence telling the user why escalated permissions are needed."
    )


class ApplyPatchArgs(BaseModel):
    """Arguments of the apply_patch function tool."""

    input: str = Field(description="The whole patch, from '*** Begin Patch' to '*** End Patch'.")


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


class ViewImageArgs(BaseModel):
    """Arguments of view_image."""

    path: str = Field(min_length=1, description="The image file, relative to the working directory or absolute.")
