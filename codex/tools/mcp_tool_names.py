"""Names under which MCP tools are offered to the model: ``<server>__<tool>``.

Model APIs accept function names matching ``[a-zA-Z0-9_-]{1,64}``, while MCP servers and tools
may be named anything. Every other character becomes ``_``; a name that is too long, or that
collides with another after sanitising, keeps a readable prefix and ends with a short hash of
the original pair, so the same configuration always yields the same names (a resumed session
still finds the tools its history mentions).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_NAME_LENGTH = 64
SEPARATOR = "__"
_HASH_LENGTH = 8
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def sanitize(text: str) -> str:
    """Replace every character a model API refuses in a function name with ``_``."""
    return _UNSAFE.sub("_", text) or "_"


def _digest(server: str, tool: str, length: int) -> str:
    # NUL cannot occur in either name, so ("a_", "b") and ("a", "_b") hash differently.
    return hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:length]


def _with_hash(base: str, server: str, tool: str, length: int = _HASH_LENGTH) -> str:
    suffix = "_" + _digest(server, tool, length)
    return base[: MAX_NAME_LENGTH - len(suffix)] + suffix


def qualified_tool_names(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Map each ``(server, tool)`` pair to a unique model-safe name.

    >>> qualified_tool_names([("files", "read"), ("my.server", "do it")])
    {('files', 'read'): 'files__read', ('my.server', 'do it'): 'my_server__do_it'}
    """
    ordered = sorted(set(pairs))
    plain = {pair: sanitize(f"{pair[0]}{SEPARATOR}{pair[1]}") for pair in ordered}
    # A plain name shared by two pairs gives neither an advantage: both get a hash.
    counts: dict[str, int] = {}
    for name in plain.values():
        counts[name] = counts.get(name, 0) + 1
    names: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for pair in ordered:
        name = plain[pair]
        if len(name) > MAX_NAME_LENGTH or counts[name] > 1:
            name = _with_hash(name, *pair)
        length = _HASH_LENGTH
        while name in taken:  # a hash prefix collision: astronomically rare, still handled
            length += 4
            name = _with_hash(plain[pair], *pair, length=length)
        taken.add(name)
        names[pair] = name
    return names
