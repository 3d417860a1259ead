"""The core's built-in approval policies, registered through the public hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex.hookspecs import hookimpl

if TYPE_CHECKING:
    from codex.approval.policy import ApprovalPolicy


@hookimpl
def codex_approval_policies() -> dict[str, ApprovalPolicy]:
    """``untrusted``, ``on-failure``, ``on-request`` and ``never``."""
    from codex.approval.policy import builtin_policies

    return builtin_policies()
