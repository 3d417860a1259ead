"""Sessions on disk: one JSONL file per session, appended and flushed line by line.

``CODEX_HOME/sessions/YYYY/MM/DD/rollout-<timestamp>-<id>.jsonl``: a meta line, then every
conversation item as it happens. A process killed mid-turn leaves a file that still resumes: a
torn last line is skipped, and a tool call whose output never arrived gets one saying so.
A compaction adds a ``compacted`` line holding the summary and the history that replaced the
conversation; resuming starts from that history (and the items recorded after it), while the
lines before it keep every original item, full tool outputs included, for the person.
``list_sessions`` summarises the recent files for any face that offers a choice of sessions.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from codex.errors import CodexError
from codex.private import FILE_MODE, make_private_dirs
from codex.protocol import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    InputItem,
    item_from_dict,
    item_to_dict,
)

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class RolloutRecorder:
    """Appends one session's items to its file."""

    def __init__(self, path: Path, handle: TextIO) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def create(cls, codex_home: Path, session_id: str, meta: dict[str, Any]) -> RolloutRecorder:
        now = time.gmtime()
        directory = codex_home / "sessions" / time.strftime("%Y/%m/%d", now)
        # Rollouts hold prompts, command output and file contents: only the user may read them.
        make_private_dirs(directory)
        path = directory / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', now)}-{session_id}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, FILE_MODE)
        if os.fstat(fd).st_mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, FILE_MODE)
        recorder = cls(path, os.fdopen(fd, "a", encoding="utf-8"))
        recorder._write({"type": "session_meta", "id": session_id, "timestamp": _iso(now), **meta})
        return recorder

    @classmethod
    def reopen(cls, path: Path) -> RolloutRecorder:
        """Continue appending to an existing session file (resume)."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        with open(path, "rb") as existing:
            existing.seek(0, os.SEEK_END)
            ends_cleanly = existing.tell() == 0 or (existing.seek(-1, os.SEEK_END), existing.read(1))[1] == b"\n"
        handle = os.fdopen(fd, "a", encoding="utf-8")
        if not ends_cleanly:
            handle.write("\n")  # isolate the torn line a crash left behind
        return cls(path, handle)

    def record_item(self, item: InputItem) -> None:
        self._write({"type": "response_item", "item": item_to_dict(item)})

    def record_compaction(self, summary: str, replacement: list[InputItem], reason: str) -> None:
        """The conversation was replaced by ``replacement`` (a summary of it): resume starts there."""
        self._write(
            {
                "type": "compacted",
                "reason": reason,
                "summary": summary,
                "replacement_history": [item_to_dict(item) for item in replacement],
            }
        )

    def _write(self, line: dict[str, Any]) -> None:
        self._handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


@dataclass
class SavedSession:
    """What a rollout file holds."""

    path: Path
    session_id: str
    meta: dict[str, Any]
    items: list[InputItem]


def read_session(path: Path) -> SavedSession:
    """Load a rollout file, tolerating a torn last line and unanswered tool calls."""
    meta: dict[str, Any] = {}
    items: list[InputItem] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise CodexError(f"cannot read session file {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # a write cut short by a crash; everything before it is intact
        kind = data.get("type")
        if kind == "session_meta":
            meta = data
        elif kind == "response_item":
            try:
                items.append(item_from_dict(data["item"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise CodexError(f"{path}:{number}: unreadable item: {exc}") from None
        elif kind == "compacted":
            try:
                items = [item_from_dict(entry) for entry in data["replacement_history"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise CodexError(f"{path}:{number}: unreadable compaction: {exc}") from None
    if not meta.get("id"):
        raise CodexError(f"{path} is not a codex session file (no session_meta line)")
    return SavedSession(path, str(meta["id"]), meta, _close_dangling_calls(items))


def _close_dangling_calls(items: list[InputItem]) -> list[InputItem]:
    answered = {i.call_id for i in items if isinstance(i, FunctionCallOutput | CustomToolCallOutput)}
    fixed: list[InputItem] = []
    for item in items:
        fixed.append(item)
        if isinstance(item, FunctionCall) and item.call_id not in answered:
            fixed.append(FunctionCallOutput(item.call_id, "error: the session ended before this call finished", False))
        elif isinstance(item, CustomToolCall) and item.call_id not in answered:
            fixed.append(CustomToolCallOutput(item.call_id, "error: the session ended before this call finished"))
    return fixed


def find_session(codex_home: Path, session_id: str | None = None) -> Path:
    """The newest session file, or the one whose name ends with ``session_id``."""
    root = codex_home / "sessions"
    files = sorted(root.glob("*/*/*/rollout-*.jsonl")) if root.is_dir() else []
    if session_id is None:
        if not files:
            raise CodexError(f"no recorded sessions under {root}; start one with `codex exec`")
        return max(files, key=lambda p: (p.name[8:27], p.stat().st_mtime))
    matches = [f for f in files if f.stem.endswith(session_id)]
    if not matches:
        raise CodexError(f"no session with id {session_id!r} under {root}")
    return matches[-1]


PREVIEW_CHARS = 60
# Items codex adds before the person's first words; a preview of them would look the same for every session.
_CONTEXT_PREFIXES = (
    "<environment_context>", "<user_instructions>", "<summary_of_earlier_conversation>", "<current_plan>"
)


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


def _iso(moment: time.struct_time) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)
