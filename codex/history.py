"""The prompt history: ``CODEX_HOME/history.jsonl``, shared by every interactive session.

One JSON object per line, the same shape the Rust peer writes, so both programs can share the
file: ``{"session_id": "...", "ts": 1700000000, "text": "what the person typed"}``. The file is
created with mode 0600 (prompts can hold secrets) and a wider mode found on an existing file is
narrowed. Appends take an advisory lock so two sessions never interleave half-lines;
``[history] max_bytes`` trims the oldest entries; ``[history] persistence = "none"`` turns the
file off entirely (nothing is read or written).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codex.private import FILE_MODE, make_private_dirs

FILE_NAME = "history.jsonl"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # a symlink planted at the name is refused, not followed


class PromptHistory:
    """Reads and appends the history file (or does nothing when persistence is off)."""

    def __init__(self, path: Path, *, enabled: bool = True, max_bytes: int | None = None) -> None:
        self.path = path
        self.enabled = enabled
        self.max_bytes = max_bytes

    @classmethod
    def for_home(cls, codex_home: Path, persistence: str = "save-all", max_bytes: int | None = None) -> PromptHistory:
        """The history of ``codex_home`` with the ``[history]`` settings applied."""
        return cls(codex_home / FILE_NAME, enabled=persistence != "none", max_bytes=max_bytes)

    def load(self) -> list[str]:
        """Every saved prompt, oldest first; unreadable lines are skipped, never fatal."""
        if not self.enabled:
            return []
        try:
            raw = self.path.read_bytes()
        except OSError:
            return []
        texts: list[str] = []
        for line in raw.decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("text"), str):
                texts.append(entry["text"])
        return texts

    def append(self, session_id: str, text: str) -> None:
        """Add one prompt. Failures to write are reported as OSError for the caller to show."""
        if not self.enabled or not text.strip():
            return
        line = json.dumps({"session_id": session_id, "ts": int(time.time()), "text": text}, ensure_ascii=False)
        data = (line + "\n").encode("utf-8")
        make_private_dirs(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, FILE_MODE)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, FILE_MODE)
            with _locked(fd):
                os.write(fd, data)
                if self.max_bytes is not None and os.fstat(fd).st_size > self.max_bytes:
                    self._trim()
        finally:
            os.close(fd)

    def _trim(self) -> None:
        """Keep the newest whole lines that fit ``max_bytes``; written to a new file, then renamed."""
        assert self.max_bytes is not None
        lines = self.path.read_bytes().splitlines(keepends=True)
        kept: list[bytes] = []
        size = 0
        for line in reversed(lines):
            if size + len(line) > self.max_bytes:
                break
            kept.append(line)
            size += len(line)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, FILE_MODE)
        try:
            os.write(fd, b"".join(reversed(kept)))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: appends of one short line are atomic enough there
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
