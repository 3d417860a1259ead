"""Assembles the built-in tools for a session's config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex.tools.base import Tool

if TYPE_CHECKING:
    from codex.config.model import Config


_ARGUMENTS = "codex.tools.arguments"


def builtin_tools(config: Config) -> list[Tool]:
    """shell (with escalation parameters only under on-request), apply_patch, update_plan."""
    from codex.tools.patch_tool import APPLY_PATCH_DESCRIPTION, run_apply_patch
    from codex.tools.plan import UPDATE_PLAN_DESCRIPTION, run_update_plan
    from codex.tools.shell import SHELL_DESCRIPTION, run_shell

    # References, not classes: the argument models (and pydantic) load when a call arrives.
    shell_args = "ShellArgsWithEscalation" if config.approval_policy == "on-request" else "ShellArgs"
    tools = [
        Tool("shell", SHELL_DESCRIPTION, f"{_ARGUMENTS}:{shell_args}", run_shell, plain_arguments=True),
        Tool("apply_patch", APPLY_PATCH_DESCRIPTION, f"{_ARGUMENTS}:ApplyPatchArgs", run_apply_patch,
             plain_arguments=True),
    ]
    if config.include_plan_tool:
        tools.append(Tool("update_plan", UPDATE_PLAN_DESCRIPTION, f"{_ARGUMENTS}:UpdatePlanArgs", run_update_plan))
    return tools
