"""The core's built-in tools (shell, apply_patch, update_plan), registered like any plugin's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex.hookspecs import hookimpl
from codex.plugin import API_VERSION

if TYPE_CHECKING:
    from codex.config.model import Config
    from codex.tools.base import Tool

# The core's own plugins always speak the version of the plugin API they ship with.
CODEX_PLUGIN_API = API_VERSION


@hookimpl
def codex_tools(config: Config) -> list[Tool]:
    """shell and apply_patch always; update_plan unless ``include_plan_tool = false``."""
    from codex.tools.builtin import builtin_tools

    return builtin_tools(config)
