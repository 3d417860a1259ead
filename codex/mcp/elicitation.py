"""Approvals as MCP elicitations: the request codex sends, and the answers it accepts.

The request is a standard form elicitation (a ``decision`` enum in ``requestedSchema``, so any
client that renders forms can answer it) that also carries the Rust peer's ``codex_*`` fields,
so clients written for the peer keep working. Answers come in two shapes, both accepted:

- the peer's: ``{"decision": "approved"}``
- the standard one: ``{"action": "accept" | "decline" | "cancel", "content": {"decision": ...}}``
  where accept without a decision means approved, decline denied, and cancel abort.

Anything else is a denial: an answer codex cannot read must never run a command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codex.events import ExecApprovalRequest, PatchApprovalRequest, ReviewDecision

DECISIONS: tuple[str, ...] = tuple(d.value for d in ReviewDecision)
DECISION_TITLES: dict[str, str] = {
    "approved": "Yes, run it",
    "approved_for_session": "Yes, and don't ask again this session",
    "denied": "No, and tell the model to do something else",
    "abort": "No, and stop this turn",
}

REQUESTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "decision": {
            "type": "string",
            "title": "Decision",
            "description": "approved, approved_for_session, denied, or abort (stop the turn).",
            "enum": list(DECISIONS),
            "enumNames": [DECISION_TITLES[d] for d in DECISIONS],
        }
    },
    # Not required: a client that can only say "accept" approves; decline and cancel still work.
    "required": [],
}


def _shell_words(command: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(word) for word in command)


def exec_elicitation(
    msg: ExecApprovalRequest, *, tool_call_id: str | int, event_id: str
) -> dict[str, Any]:
    """``elicitation/create`` params asking whether a command may run."""
    where = {True: ", inside the sandbox", False: ", outside the sandbox", None: ""}[msg.sandboxed]
    message = f"Allow Codex to run `{_shell_words(msg.command)}` in {msg.cwd}{where}?"
    if msg.reason:
        message += f"\nReason: {msg.reason}"
    params: dict[str, Any] = {
        "message": message,
        "requestedSchema": REQUESTED_SCHEMA,
        "codex_elicitation": "exec-approval",
        "codex_mcp_tool_call_id": str(tool_call_id),
        "codex_event_id": event_id,
        "codex_call_id": msg.call_id,
        "codex_command": list(msg.command),
        "codex_cwd": msg.cwd,
    }
    if msg.reason:
        params["codex_reason"] = msg.reason
    if msg.sandboxed is not None:
        params["codex_sandboxed"] = msg.sandboxed  # ours: where the approved command will run
    return params


def _change_lines(changes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    marks = {"add": "A", "delete": "D", "update": "M"}
    lines = []
    for path, change in changes.items():
        kind = str(change.get("type") or change.get("kind") or "update")
        target = change.get("move_path")
        arrow = f" -> {target}" if target else ""
        lines.append(f"  {marks.get(kind, 'M')} {path}{arrow}")
    return lines


def patch_elicitation(
    msg: PatchApprovalRequest, *, tool_call_id: str | int, event_id: str
) -> dict[str, Any]:
    """``elicitation/create`` params asking whether a patch may be applied."""
    message = "Allow Codex to apply these changes?"
    if msg.reason:
        message += f"\nReason: {msg.reason}"
    message += "\n" + "\n".join(_change_lines(msg.changes))
    params: dict[str, Any] = {
        "message": message,
        "requestedSchema": REQUESTED_SCHEMA,
        "codex_elicitation": "patch-approval",
        "codex_mcp_tool_call_id": str(tool_call_id),
        "codex_event_id": event_id,
        "codex_call_id": msg.call_id,
        "codex_changes": msg.changes,
    }
    if msg.reason:
        params["codex_reason"] = msg.reason
    return params


def decision_from_answer(answer: Any) -> tuple[ReviewDecision, str | None]:
    """Read a client's answer; returns the decision and, for a denial codex chose, why.

    >>> decision_from_answer({"decision": "approved"})[0].value
    'approved'
    >>> decision_from_answer({"action": "accept", "content": {}})[0].value
    'approved'
    >>> decision_from_answer({"action": "cancel"})[0].value
    'abort'
    """
    if not isinstance(answer, Mapping):
        return ReviewDecision.DENIED, "the approval answer was not an object"
    if "decision" in answer and "action" not in answer:
        return _named(answer.get("decision"))
    action = answer.get("action")
    if action == "accept":
        content = answer.get("content")
        if isinstance(content, Mapping) and content.get("decision") is not None:
            return _named(content.get("decision"))
        return ReviewDecision.APPROVED, None
    if action == "decline":
        return ReviewDecision.DENIED, None
    if action == "cancel":
        return ReviewDecision.ABORT, None
    return ReviewDecision.DENIED, f"unreadable approval answer {_short(answer)}"


def _named(value: Any) -> tuple[ReviewDecision, str | None]:
    if isinstance(value, str) and value in DECISIONS:
        return ReviewDecision(value), None
    return ReviewDecision.DENIED, f"unknown decision {_short(value)}; expected one of {', '.join(DECISIONS)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
