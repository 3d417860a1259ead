"""``codex debug``: tools for understanding why codex did what it did."""

from __future__ import annotations

import click

from codex.cli.options import agent_options, loaded_config


@click.group("debug", epilog="""\b
Examples:
  codex debug safe-command -- git status
  codex debug safe-command -- bash -lc 'ls > files.txt'
""")
def debug_group() -> None:
    """Inspect codex's decisions (safe-command classification, ...)."""


@debug_group.command(
    "safe-command",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="""\b
Examples:
  codex debug safe-command -- ls -la                  -> safe (exit 0)
  codex debug safe-command -- bash -lc 'ls && rm x'   -> not safe: `rm` ... (exit 1)
  codex -c 'approval.trusted_commands=["pytest"]' debug safe-command -- pytest -q
""",
)
@agent_options
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def safe_command(ctx: click.Context, /, argv: tuple[str, ...], **_flags: object) -> None:
    """Say whether ARGV is known-safe (runs without asking under `untrusted`) and why.

    Exit status 0 when safe, 1 when not. `approval.trusted_commands` from config extends the list.
    """
    from codex.approval.safe_commands import SafeCommandRules, classify

    loaded = loaded_config(ctx)
    verdict = classify(list(argv), SafeCommandRules.builtin(loaded.config.approval.trusted_commands))
    click.echo(f"{'safe' if verdict.safe else 'not safe'}: {verdict.reason}")
    ctx.exit(0 if verdict.safe else 1)
