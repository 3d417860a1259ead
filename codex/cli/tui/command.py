"""The click command behind ``codex [PROMPT]`` (the group runs it when no subcommand is named).

Only click and the options module are imported here; the terminal code, rich, and the engine
come in inside the callback, after the prompt is already on the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from codex.cli.options import agent_options, loaded_config, plugin_manager

EPILOG = """\b
Examples:
  codex                                 start a session in this directory
  codex "explain what src/main.py does"  start with a first prompt
  codex -a untrusted -s workspace-write  ask before anything not known to be safe
  codex resume --last                   continue the most recent session
\b
In the session: Enter sends, Ctrl-J adds a line, /help lists the slash commands,
Ctrl-C interrupts a turn, Ctrl-D (or Ctrl-C twice) quits.
"""


@dataclass(frozen=True)
class ResumeTarget:
    """Which recorded session to reopen: the newest, one by id, or one the person picks."""

    last: bool = False
    session_id: str | None = None
    pick: bool = False


@click.command("interactive", epilog=EPILOG)
@agent_options
@click.argument("prompt", nargs=-1)
@click.pass_context
def interactive(ctx: click.Context, /, prompt: tuple[str, ...], **_flags: object) -> None:
    """Work with codex in this terminal: it streams its answers and asks before acting.

    PROMPT (optional) is sent as the first message. Approvals are asked inline: y yes,
    a yes for the rest of the session, n no (and tell codex why), q abort the turn.
    """
    run_interactive(ctx, " ".join(prompt) or None, None)


def run_interactive(ctx: click.Context, prompt: str | None, resume: ResumeTarget | None) -> None:
    """Run the interactive face until the person leaves; exits the click context with its status."""
    from codex.cli.tui.app import Launch, run

    code = run(Launch(prompt=prompt, resume=resume, load=lambda: (loaded_config(ctx), plugin_manager(ctx))))
    ctx.exit(code)
