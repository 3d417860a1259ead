"""Is a command trusted: known-safe by the classifier, or approved by the person this session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.tools.base import ToolContext


def command_trust(argv: Sequence[str], ctx: ToolContext) -> tuple[bool, str]:
    """(trusted, why) for one argv under the session's rules and approvals."""
    from codex.approval.safe_commands import SafeCommandRules, classify

    if tuple(argv) in ctx.approved_commands:
        return True, "approved for this session"
    for prefix in ctx.approved_prefixes:
        if tuple(argv[: len(prefix)]) == prefix:
            return True, f"matches the session rule `{' '.join(prefix)} ...`"
    rules = SafeCommandRules.builtin(ctx.config.approval.trusted_commands)
    verdict = classify(list(argv), rules)
    return verdict.safe, verdict.reason
