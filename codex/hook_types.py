"""What the interception and observation hooks receive and return (a plugin imports these).

``codex_before_tool_call`` gets a ``ToolCall`` and a ``HookContext`` and returns ``None`` (no
opinion) or one of ``Allow``, ``Deny``, ``Ask``, ``Rewrite``. ``codex_event`` gets every event
the session emits and the same ``HookContext``. Plain frozen dataclasses: importing this module
costs nothing, and the names are meant to be re-exported by the public plugin module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from codex.config.model import Config

__all__ = ["Allow", "Ask", "Deny", "HookContext", "Rewrite", "ToolCall", "ToolDecision"]


@dataclass(frozen=True)
class ToolCall:
    """One call the model made, as the gate sees it before anything runs.

    ``arguments`` is the decoded JSON object the model sent (not yet checked against the tool's
    schema); ``plugin`` is the plugin that offers the tool (``core-tools`` for shell,
    apply_patch and update_plan; empty for MCP tools, whose names say their server).
    """

    name: str
    arguments: dict[str, Any]
    call_id: str
    turn_id: str
    plugin: str = ""


@dataclass(frozen=True)
class Allow:
    """No objection: the call goes on to the session's approval policy and sandbox as usual.

    It never bypasses them: it only records that this plugin looked and agrees.
    """


@dataclass(frozen=True)
class Deny:
    """Refuse the call; nothing runs and the model is told ``reason``."""

    reason: str


@dataclass(frozen=True)
class Ask:
    """Ask the person first, showing ``reason``.

    The question goes through the session's approval path (the terminal UI asks, the MCP
    server forwards it). Where nobody can answer (``codex exec``, or ``approval_policy =
    never``) it becomes a refusal the model is told.
    """

    reason: str


@dataclass(frozen=True)
class Rewrite:
    """Run the call with these arguments instead (they are checked against the tool's schema)."""

    arguments: dict[str, Any] = field(default_factory=dict)


ToolDecision = Allow | Deny | Ask | Rewrite


class HookContext(Protocol):
    """The session as hooks may see it: read-only facts, no way to reach its internals."""

    @property
    def session_id(self) -> str:
        """The session's id (the peer's ``thread-id``)."""
        ...

    @property
    def cwd(self) -> Path:
        """The directory the session works in."""
        ...

    @property
    def config(self) -> Config:
        """The session's effective configuration."""
        ...

    @property
    def model(self) -> str:
        """The model the session currently talks to."""
        ...

    def turn_input(self) -> list[str]:
        """The person's messages of the current turn (input typed during the turn included)."""
        ...
