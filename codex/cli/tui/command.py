"""The click command behind ``codex [PROMPT]`` (the group runs it when no subcommand is named).

Only click and the options module are imported here; the terminal code, rich, and the engine
come in inside the callback, after the prompt is already on the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from codex.cli.options import agent_options, image_arguments, image_options, loaded_config, plugin_manager

if TYPE_CHECKING:
    from codex.cli.tui.screen import TerminalScreen
    from codex.protocol import ImageInput

EPILOG = """\b
Examples:
  codex                                 start a session in this directory
  codex "explain what src/main.py does"  start with a first prompt
  codex -a untrusted -s workspace-write  ask before anything not known to be safe
  codex resume --last                   continue the most recent session
  codex -i screenshot.png "fix this layout bug"
\b
In the session: Enter sends, Ctrl-J adds a line, /help lists the slash commands,
Ctrl-C interrupts a turn, Ctrl-D (or Ctrl-C twice) quits. Paste the path of an image
file (or drop the file on the terminal) to attach it: it shows as [image: name.png].
"""


@dataclass(frozen=True)
class ResumeTarget:
    """Which recorded session to reopen: the newest, one by id, or one the person picks."""

    last: bool = False
    session_id: str | None = None
    pick: bool = False


@click.command("interactive", epilog=EPILOG)
@agent_options
@image_options
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
    images: tuple[ImageInput, ...] = ()
    if image_arguments(ctx):  # a bad image is a usage error before the terminal is taken over
        from pathlib import Path

        from codex.images import load_image_arguments

        images = tuple(load_image_arguments(image_arguments(ctx), Path.cwd()))
    screen = show_prompt_early()
    try:
        from codex.cli.tui.app import Launch, run

        load = lambda: (loaded_config(ctx), plugin_manager(ctx))  # noqa: E731
        code = run(Launch(prompt=prompt, resume=resume, load=load, screen=screen, images=images))
    finally:
        if screen is not None:
            screen.restore_mode()
    ctx.exit(code)


def show_prompt_early() -> TerminalScreen | None:
    """On a terminal: raw mode and the prompt on screen now, before asyncio and the app load.

    Keys typed meanwhile wait in the terminal and are read as soon as the loop runs.
    """
    import sys

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    from codex.cli.tui.screen import TerminalScreen, starting_frame
    from codex.cli.tui.text import Palette, color_wanted

    paint = Palette(color_wanted(True))
    screen = TerminalScreen(
        sys.stdin.fileno(), sys.stdout.fileno(), lambda width, _height: starting_frame(paint, width)
    )
    screen.enter_raw_mode()
    screen.draw()
    return screen
