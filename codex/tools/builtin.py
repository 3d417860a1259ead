"""Assembles the built-in tools for a session's config: what the model is told about each.

Their parameters are JSON Schema data (``codex.tools.schemas``) and their handlers are named by
reference: offering the tools imports none of their modules; a tool's code loads when the
model first calls it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from codex.tools.base import Tool

if TYPE_CHECKING:
    from codex.config.model import Config


SHELL_DESCRIPTION = (
    "Run a command (argv array, e.g. [\"bash\", \"-lc\", \"ls -la\"]) in the workspace and return "
    "its exit code, stdout and stderr. Commands run inside a sandbox according to the session's policy."
)

APPLY_PATCH_DESCRIPTION = (
    "Edit files with a patch in the apply_patch format: '*** Begin Patch', then for each file "
    "'*** Add File: path' (lines prefixed '+'), '*** Delete File: path', or '*** Update File: path' "
    "(optionally '*** Move to: new/path') followed by hunks that start with '@@' (optionally followed "
    "by a line such as a def to find) and lines prefixed ' ' (context), '-' (remove) or '+' (add); "
    "finish with '*** End Patch'. Paths are relative to the working directory. All or nothing: if any "
    "hunk does not match, no file changes."
)

UPDATE_PLAN_DESCRIPTION = (
    "Record your plan as a checklist the user can see. Send the whole list each time, with each "
    "step's status (pending, in_progress, completed); keep at most one step in_progress."
)


def builtin_tools(config: Config) -> list[Tool]:
    """shell (with escalation parameters only under on-request), apply_patch, update_plan, view_image."""
    import copy

    from codex.tools import schemas  # the schemas as data: no pydantic until a call arrives

    escalation = config.approval_policy == "on-request"
    shell_schema = schemas.SHELL_WITH_ESCALATION if escalation else schemas.SHELL
    tools = [
        # The shell tool keeps its own limit: the command's timeout (timeout_ms, default 120 s).
        Tool("shell", SHELL_DESCRIPTION, copy.deepcopy(shell_schema), "codex.tools.shell:run_shell",
             timeout_sec=math.inf, reports_own_items=True),
        Tool("apply_patch", APPLY_PATCH_DESCRIPTION, copy.deepcopy(schemas.APPLY_PATCH),
             "codex.tools.patch_tool:run_apply_patch", reports_own_items=True),
    ]
    if config.include_plan_tool:
        tools.append(Tool("update_plan", UPDATE_PLAN_DESCRIPTION, copy.deepcopy(schemas.UPDATE_PLAN),
                          "codex.tools.plan:run_update_plan", reports_own_items=True))
    if config.tools.view_image:
        from codex.tools.view_image import view_image_tool

        tools.append(view_image_tool())
    return tools
