"""Slash commands: typed at the prompt, handled by the face, never sent to the model.

Each command is a small async function of the app; ``COMMANDS`` is also what Tab completion and
``/help`` show. Commands that replace the session (``/new``, ``/resume``, ``/compact``) wait for
the running turn: Ctrl-C first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from codex import events as ev
from codex.cli.tui.render import diff_lines

if TYPE_CHECKING:
    from codex.cli.tui.app import App
    from codex.review import Review

COMMANDS: list[tuple[str, str]] = [
    ("/model", "use another model from the next turn: /model NAME"),
    ("/approvals", "change when codex asks before running commands: /approvals POLICY"),
    ("/status", "model, sandbox, approval policy, session and token usage"),
    ("/diff", "show the git diff of the workspace, untracked files included"),
    ("/review", "review the uncommitted changes (or --base BRANCH, --commit SHA)"),
    ("/new", "start a new session in this directory"),
    ("/resume", "reopen a recorded session"),
    ("/compact", "summarise the conversation to free context, and go on from the summary"),
    ("/help", "commands and keys"),
    ("/quit", "leave codex (also /exit, Ctrl-D)"),
]

KEYS_HELP = [
    ("Enter", "send"),
    ("Ctrl-J / Alt-Enter", "new line"),
    ("Up / Down", "history (on the first or last line)"),
    ("Tab", "complete /commands and @file paths"),
    ("Ctrl-C", "interrupt the turn; twice on an empty prompt to quit"),
    ("Ctrl-D", "quit on an empty prompt"),
    ("y a n q", "answer an approval: yes, yes for this session, no (+ message), abort"),
]

Handler = Callable[["App", str], Awaitable[None]]


def parse(text: str) -> tuple[str, str] | None:
    """``("/name", "argument")`` for a slash command line, None for ordinary text."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, argument = stripped.partition(" ")
    if "/" in name[1:] or "\n" in name:
        return None  # a path such as /etc/hosts is text for the model
    return name.lower(), argument.strip()


# Commands that replace the session: input typed while they run waits for the new one.
SWITCHES_SESSION = frozenset({"/new", "/resume"})


async def run(app: App, name: str, argument: str) -> None:
    """Run the command ``name`` (with its ``/``); unknown names get a hint."""
    handler = HANDLERS.get(name)
    if handler is None:
        app.say([app.paint(f"unknown command {name}; /help lists the commands", "red")])
        return
    await handler(app, argument)


async def _model(app: App, argument: str) -> None:
    if not argument:
        current = app.current_model()
        app.say([f"model: {app.paint(current, 'bold')}", app.paint("switch with /model NAME", "dim")])
        return
    app.override(model=argument)
    app.say([app.paint("✓ ", "green") + f"model set to {app.paint(argument, 'bold')} from the next turn"])


async def _approvals(app: App, argument: str) -> None:
    names = app.approval_policy_names()
    current = app.current_approval_policy()
    if not argument:
        lines = ["approval policies (" + app.paint("/approvals NAME", "bold") + " to switch):"]
        lines += [f"  {'●' if name == current else '○'} {name}" for name in names]
        app.say(lines)
        return
    if argument not in names:
        app.say([app.paint(f"unknown approval policy {argument!r}; choose one of: {', '.join(names)}", "red")])
        return
    app.override(approval_policy=argument)
    app.say([app.paint("✓ ", "green") + f"approval policy set to {app.paint(argument, 'bold')}"])


async def _status(app: App, _argument: str) -> None:
    paint = app.paint
    rows = status_rows(app)
    lines = [paint("Status", "bold")]
    column = max(len(label) for label, _ in rows) + 2  # the longest label still gets a gap
    for label, value in rows:
        lines.append(f"  {paint(label.ljust(column), 'dim')}{value}")
    app.say(lines)


def status_rows(app: App) -> list[tuple[str, str]]:
    """What /status shows."""
    rows: list[tuple[str, str]] = []
    loaded, info = app.loaded, app.info
    origins = loaded.origins if loaded else {}

    def origin(key: str) -> str:
        where = origins.get(key)
        return app.paint(f"  (from {where})", "dim") if where and key not in app.overrides else ""

    rows.append(("model", app.current_model() + origin("model")))
    if info is not None:
        rows.append(("provider", info.provider))
    rows.append(("directory", str(app.cwd())))
    rows.append(("approval", app.current_approval_policy() + origin("approval_policy")))
    if info is not None:
        backend = info.sandbox_backend
        rows.append(("sandbox", info.sandbox + (f" [{backend}]" if backend not in ("", "none") else "")))
        rows.append(("session", info.session_id))
        if info.rollout_path:
            rows.append(("recorded in", info.rollout_path))
    if loaded is not None:
        rows.append(("config", str(loaded.config_path)))
    total = app.transcript.total
    rows.append(("tokens", f"{total.total_tokens:,} this session (in {total.input_tokens:,}, "
                           f"cached {total.cached_input_tokens:,}, out {total.output_tokens:,})"))
    rows.extend(context_rows(app))
    return rows


def context_rows(app: App) -> list[tuple[str, str]]:
    """/status's context lines: the window, what the conversation uses, the compaction threshold."""
    session = app.session
    if session is None:
        return []
    context = session.context
    window = f"{context.window:,} tokens" if context.window else "unknown (set model_context_window)"
    left = context.percent_left()
    used = f"{context.used_tokens:,} tokens" + (f" ({left}% left)" if left is not None else "")
    limit = context.auto_compact_limit
    threshold = f"compacts above {limit:,} tokens" if limit else "only on /compact or a context-length error"
    return [("context window", window), ("used", used), ("compaction", threshold),
            ("budget", f"{context.tool_output_budget:,} tokens of each tool output go to the model")]


async def _diff(app: App, _argument: str) -> None:
    cwd = app.cwd()
    from codex.cli.tui.workspace import workspace_diff

    text = await asyncio.to_thread(workspace_diff, cwd)
    if text is None:
        app.say([app.paint(f"{cwd} is not inside a git repository; /diff needs git", "yellow")])
        return
    if not text.strip():
        app.say([app.paint("no changes in the workspace", "dim")])
        return
    app.say(diff_lines(text, app.paint))


REVIEW_USAGE = "usage: /review [--base BRANCH | --commit SHA] [what to focus on]"
PRIORITY_STYLES = {0: ("red", "bold"), 1: ("red",), 2: ("yellow",), 3: ("dim",)}


async def _review(app: App, argument: str) -> None:
    """Review in a separate read-only session that never asks; the findings are then shown and
    added to the conversation, so "fix the first one" works next."""
    import dataclasses
    import shlex

    from codex.errors import CodexError
    from codex.review import ReviewTarget, collect_change, parse_review, review_prompt, run_review

    if app.loaded is None or app.pm is None:
        app.say([app.paint("/review has to wait until codex has started", "yellow")])
        return
    if app.progress_row is not None:
        app.say([app.paint("/review has to wait for what is running now to finish", "yellow")])
        return
    try:
        words = shlex.split(argument)
    except ValueError as exc:
        app.say([app.paint(f"{REVIEW_USAGE} ({exc})", "red")])
        return
    target = ReviewTarget.uncommitted()
    if words and words[0] in ("--base", "--commit"):
        if len(words) < 2:
            app.say([app.paint(f"{words[0]} needs a name; {REVIEW_USAGE}", "red")])
            return
        target = ReviewTarget.base(words[1]) if words[0] == "--base" else ReviewTarget.commit(words[1])
        words = words[2:]
    focus = " ".join(words) or None
    loaded = app.loaded
    loaded = dataclasses.replace(loaded, config=dataclasses.replace(loaded.config, model=app.current_model()))
    paint = app.paint

    def progress(event: ev.Event) -> None:
        if isinstance(event.msg, ev.ExecCommandBegin):
            app.say([paint(f"  exec {shlex.join(event.msg.command)}", "dim")])

    try:
        change = await asyncio.to_thread(collect_change, app.cwd(), target)
        if not change.diff.strip():
            app.say([paint(f"nothing to review: the diff of {change.description} is empty", "dim")])
            return
        files = len(change.files)
        app.say([paint(f"• reviewing {change.description}: {files} file{'s' * (files != 1)}…", "dim")])
        app.progress_row = paint("◦ reviewing… the findings appear here when the model is done (Ctrl-C stops)", "cyan")
        app.screen.request_redraw()
        app.stoppable = asyncio.current_task()
        answer = await run_review(app.pm, loaded, review_prompt(change, focus), progress)
        review = parse_review(answer, change.root)
    except CodexError as exc:
        app.say([paint(f"review failed: {exc}", "red")])
        return
    except asyncio.CancelledError:
        # Ctrl-C (or Esc): run_review has closed its session, which stopped its model request and
        # any command it was running.
        app.say([paint("review stopped", "yellow")])
        return
    finally:
        app.stoppable = None
        app.progress_row = None
        app.screen.request_redraw()
    app.say(review_lines(app, review))
    _remember_review(app, change.description, review)


def review_lines(app: App, review: Review) -> list[str]:
    """The findings as the terminal shows them: location and priority coloured, bodies indented."""
    from codex.review import format_findings, verdict_line

    paint = app.paint
    lines = [paint("Review", "bold")]
    for line in format_findings(review.findings):
        if line and not line.startswith(" "):
            where, tag, title = line.partition("[P")
            priority = int(title[0])
            line = paint(where, "cyan") + paint(tag + title[:2], *PRIORITY_STYLES[priority]) + title[2:]
        lines.append(line)
    if not review.findings:
        lines.append(paint("no findings", "green"))
    verdict = verdict_line(review)
    if verdict:
        lines += ["", paint(verdict, "dim")]
    return lines


def _remember_review(app: App, description: str, review: Review) -> None:
    from codex.protocol import Message
    from codex.review import format_findings

    session = app.session
    if session is None or app.turn_active or not review.findings:
        return
    text = (f"<code_review>\nA code review of {description} found:\n\n"
            + "\n".join(format_findings(review.findings)) + "\n</code_review>")
    note = Message("user", text)
    session.history.append(note)
    if session.rollout is not None:
        session.rollout.record_item(note)
    app.say([app.paint("the findings are now part of the conversation: ask codex to fix them", "dim")])


async def _new(app: App, _argument: str) -> None:
    if app.refuse_while_busy("/new"):
        return
    await app.switch_session(None)


async def _resume(app: App, argument: str) -> None:
    if app.refuse_while_busy("/resume"):
        return
    if argument:
        await app.resume_by_id(argument)
    else:
        await app.pick_session()


async def _compact(app: App, _argument: str) -> None:
    if app.refuse_while_busy("/compact"):
        return
    app.start_compact()


async def _help(app: App, _argument: str) -> None:
    paint = app.paint
    lines = [paint("Commands", "bold")]
    lines += [f"  {paint(f'{name:<12}', 'cyan')}{text}" for name, text in COMMANDS]
    lines.append(paint("Keys", "bold"))
    lines += [f"  {paint(f'{key:<20}', 'cyan')}{text}" for key, text in KEYS_HELP]
    app.say(lines)


async def _quit(app: App, _argument: str) -> None:
    app.request_exit()


HANDLERS: dict[str, Handler] = {
    "/model": _model,
    "/approvals": _approvals,
    "/status": _status,
    "/diff": _diff,
    "/review": _review,
    "/new": _new,
    "/resume": _resume,
    "/compact": _compact,
    "/help": _help,
    "/quit": _quit,
    "/exit": _quit,
}
