"""The ``apply_patch`` tool, and the flow shared with patches sent through ``shell``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.approval.policy import Action, PatchFacts
from codex.errors import PatchError
from codex.events import PatchApplyBegin, PatchApplyEnd, ReviewDecision
from codex.tools.base import ToolContext, ToolResult, TurnAborted

if TYPE_CHECKING:
    from codex.tools.patch.paths import Resolver


async def run_apply_patch(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """Handler of the apply_patch function tool."""
    return await apply_patch_flow(args["input"], ctx.cwd, ctx)


def describe_changes(changes: list[Any], cwd: Path) -> tuple[dict[str, dict[str, Any]], str]:
    """Per-path change summaries (the peer's FileChange shape) and one combined diff."""
    summary: dict[str, dict[str, Any]] = {}
    diffs = []
    for change in changes:
        diff = change.unified_diff(cwd)
        diffs.append(diff)
        entry: dict[str, Any] = {"kind": change.kind, "unified_diff": diff}
        if change.move_path is not None:
            entry["move_path"] = str(change.move_path)
        summary[str(change.path)] = entry
    return summary, "".join(diffs)


async def apply_patch_flow(patch: str, cwd: Path, ctx: ToolContext) -> ToolResult:
    """Locate, decide, plan (verify everything), ask if needed, then apply all or nothing.

    Every path is walked once on directory descriptors (``codex.tools.patch.paths``); the
    policy judges the real paths that walk found, before any file is read, and the write goes
    through the same descriptors, so what was approved is what is written. Any failure, an
    unexpected one included, comes back to the model as a failed result naming the cause.
    """
    from codex.tools.apply_patch import Resolver

    with Resolver() as resolver:
        try:
            return await _apply_located(patch, cwd, ctx, resolver)
        except (TurnAborted, asyncio.CancelledError):
            raise
        except PatchError as exc:
            return ToolResult(f"error: patch not applied, no file was changed: {exc}", False)
        except Exception as exc:  # a bug must not end the turn silently: tell the model what broke
            return ToolResult(
                f"error: patch not applied: apply_patch failed unexpectedly ({type(exc).__name__}: {exc}). "
                "No file was changed unless the message says otherwise.",
                False,
            )


async def _apply_located(patch: str, cwd: Path, ctx: ToolContext, resolver: Resolver) -> ToolResult:
    from codex.tools.apply_patch import apply_changes, plan_patch, touched_paths
    from codex.tools.patch.roots import write_refusals

    paths = await asyncio.to_thread(resolver.run, touched_paths, patch, cwd, resolver)
    refusals = write_refusals(ctx.sandbox_policy, paths)
    decision = ctx.approval_policy.decide_patch(PatchFacts(not refusals, ctx.sandbox_policy.mode.value))
    if decision.action is Action.REJECT:
        why = f" ({'; '.join(refusals)})" if refusals else ""
        return ToolResult(f"error: patch not applied: {decision.reason}{why}", False)
    # Files are read only now, after the policy: a refused patch never reads a device or a FIFO.
    changes = await asyncio.to_thread(resolver.run, plan_patch, patch, cwd, resolver)
    summary, diff = describe_changes(changes, cwd)
    auto = decision.action is not Action.ASK
    if not auto:
        reason = f"{decision.reason} ({'; '.join(refusals)})" if refusals else decision.reason
        answer = await ctx.ask_patch_approval(summary, diff, reason)
        if answer.decision is ReviewDecision.ABORT:
            raise TurnAborted("the user aborted the turn")
        if answer.decision is ReviewDecision.DENIED:
            feedback = f" The user said: {answer.feedback}" if answer.feedback else ""
            return ToolResult(f"error: the user rejected this patch; no file was changed.{feedback}", False)
    ctx.emit(PatchApplyBegin(ctx.call_id, summary, auto))
    try:
        # apply_changes refuses (writing nothing) if a file changed while the person read the diff.
        output = await asyncio.to_thread(resolver.run, apply_changes, changes, cwd)
    except PatchError as exc:
        ctx.emit(PatchApplyEnd(ctx.call_id, False, "", str(exc), diff))
        return ToolResult(f"error: patch not applied, no file was changed: {exc}", False)
    ctx.emit(PatchApplyEnd(ctx.call_id, True, output, "", diff))
    return ToolResult(output)
