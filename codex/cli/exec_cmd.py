"""``codex exec``: run one task non-interactively and print the answer (the click command).

The options and the run live in ``codex.cli.exec_run``, which ``codex exec`` also reaches
without click when the command line is a plain one (see ``codex.cli.entry``).
"""

from __future__ import annotations

from typing import Any

import click

from codex.cli.exec_run import EXEC_OPTIONS, run_exec
from codex.cli.options import agent_options, agent_settings, cli_state, image_arguments

EPILOG = """\b
Examples:
  codex exec "explain what src/main.py does"
  codex exec --full-auto "add a test for parse_args and make it pass"
  git diff | codex exec "review this diff"            (stdin is appended to the prompt)
  codex exec --json "list the TODOs" > events.jsonl
  codex exec resume --last "now also update the README"
  codex exec resume 7f3c... "continue"
  codex exec -i screenshot.png "why does this dialog look broken?"
  codex exec --output-schema answer.schema.json "list the failing tests" > answer.json
  codex exec resume --last --compact "go on"          (summarise the long conversation first)
  codex exec resume --last --compact                  (only compact; no new turn)
"""


def _exec_options(function: Any) -> Any:
    for spec in reversed(EXEC_OPTIONS):
        function = spec.click_option()(function)
    return function


@click.command("exec", epilog=EPILOG, context_settings={"ignore_unknown_options": False})
@agent_options
@click.argument("args", nargs=-1)
@_exec_options
@click.pass_context
def exec_command(ctx: click.Context, /, **params: Any) -> None:
    """Run a task without asking anything; the final answer goes to stdout.

    PROMPT may be given as arguments, as `-` to read stdin, or omitted to read stdin. Approvals:
    exec never asks (there is no one to answer), so it runs under `never`: commands needing
    approval are refused and the model is told (an -a POLICY given here is checked, then a
    note says it does not apply). `codex exec resume [--last | ID] PROMPT` continues a
    recorded session; with --compact its conversation is first replaced by a summary (long
    sessions also compact on their own near model_auto_compact_token_limit).
    """
    params["images"] = tuple(image_arguments(ctx))  # `codex -i a.png exec ...` attaches too
    ctx.exit(run_exec(cli_state(ctx), agent_settings(ctx), params))
