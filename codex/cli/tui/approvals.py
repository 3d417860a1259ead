"""Approval questions: what is shown, which key means what, and the line that records the answer.

Nothing runs before the answer: the engine waits on the request until an ``ApprovalAnswer``
with its id arrives. A paste or an Alt-key is never taken as an answer, so text pasted while a
question appears cannot approve anything by accident.
"""

from __future__ import annotations

from codex import events as ev
from codex.cli.tui.editor import Editor
from codex.cli.tui.keys import Key
from codex.cli.tui.render import command_text, diff_lines
from codex.cli.tui.text import Palette, fit

APPROVAL_KEYS = "y yes · a yes, always this session · n no, tell codex why · q abort"
PLAIN_HINT = "answer: y (yes), a (yes for this session), n [message] (no), q (abort the turn)"
FEEDBACK = "feedback"  # the key meaning "no, and let me say why"


class ApprovalRequest:
    """An approval question waiting for the person; ``feedback`` holds the reason being typed."""

    def __init__(self, msg: ev.ExecApprovalRequest | ev.PatchApprovalRequest) -> None:
        self.msg = msg
        self.feedback: Editor | None = None

    @property
    def is_patch(self) -> bool:
        """True for a patch, False for a command."""
        return isinstance(self.msg, ev.PatchApprovalRequest)

    @property
    def question(self) -> str:
        """The one-line question of the live area; for a command, it says where it will run."""
        if isinstance(self.msg, ev.PatchApprovalRequest):
            return "Apply these changes?"
        return f"Run this command{placement_words(self.msg.sandboxed, ' ')}?"


def placement_words(sandboxed: bool | None, lead: str = "") -> str:
    """Where an approved command runs, as words after ``lead`` ("" when that does not apply)."""
    if sandboxed is None:
        return ""
    return lead + ("in the sandbox" if sandboxed else "outside the sandbox")


def request_lines(msg: ev.ExecApprovalRequest | ev.PatchApprovalRequest, paint: Palette, width: int,
                  *, plain: bool = False) -> list[str]:
    """What is asked, for the scrollback: the command (or the diff), where, and why."""
    if isinstance(msg, ev.ExecApprovalRequest):
        lines = [paint("▲ ", "yellow") + paint("codex wants to run a command", "bold")]
        lines += [paint("  $ ", "dim") + paint(row, "bold") for row in command_text(msg.command).splitlines()]
        lines.append(paint(f"  in {msg.cwd}", "dim"))
        if msg.sandboxed is not None:
            where = placement_words(msg.sandboxed)
            lines.append(paint("  runs ", "dim") + paint(where, "bold" if msg.sandboxed else "yellow"))
    else:
        lines = [paint("▲ ", "yellow") + paint("codex wants to change files", "bold")]
        lines += diff_lines(msg.diff, paint) if msg.diff else [f"  {path}" for path in msg.changes]
    if msg.reason:
        lines.append(fit(paint("  reason: ", "dim") + msg.reason, max(width, 20)))
    if plain:
        lines.append(PLAIN_HINT)
    return lines


def key_choice(key: Key) -> ev.ReviewDecision | str | None:
    """The decision a key stands for, ``FEEDBACK`` for n, None for keys that mean nothing here."""
    if key.name == "paste" or key.alt:
        return None
    choice = key.text.lower() if key.name == "char" else key.name
    if choice == "y":
        return ev.ReviewDecision.APPROVED
    if choice == "a":
        return ev.ReviewDecision.APPROVED_FOR_SESSION
    if choice == "n":
        return FEEDBACK
    if choice in ("q", "esc", "ctrl-c"):
        return ev.ReviewDecision.ABORT
    return None


def plain_answer(line: str) -> tuple[ev.ReviewDecision, str | None]:
    """An answer typed as a line (stdin is not a terminal): ``y``, ``a``, ``n [message]``, else abort."""
    choice, _, message = line.strip().partition(" ")
    choice = choice.lower()
    if choice in ("y", "yes"):
        return ev.ReviewDecision.APPROVED, None
    if choice in ("a", "always"):
        return ev.ReviewDecision.APPROVED_FOR_SESSION, None
    if choice in ("n", "no"):
        return ev.ReviewDecision.DENIED, message.strip() or None
    return ev.ReviewDecision.ABORT, None


def decision_line(request: ApprovalRequest, decision: ev.ReviewDecision, feedback: str | None,
                  paint: Palette) -> str:
    """The record of the answer that stays in the scrollback."""
    what = "the changes" if request.is_patch else "the command"
    where = "" if isinstance(request.msg, ev.PatchApprovalRequest) else placement_words(request.msg.sandboxed, " ")
    if decision is ev.ReviewDecision.APPROVED:
        return paint("✔ ", "green") + f"approved {what}{where}"
    if decision is ev.ReviewDecision.APPROVED_FOR_SESSION:
        return paint("✔ ", "green") + f"approved {what}{where}, and the same again for this session"
    if decision is ev.ReviewDecision.DENIED:
        return paint("✗ ", "red") + f"denied {what}" + (f"; told codex: {feedback}" if feedback else "")
    return paint("■ ", "red") + f"aborted the turn instead of running {what}"
