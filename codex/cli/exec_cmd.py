"""``codex exec``: run one task non-interactively and print the answer.

Nobody is there to answer questions, so exec always runs under the ``never`` approval policy:
whatever would need approval is refused and the model is told why (it can then choose another
way). The sandbox still applies (``-s``, ``--full-auto``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from codex.cli.options import agent_options, loaded_config, plugin_manager
from codex.errors import CodexError, UsageError

if TYPE_CHECKING:
    from codex.cli.render_human import HumanRenderer
    from codex.cli.render_json import JsonRenderer
    from codex.config.loader import LoadedConfig
    from codex.plugins import CodexPluginManager

EPILOG = """\b
Examples:
  codex exec "explain what src/main.py does"
  codex exec --full-auto "add a test for parse_args and make it pass"
  git diff | codex exec "review this diff"            (stdin is appended to the prompt)
  codex exec --json "list the TODOs" > events.jsonl
  codex exec resume --last "now also update the README"
  codex exec resume 7f3c... "continue"
"""


@click.command("exec", epilog=EPILOG, context_settings={"ignore_unknown_options": False})
@agent_options
@click.argument("args", nargs=-1)
@click.option("--json", "json_mode", is_flag=True, help="Print events as JSON lines on stdout (peer's exec schema).")
@click.option(
    "--skip-git-repo-check", is_flag=True, help="Run even when the working directory is not inside a git repository."
)
@click.option(
    "--color",
    type=click.Choice(["always", "never", "auto"]),
    default="auto",
    show_default=True,
    help="Colour the transcript on stderr.",
)
@click.option(
    "-o",
    "--output-last-message",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the final answer to this file.",
)
@click.option("--last", is_flag=True, help="With `resume`: continue the most recent session.")
@click.option(
    "-y", "--yes", "assume_yes", is_flag=True,
    help="Answer yes to setup questions (e.g. start Ollama for --oss); never to command approvals.",
)
@click.pass_context
def exec_command(
    ctx: click.Context,
    /,
    args: tuple[str, ...],
    json_mode: bool,
    skip_git_repo_check: bool,
    color: str,
    output_last_message: Path | None,
    last: bool,
    assume_yes: bool,
    **_agent_flags: object,
) -> None:
    """Run a task without asking anything; the final answer goes to stdout.

    PROMPT may be given as arguments, as `-` to read stdin, or omitted to read stdin. Approvals:
    exec never asks (there is no one to answer), so it runs under `never`: commands needing
    approval are refused and the model is told. `codex exec resume [--last | ID] PROMPT`
    continues a recorded session.
    """
    resume_path, prompt_words = _split_resume(args, last, ctx)
    loaded = loaded_config(ctx)
    if loaded.config.approval_policy != "never":
        # exec has no one to ask; a configured policy would only turn every question into a refusal.
        loaded.config.approval_policy = "never"
        loaded.origins["approval_policy"] = "codex exec (never asks)"
    prompt = _read_prompt(prompt_words)
    if not skip_git_repo_check and not _inside_git_repo(loaded.cwd):
        raise CodexError(
            f"{loaded.cwd} is not inside a git repository, so changes could not be reviewed or undone. "
            "Run `git init`, or pass --skip-git-repo-check."
        )
    pm = plugin_manager(ctx)
    use_color = color == "always" or (color == "auto" and sys.stderr.isatty() and "NO_COLOR" not in _env())
    code = asyncio.run(_run(pm, loaded, prompt, json_mode, use_color, output_last_message, resume_path, assume_yes))
    ctx.exit(code)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _split_resume(args: tuple[str, ...], last: bool, ctx: click.Context) -> tuple[Path | None, tuple[str, ...]]:
    from codex.config.loader import codex_home
    from codex.rollout import find_session

    if not args or args[0] != "resume":
        if last:
            raise UsageError("--last only goes with `codex exec resume`")
        return None, args
    rest = args[1:]
    home = codex_home()
    if last:
        return find_session(home), rest
    if not rest:
        raise UsageError("`codex exec resume` needs a session id or --last")
    return find_session(home, rest[0]), rest[1:]


def _read_prompt(words: tuple[str, ...]) -> str:
    prompt = " ".join(words)
    stdin_text = ""
    if prompt in ("", "-"):
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("no prompt given: pass it as an argument, or pipe it on stdin")
        stdin_text = sys.stdin.read()
        prompt = ""
    elif sys.stdin is not None and not sys.stdin.isatty():
        stdin_text = _read_piped_stdin()
    if stdin_text.strip():
        # As the peer does: piped input joins an explicit prompt as a <stdin> block.
        prompt = f"{prompt}\n\n<stdin>\n{stdin_text.strip()}\n</stdin>" if prompt else stdin_text.strip()
    if not prompt.strip():
        raise UsageError("the prompt is empty")
    return prompt


def _read_piped_stdin() -> str:
    """Stdin that is a pipe or file joins the prompt; an inherited but idle descriptor does not block."""
    import os
    import select
    import stat

    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):
        return ""
    if stat.S_ISREG(mode):
        return sys.stdin.read()
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        ready, _, _ = select.select([sys.stdin], [], [], 0.05)
        return sys.stdin.read() if ready else ""
    return ""


def _inside_git_repo(cwd: Path) -> bool:
    return any((d / ".git").exists() for d in (cwd, *cwd.parents))


async def _run(
    pm: CodexPluginManager,
    loaded: LoadedConfig,
    prompt: str,
    json_mode: bool,
    color: bool,
    output_last_message: Path | None,
    resume: Path | None,
    assume_yes: bool = False,
) -> int:
    from codex import events as ev
    from codex.engine import open_session, prepare_provider
    from codex.ui import StderrUI

    prepare_provider(pm, loaded, StderrUI(interactive=False, assume_yes=assume_yes))
    renderer: HumanRenderer | JsonRenderer
    if json_mode:
        from codex.cli.render_json import JsonRenderer

        renderer = JsonRenderer(sys.stdout)
    else:
        from codex.cli.render_human import HumanRenderer

        renderer = HumanRenderer(sys.stdout, sys.stderr, color)
    if not json_mode:
        for warning in loaded.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    session = await open_session(pm, loaded, resume=resume)
    session.submit(ev.UserInput(prompt))
    last_message: str | None = None
    failed = False
    try:
        while True:
            event = await session.next_event()
            msg = event.msg
            if isinstance(msg, ev.ExecApprovalRequest | ev.PatchApprovalRequest):
                # Unreachable under `never`, but a plugin policy might still ask: refuse, never hang.
                session.submit(ev.ApprovalAnswer(msg.request_id, ev.ReviewDecision.DENIED, "exec cannot ask"))
            renderer.handle(event)
            if isinstance(msg, ev.TaskComplete):
                last_message = msg.last_agent_message
                break
            if isinstance(msg, ev.Error | ev.TurnAborted):
                failed = True
                break
    finally:
        await session.close()
    if output_last_message is not None:
        output_last_message.write_text((last_message or "") + ("\n" if last_message else ""), encoding="utf-8")
    return 1 if failed else 0
