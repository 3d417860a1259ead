"""``codex review``: findings with file:line for the uncommitted changes, a branch, or a commit.

git collects the diff (``codex.review``), the model reviews it in a read-only session that
never asks, and its JSON answer is printed as ``path:line: [P1] title`` lines (or ``--json``).
The exit status says whether findings reached ``--fail-on``, so CI can gate on it.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from codex.cli.options import agent_options, cli_state, loaded_config
from codex.errors import CodexError, UsageError

if TYPE_CHECKING:
    from codex import events as ev
    from codex.review import Change, Review

EPILOG = """\b
Examples:
  codex review                          the uncommitted changes (staged, unstaged, untracked)
  codex review --base main              everything this branch adds since it left main
  codex review --commit HEAD~1          what one commit changed
  codex review --base origin/main --fail-on P1 --json > review.json   (in CI)
  codex review "focus on SQL injection and missing input checks"
  codex review --commit HEAD - < REVIEW_GUIDELINES.md   (instructions from stdin)

\b
Output: one finding per block on stdout, most urgent first:
  src/app.py:12: [P1] Close the file on the error path
    The handle opened on line 10 leaks when parse() raises ...
then the model's overall verdict. Priorities: P0 blocks everything, P1 must be fixed before
merging, P2 should be fixed, P3 is minor. Commands the model runs are shown on stderr.

\b
Exit status:
  0  no finding at or above --fail-on (also: nothing to review)
  1  at least one finding at or above --fail-on
  2  usage error: bad options, not a git repository, unknown branch or commit
  3  the review failed: the model or git failed, or the answer was not a readable review
"""

FAIL_ON_CHOICES = ("P0", "P1", "P2", "P3", "none")


@click.command("review", epilog=EPILOG)
@agent_options
@click.argument("prompt", required=False)
@click.option("--uncommitted", is_flag=True, help="Review staged, unstaged and untracked changes (the default).")
@click.option(
    "--base", "base", metavar="BRANCH",
    help="Review what the current branch adds since its merge base with BRANCH, uncommitted edits "
         "to tracked files included (BRANCH may be any ref, e.g. origin/main).",
)
@click.option("--commit", "commit", metavar="SHA", help="Review the changes one commit introduced (any ref git knows).")
@click.option("--title", metavar="TITLE", help="The commit's title, shown to the model (default: its subject line).")
@click.option("--json", "json_mode", is_flag=True, help="Print the findings and verdict as one JSON object on stdout.")
@click.option(
    "--fail-on", "fail_on", type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False), default="P3",
    show_default=True, metavar="P0|P1|P2|P3|none",
    help="Exit 1 when a finding has this priority or a more urgent one; `none` exits 0 whatever "
         "was found. P3 means any finding.",
)
@click.pass_context
def review(
    ctx: click.Context, /, prompt: str | None, uncommitted: bool, base: str | None, commit: str | None,
    title: str | None, json_mode: bool, fail_on: str, **_flags: Any,
) -> None:
    """Review code changes and print findings as path:line lines; the exit status suits CI.

    Reviews the uncommitted changes unless --base or --commit says otherwise. PROMPT adds
    instructions to the review (what to focus on); `-` reads them from stdin. A PROMPT alone
    still reviews the uncommitted changes (the Rust CLI would let the model pick what to read;
    to ask about code that did not change, use codex exec). The review runs
    read-only and never asks, whatever -s, -a or config.toml say: the model may read files and
    run read-only commands to check context, never change anything. Unlike the Rust CLI, the
    exit status reports findings (see below), and the diff is collected by codex and sent with
    the request, so untracked files and the exact merge base are always part of the review.
    """
    from codex.review import ReviewFailed, ReviewTarget

    chosen = [name for name, given in (("--uncommitted", uncommitted), ("--base", base is not None),
                                       ("--commit", commit is not None)) if given]
    if len(chosen) > 1:
        raise UsageError(f"choose one of --uncommitted, --base and --commit (got {' and '.join(chosen)})")
    if title is not None and commit is None:
        raise UsageError("--title goes with --commit")
    focus = _read_focus(prompt)
    if base is not None:
        target = ReviewTarget.base(base)
    elif commit is not None:
        target = ReviewTarget.commit(commit, title)
    else:
        target = ReviewTarget.uncommitted()
    threshold = None if fail_on.lower() == "none" else int(fail_on[1])
    try:
        code = _review(ctx, target, focus, json_mode, threshold)
    except (UsageError, ReviewFailed):
        raise
    except CodexError as exc:
        # A config or provider error would exit 1, which here means "findings".
        raise ReviewFailed(str(exc)) from exc
    ctx.exit(code)


def _read_focus(prompt: str | None) -> str | None:
    if prompt != "-":
        return prompt
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("PROMPT is `-` but stdin is a terminal: pipe the review instructions in")
    text = sys.stdin.read()
    if not text.strip():
        raise UsageError("PROMPT is `-` but stdin was empty")
    return text


def _review(ctx: click.Context, target: Any, focus: str | None, json_mode: bool, threshold: int | None) -> int:
    import asyncio

    from codex.engine import prepare_provider
    from codex.review import collect_change, parse_review, review_prompt, run_review
    from codex.ui import StderrUI

    loaded = loaded_config(ctx)
    change = collect_change(loaded.cwd, target)
    if not change.diff.strip():
        sys.stderr.write(f"codex review: nothing to review: the diff of {change.description} is empty\n")
        if json_mode:
            _print_json(change, None, threshold, 0)
        return 0
    state = cli_state(ctx)
    pm = state.plugins()
    prepare_provider(pm, loaded, StderrUI(interactive=False))
    files = len(change.files)
    sys.stderr.write(f"codex review: {change.description}: {files} file{'s' * (files != 1)}, "
                     f"{len(change.diff.splitlines()):,} diff lines; model {loaded.config.model}\n")
    if change.truncated_from is not None:
        sys.stderr.write(f"codex review: the diff was cut to its first {len(change.diff):,} characters; "
                         "the model was told to read the rest itself\n")
    answer = asyncio.run(run_review(pm, loaded, review_prompt(change, focus), _show_progress))
    result = parse_review(answer, change.root)
    failing = [f for f in result.findings if threshold is not None and f.priority <= threshold]
    if json_mode:
        _print_json(change, result, threshold, len(failing))
    else:
        _print_human(result, threshold, len(failing))
    return 1 if failing else 0


def _show_progress(event: ev.Event) -> None:
    """What the model does while reviewing, on stderr (stdout stays for the findings)."""
    import shlex

    from codex import events as ev

    msg = event.msg
    if isinstance(msg, ev.ExecCommandBegin):
        sys.stderr.write(f"  exec {shlex.join(msg.command)}\n")
    elif isinstance(msg, ev.ExecCommandEnd) and msg.exit_code != 0:
        sys.stderr.write(f"    exited {msg.exit_code}\n")
    elif isinstance(msg, ev.StreamError | ev.BackgroundEvent):
        sys.stderr.write(f"codex review: {msg.message}\n")
    else:
        return
    sys.stderr.flush()


def _print_human(result: Review, threshold: int | None, failing: int) -> None:
    from codex.review import format_findings, verdict_line

    lines = format_findings(result.findings)
    count = len(result.findings)
    if count:
        lines.append("")
    summary = f"{count} finding{'s' * (count != 1)}" if count else "no findings"
    if count and threshold is not None:
        summary += f", {failing} at P{threshold} or above"
    lines.append(summary)
    verdict = verdict_line(result)
    if verdict:
        lines.append(verdict)
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _print_json(change: Change, result: Review | None, threshold: int | None, failing: int) -> None:
    data = {
        "target": {"kind": change.target.kind, "ref": change.target.ref, "title": change.target.title,
                   "description": change.description},
        "findings": [finding.to_data() for finding in (result.findings if result else [])],
        "overall_correctness": result.overall_correctness if result else None,
        "overall_explanation": result.overall_explanation if result else None,
        "overall_confidence_score": result.overall_confidence_score if result else None,
        "fail_on": f"P{threshold}" if threshold is not None else "none",
        "failing_findings": failing,
        "nothing_to_review": result is None,
    }
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()
