"""File links in the answer: ``src/app.py:12`` opens in the editor that ``file_opener`` names.

A file the model cites (a path that exists, optionally with ``:line`` or ``:line:column``) is
wrapped in an OSC 8 hyperlink to the editor's URI (``vscode://file/ABS/PATH:LINE``), as the Rust
CLI does for citations. The visible text is unchanged: terminals without OSC 8 support show it as
it was, and widths (``text.visible_len``) skip the escape sequences.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from codex.cli.tui.text import ANSI_RE

# The editors the Rust CLI knows, by file_opener value: their URI scheme.
SCHEMES = {"vscode": "vscode", "vscode-insiders": "vscode-insiders", "windsurf": "windsurf", "cursor": "cursor"}

# A path with at least one dot or slash (so plain words are not looked up), then :line[:column].
_CITATION_RE = re.compile(
    r"(?<![\w/.~-])((?:~|\.{1,2})?/?(?:[\w.+@-]+/)*[\w.+@-]*[./][\w.+@-]*[\w+@-])(?::(\d+)(?::(\d+))?)?"
)


def osc8(uri: str, text: str) -> str:
    """``text`` as a terminal hyperlink to ``uri``."""
    return f"\x1b]8;;{uri}\x1b\\{text}\x1b]8;;\x1b\\"


def file_linker(file_opener: str, cwd: Path) -> Callable[[str], str] | None:
    """A function that links the file citations of one rendered row, or None for ``none``."""
    scheme = SCHEMES.get(file_opener)
    if scheme is None:
        return None
    seen: dict[str, Path | None] = {}

    def resolve(token: str) -> Path | None:
        if token not in seen:
            path = Path(os.path.expanduser(token))
            path = path if path.is_absolute() else cwd / path
            try:
                seen[token] = path.resolve() if path.is_file() else None
            except OSError:
                seen[token] = None
        return seen[token]

    def link_text(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            target = resolve(match.group(1))
            if target is None:
                return match.group(0)
            position = "".join(f":{n}" for n in match.groups()[1:] if n)
            return osc8(f"{scheme}://file{quote(str(target))}{position}", match.group(0))

        return _CITATION_RE.sub(replace, text)

    def link_row(row: str) -> str:
        # Only the text between escape sequences is searched: a citation never spans a style change.
        out: list[str] = []
        last = 0
        for escape in ANSI_RE.finditer(row):
            out.append(link_text(row[last : escape.start()]))
            out.append(escape.group(0))
            last = escape.end()
        out.append(link_text(row[last:]))
        return "".join(out)

    return link_row
