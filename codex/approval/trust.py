"""Is a command trusted: known-safe by the classifier, or approved by the person this session."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from codex.approval.safe_commands import SafeCommandRules
    from codex.tools.base import ToolContext


@lru_cache(maxsize=8)
def _rules(trusted: tuple[str, ...]) -> SafeCommandRules:
    """The rule set for one ``approval.trusted_commands`` list, built once (it is pure data)."""
    from codex.approval.safe_commands import SafeCommandRules

    return SafeCommandRules.builtin(trusted)


def command_trust(argv: Sequence[str], ctx: ToolContext, cwd: Path | None = None) -> tuple[bool, str]:
    """(trusted, why) for one argv under the session's rules and approvals, run in ``cwd``.

    A ``cwd`` other than the session's makes git untrusted: it would read that repository's
    configuration, which can name programs to run.
    """
    from codex.approval.safe_commands import classify

    if tuple(argv) in ctx.approved_commands:
        return True, "approved for this session"
    rules = _rules(tuple(ctx.config.approval.trusted_commands))
    # Session approvals apply inside `bash -lc` scripts too: each command is judged on its own.
    verdict = classify(
        list(argv),
        rules,
        session_prefixes=[list(p) for p in ctx.approved_prefixes],
        session_commands=[list(c) for c in ctx.approved_commands],
        elsewhere=cwd is not None and cwd != ctx.cwd,
    )
    return verdict.safe, verdict.reason
