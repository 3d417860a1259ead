"""The ``shell`` tool: approval, sandbox, execution and the output the model reads.

The order of questions is fixed: is this really a patch (intercept it)? what does the approval
policy say? run (sandboxed unless decided otherwise); did the sandbox deny it? ask again if
the policy says so. Each step is a short function so the flow reads top to bottom.

A question says where the command will run, and the answer covers that placement only: an
approval to run inside never becomes a run outside without a question that says so, and a
command approved "for this session" outside the sandbox runs outside again without asking.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codex.approval.placement import predict_placement
from codex.approval.policy import Action, CommandFacts
from codex.approval.trust import command_trust
from codex.events import (
    ExecCommandBegin,
    ExecCommandEnd,
    ExecCommandOutputDelta,
    ReviewDecision,
)
from codex.execution import ExecResult, build_env, command_secrets, confine, run_command
from codex.sandbox import SandboxMode, sandbox_denial, sandbox_env
from codex.tools.base import CommandRefused, CommandResult, ToolContext, ToolResult, TurnAborted


async def run_shell(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """Handler of the shell tool (the arguments were checked against ``schemas.SHELL``)."""
    from codex.tools.patch.shell import extract_patch_from_shell
    from codex.tools.patch_tool import apply_patch_flow

    command: list[str] = args["command"]
    workdir: str | None = args.get("workdir")
    shell_patch = extract_patch_from_shell(command)
    if shell_patch is not None:
        # Unresolved: apply_patch walks the path itself, once, on directory descriptors.
        base = ctx.cwd / workdir if workdir else ctx.cwd
        patch_cwd = base / shell_patch.workdir if shell_patch.workdir else base
        return await apply_patch_flow(shell_patch.patch, patch_cwd, ctx)
    cwd = (ctx.cwd / workdir).resolve() if workdir else ctx.cwd

    timeout_ms = args.get("timeout_ms") or (args["timeout"] * 1000 if args.get("timeout") else None)
    escalate = bool(args.get("with_escalated_permissions"))
    outcome = await command_flow(command, cwd, timeout_ms, ctx, escalate, args.get("justification"))
    if isinstance(outcome, ToolResult):
        return outcome
    result, note, _sandboxed = outcome
    return ToolResult(result.for_model() + note, result.exit_code == 0)


async def command_flow(
    command: list[str],
    cwd: Path,
    timeout_ms: int | None,
    ctx: ToolContext,
    escalate: bool = False,
    justification: str | None = None,
    call_id: str | None = None,
) -> tuple[ExecResult, str, bool] | ToolResult:
    """Decide, ask if needed, run (sandboxed unless decided otherwise), and handle a denial.

    Returns the command's result, a note for the model and whether its last run was sandboxed,
    or the refusal the model is told when the command did not run. The shell tool and
    ``ToolContext.run_command`` share it, so a plugin's command meets exactly the shell tool's
    policy, questions and sandbox.
    """
    facts = CommandFacts(
        trust=lambda: command_trust(command, ctx, cwd),
        sandbox_mode=ctx.sandbox_policy.mode.value,
        sandbox_available=ctx.sandbox_backend is not None,
        escalation_requested=escalate,
        justification=justification,
        placement=lambda: predict_placement(command, ctx.sandbox_policy, cwd),
    )
    decision = ctx.approval_policy.decide_command(facts)
    if decision.action is Action.REJECT:
        return ToolResult(f"error: command not run: {decision.reason}", False)
    sandboxed = decision.action is Action.RUN_SANDBOXED
    can_confine = facts.sandbox_available and ctx.sandbox_policy.mode is not SandboxMode.DANGER_FULL_ACCESS
    if _UNSANDBOXED + tuple(command) in ctx.approved_commands:
        sandboxed = False  # the person saw "outside the sandbox" and said "always this session"
    elif decision.action is Action.ASK:
        wanted = decision.sandboxed if decision.sandboxed is not None else not escalate
        sandboxed = wanted and can_confine
        refusal = await _ask(ctx, command, cwd, decision.reason, sandboxed)
        if refusal is not None:
            return refusal

    result = await execute(command, cwd, sandboxed, timeout_ms, ctx, call_id)
    note = ""
    if sandboxed and result.exit_code != 0:
        denial = sandbox_denial(result.exit_code, result.aggregated.text(), ctx.sandbox_policy)
        if denial is not None:
            retry = ctx.approval_policy.after_sandbox_denial(facts, denial)
            if retry.action is Action.ASK:
                refusal = await _ask(ctx, command, cwd, retry.reason, False)
                if refusal is not None:
                    return ToolResult(f"{result.for_model()}\n\n{refusal.output}", False)
                result = await execute(command, cwd, False, timeout_ms, ctx, call_id)
                sandboxed = False
            else:
                note = f"\n\nNote: {retry.reason}."
    return result, note, sandboxed


async def run_tool_command(
    ctx: ToolContext, argv: Sequence[str], cwd: str | Path | None = None, timeout: float | None = None
) -> CommandResult:
    """``ToolContext.run_command``: one command of a tool, under the shell tool's rules.

    Its events carry an id of their own (the tool's call id and a counter), so a tool that runs
    several commands shows each as its own item; a question about it names the tool's call.
    """
    from codex.ids import new_call_id

    command = [str(part) for part in argv]
    if not command:
        raise ValueError("run_command needs a command: argv is empty")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"run_command: timeout must be a positive number of seconds; got {timeout!r}")
    where = ctx.cwd / cwd if cwd is not None else ctx.cwd
    timeout_ms = max(1, round(timeout * 1000)) if timeout is not None else None
    outcome = await command_flow(command, where.resolve(), timeout_ms, ctx, call_id=new_call_id())
    if isinstance(outcome, ToolResult):
        raise CommandRefused(outcome.output.removeprefix("error: "))
    result, _note, sandboxed = outcome
    return CommandResult(
        result.exit_code,
        result.stdout.text(),
        result.stderr.text(),
        round(result.duration_seconds, 3),
        result.timed_out,
        sandboxed,
    )


# Marks a session approval to run outside the sandbox in ``approved_commands`` (an argv word
# cannot hold a NUL, so it never matches a command; MCP tools use an ("mcp", ...) key there too).
_UNSANDBOXED = ("\0unsandboxed",)


async def _ask(ctx: ToolContext, command: list[str], cwd: Path, reason: str, sandboxed: bool) -> ToolResult | None:
    """Ask whether to run ``command`` inside (``sandboxed``) or outside the sandbox.

    None means go ahead, a result means stop here and tell the model.
    """
    # Under danger-full-access there is no sandbox to be inside or outside of.
    where = sandboxed if ctx.sandbox_policy.is_restrictive else None
    answer = await ctx.ask_exec_approval(command, cwd, reason, sandboxed=where)
    if answer.decision is ReviewDecision.ABORT:
        raise TurnAborted("the user aborted the turn")
    if answer.decision is ReviewDecision.DENIED:
        feedback = f" The user said: {answer.feedback}" if answer.feedback else ""
        return ToolResult(f"error: the user denied this command; do not retry it as is.{feedback}", False)
    if answer.decision is ReviewDecision.APPROVED_FOR_SESSION:
        ctx.approved_commands.add(tuple(command))
        if not sandboxed:
            ctx.approved_commands.add(_UNSANDBOXED + tuple(command))
        if answer.prefix:
            ctx.approved_prefixes.append(tuple(answer.prefix))
    return None


async def execute(
    command: list[str],
    cwd: Path,
    sandboxed: bool,
    timeout_ms: int | None,
    ctx: ToolContext,
    call_id: str | None = None,
) -> ExecResult:
    """Spawn the command (wrapped by the backend when sandboxed), emitting begin/delta/end
    under ``call_id`` (default: the tool call's)."""
    env = build_env(ctx.config.shell_environment_policy, secrets=command_secrets(ctx.config))
    argv = list(command)
    spawner = None
    backend = ctx.sandbox_backend
    if sandboxed and backend is not None:
        fork_server = ctx.confined_spawner() if ctx.sandbox_policy.is_restrictive else None
        if fork_server is not None:
            spawner = (fork_server, ctx.sandbox_policy)
            env.update(sandbox_env(backend.name, ctx.sandbox_policy))
        else:
            wrapped = confine(backend, argv, ctx.sandbox_policy, cwd)
            argv = wrapped.argv
            env.update(wrapped.env)
    call_id = call_id or ctx.call_id
    ctx.emit(ExecCommandBegin(call_id, list(command), str(cwd), sandboxed))

    def on_output(stream: str, chunk: bytes) -> None:
        ctx.emit(ExecCommandOutputDelta(call_id, stream, chunk.decode("utf-8", "replace")))

    result = await run_command(argv, cwd, env, timeout_ms, on_output, spawner)
    ctx.emit(
        ExecCommandEnd(
            call_id,
            result.exit_code,
            round(result.duration_seconds, 3),
            result.stdout.text(),
            result.stderr.text(),
            result.aggregated.text(),
        )
    )
    return result
