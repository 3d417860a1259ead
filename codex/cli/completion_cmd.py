"""``codex completion SHELL``: print the script that makes the shell complete codex's words.

click's own completion machinery (``click.shell_completion``) does the work: the script calls
``codex`` back with ``_CODEX_COMPLETE=<shell>_complete`` and the words typed so far, and click
answers with commands, options and choices, plugin commands included.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_CODEX_COMPLETE"

EPILOG = """\b
Examples:
  codex completion bash > ~/.local/share/bash-completion/completions/codex
  codex completion zsh > "${fpath[1]}/_codex"        (then restart zsh)
  codex completion fish > ~/.config/fish/completions/codex.fish
  eval "$(codex completion bash)"                    just for this shell
"""


@click.command("completion", epilog=EPILOG)
@click.argument("shell", type=click.Choice(SHELLS), default="bash")
@click.pass_context
def completion(ctx: click.Context, /, shell: str) -> None:
    """Print a completion script for SHELL (bash unless given).

    The script completes commands, plugin commands, options and their choices. Bash needs
    version 4.4 or later.
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    complete_class = get_completion_class(shell)
    assert complete_class is not None  # every name in SHELLS is one click ships
    script = complete_class(root, {}, "codex", COMPLETE_VAR).source()
    click.echo(script)
