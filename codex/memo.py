"""Answers worth keeping between runs, in the user cache directory.

Some start-up work gives the same answer run after run for the same input: validating an
unchanged configuration, turning a tool's pydantic model into its JSON schema. Doing it needs
pydantic (~150 ms to import and build models on a small machine), which is most of what a
one-answer ``codex exec`` would otherwise spend. A ``Memo`` remembers such answers under a key
that names everything the answer depends on, so a changed input is simply a miss.

A memo is a cache, never a source of truth: a missing, corrupt or unwritable file only costs
the work it would have saved, and ``CODEX_CACHE=0`` turns every memo off.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Entries kept per memo: enough for a few configurations and tool sets, small enough to read fast.
DEFAULT_LIMIT = 64


def cache_dir() -> str:
    """Where codex keeps caches: the directory platformdirs' ``user_cache_dir("codex-py")`` names.

    Computed by hand because importing platformdirs costs more than most cached answers.
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg:
        return os.path.join(xdg, "codex-py")
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "codex-py")
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(local, "codex-py", "Cache")
    return os.path.join(home, ".cache", "codex-py")


def caching_enabled() -> bool:
    """False when ``CODEX_CACHE=0`` asks codex to recompute everything."""
    return os.environ.get("CODEX_CACHE", "1") not in ("0", "")


def file_stamp(path: str | None) -> str:
    """A key part that changes whenever the file at ``path`` does (size and modification time)."""
    if not path:
        return "-"
    try:
        info = os.stat(path)
    except OSError:
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns}"


_SHARED: dict[str, Memo] = {}


class Memo:
    """A small persistent map from string keys to JSON values, one file per name and environment.

    Example::

        memo = Memo("tool-schemas")
        schema = memo.get(key)
        if schema is None:
            schema = expensive(...)
            memo.put(key, schema)
    """

    def __init__(self, name: str, *, limit: int = DEFAULT_LIMIT) -> None:
        import zlib

        # Several virtualenvs share the user cache directory; each gets its own file.
        self.path = os.path.join(cache_dir(), f"{name}-{zlib.crc32(sys.prefix.encode()):08x}.json")
        self._limit = limit
        self._entries: dict[str, Any] | None = None

    @classmethod
    def shared(cls, name: str) -> Memo:
        """One instance per name and file in this process: its file is read once, not per use."""
        memo = cls(name)
        return _SHARED.setdefault(memo.path, memo)

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        if not caching_enabled():
            return None
        return self._load().get(key)

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON data) under ``key``, keeping only the newest ``limit`` entries."""
        if not caching_enabled():
            return
        entries = self._load()
        entries.pop(key, None)
        entries[key] = value
        while len(entries) > self._limit:
            del entries[next(iter(entries))]
        import json

        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(entries, handle, separators=(",", ":"))
            os.replace(tmp, self.path)
        except (OSError, TypeError, ValueError) as exc:
            if not isinstance(exc, OSError):
                entries.pop(key, None)  # not JSON (a date, say): remember nothing rather than break later puts
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            import json

            try:
                with open(self.path, encoding="utf-8") as handle:
                    loaded = json.load(handle)
            except (OSError, ValueError):
                loaded = None
            self._entries = loaded if isinstance(loaded, dict) else {}
        return self._entries
