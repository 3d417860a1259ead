"""``codex resume [--last | ID] [PROMPT]``: reopen a recorded session in the interactive terminal.

Without ``--last`` or an ID, the terminal opens with a list of recent sessions to pick from.
The transcript of the chosen session is shown, and the conversation goes on where it stopped
(new items are appended to the same rollout file).
"""

from __future__ import annotations

import click

from codex.cli.options import agent_options

EPILOG = """\b
Examples:
  codex resume                 pick one of the recent sessions
  codex resume --last          continue the most recent session
  codex resume 7f3c9a1e-...    continue the session with this id
  codex resume --last "now add tests for it"
"""


@click.command("resume", epilog=EPILOG)
@agent_options
@click.option("--last", is_flag=True, help="Continue the most recent session without asking.")
@click.argument("session_id", required=False, metavar="[ID]")
@click.argument("prompt", nargs=-1)
@click.pass_context
def resume(
    ctx: click.Context, /, last: bool, session_id: str | None, prompt: tuple[str, ...], **_flags: object
) -> None:
    """Reopen a recorded session in the interactive terminal and continue it.

    ID is the session id shown in the header (a unique tail of it is enough). With --last, any
    words after the options are the first prompt (with an ID, the words after it).
    """
    from codex.cli.tui.command import ResumeTarget, run_interactive

    words = list(prompt)
    if last and session_id is not None:
        # `codex resume --last fix it`: click took the first word as the ID.
        words.insert(0, session_id)
        session_id = None
    target = ResumeTarget(last=last, session_id=session_id, pick=not last and session_id is None)
    run_interactive(ctx, " ".join(words) or None, target)
