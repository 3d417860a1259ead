"""The core's built-in approval policies, registered through the public hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex.hookspecs import hookimpl
from codex.plugin import API_VERSION

if TYPE_CHECKING:
    from codex.approval.policy import ApprovalPolicy

# The core's own plugins always speak the version of the plugin API they ship with.
CODEX_PLUGIN_API = API_VERSION


@hookimpl
def codex_approval_policies() -> dict[str, ApprovalPolicy]:
    """``untrusted``, ``on-failure``, ``on-request`` and ``never``."""
    from codex.approval.policy import builtin_policies

    return builtin_policies()
