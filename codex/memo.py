"""Verdicts worth keeping between runs, in the user cache directory.

Validating an unchanged configuration needs pydantic (~150 ms to import and build models on a
small machine), most of what a one-answer ``codex exec`` would otherwise spend. A ``Memo``
remembers *that* such a check passed, under a key that digests the full input and the checking
code, so a changed input is simply a miss.

A sandboxed command may be able to write the cache directory, so a memo never supplies a value
codex acts on: a forged entry can only claim that an exact input, which codex has in hand, was
checked before. No secret is ever stored (keys are digests, values ``True``). Files are 0600 in
a 0700 directory, written atomically without following symlinks (``codex.private``); a
missing, corrupt, foreign or unwritable file only costs the work it would have saved, and
``CODEX_CACHE=0`` turns every cache off: nothing is read or written under the cache directory.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Entries kept per memo: enough for a few configurations and tool sets, small enough to read fast.
DEFAULT_LIMIT = 64


def cache_dir() -> str:
    """Where codex keeps caches: platformdirs' user cache directory for ``codex-py``
    (``$XDG_CACHE_HOME/codex-py`` or ``~/.cache/codex-py`` on Linux)."""
    from platformdirs import user_cache_dir

    return user_cache_dir("codex-py", appauthor=False)


def caching_enabled() -> bool:
    """False when ``CODEX_CACHE=0`` asks codex to recompute everything."""
    return os.environ.get("CODEX_CACHE", "1") not in ("0", "")


def file_digest(path: str | None) -> str:
    """A key part naming the exact content of the file at ``path`` (``-`` when unreadable)."""
    if not path:
        return "-"
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return "-"


def prepare_cache_dir() -> str:
    """The cache directory, created 0700 (and narrowed to 0700 if an older codex left it wider).

    Raises OSError when it cannot be created, or is a symbolic link.
    """
    from codex.private import make_private_dirs, narrow_directory

    directory = cache_dir()
    if os.path.islink(directory):
        # Planted by someone who could write its parent: writing there would go where they chose.
        raise OSError(f"{directory} is a symbolic link; codex does not cache through it")
    make_private_dirs(directory)
    narrow_directory(directory)
    return directory


# Memos of earlier versions that held values (parsed config.toml, secrets included, entry points,
# tool schemas): removed when a memo is next written, since they were created world-readable.
_RETIRED = ("config-parsed-", "entry-points-", "tool-schemas-", "config-checked-")


def _remove_retired(directory: str) -> None:
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(_RETIRED) and name.endswith(".json"):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


_SHARED: dict[str, Memo] = {}


class Memo:
    """A small persistent map from digests to JSON values, one file per name and environment.

    Store verdicts (``True``), never values codex would act on, and never secrets: the file may
    have been written by anyone who can write the cache directory.

    Example::

        memo = Memo("config-verdicts")
        key = hashlib.sha256(exact_input).hexdigest()
        if memo.get(key) is None:
            check(exact_input)  # raises when it does not pass
            memo.put(key, True)
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

        try:
            data = json.dumps(entries, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError):
            entries.pop(key, None)  # not JSON (a date, say): remember nothing rather than break later puts
            return
        try:
            from codex.private import write_private_file

            _remove_retired(prepare_cache_dir())
            write_private_file(self.path, data)
        except OSError:
            pass  # an unwritable cache only costs the next run the work

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            import json

            from codex.private import read_private_file

            raw = read_private_file(self.path)
            try:
                loaded = json.loads(raw) if raw is not None else None
            except ValueError:
                loaded = None
            self._entries = loaded if isinstance(loaded, dict) else {}
        return self._entries
