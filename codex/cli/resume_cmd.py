"""``codex resume [--last | ID] [PROMPT]``: reopen a recorded session in the interactive terminal.

Without ``--last`` or an ID, the terminal opens with a list of recent sessions to pick from.
The transcript of the chosen session is shown, and the conversation goes on where it stopped
(new items are appended to the same rollout file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click

from codex.cli.options import agent_options

EPILOG = """\b
Examples:
  codex resume                 pick one of the recent sessions
  codex resume --last          continue the most recent session
  codex resume 7f3c9a1e-...    continue the session with this id
  codex resume --last "now add tests for it"
"""

PREVIEW_CHARS = 60
_CONTEXT_PREFIXES = ("<environment_context>", "<user_instructions>", "<summary_of_earlier_conversation>")


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


@dataclass
class SessionSummary:
    """One recorded session, as the picker lists it."""

    path: Path
    session_id: str
    timestamp: str
    cwd: str
    preview: str


def list_sessions(codex_home: Path, limit: int = 20) -> list[SessionSummary]:
    """The most recent recorded sessions, newest first (unreadable files are skipped)."""
    root = codex_home / "sessions"
    if not root.is_dir():
        return []
    files = sorted(root.glob("*/*/*/rollout-*.jsonl"), key=lambda p: p.name, reverse=True)
    found: list[SessionSummary] = []
    for path in files:
        summary = _summarise(path)
        if summary is not None:
            found.append(summary)
        if len(found) >= limit:
            break
    return found


def _summarise(path: Path) -> SessionSummary | None:
    meta: dict[str, object] = {}
    preview = ""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle):
                if number > 200 or (meta and preview):
                    break
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if data.get("type") == "session_meta":
                    meta = data
                elif data.get("type") == "response_item" and not preview:
                    item = data.get("item") or {}
                    text = str(item.get("text") or "")
                    if item.get("role") == "user" and text.strip() and not text.lstrip().startswith(_CONTEXT_PREFIXES):
                        preview = " ".join(text.split())
    except OSError:
        return None
    if not meta.get("id"):
        return None
    if len(preview) > PREVIEW_CHARS:
        preview = preview[: PREVIEW_CHARS - 1] + "…"
    return SessionSummary(path, str(meta["id"]), str(meta.get("timestamp", "")), str(meta.get("cwd", "")), preview)
