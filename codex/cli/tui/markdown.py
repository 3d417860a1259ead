"""The agent's Markdown: rendered with rich, committed to the scrollback block by block.

Text already printed above the live area cannot be changed, and Markdown is not line-local (a
paragraph re-flows as words arrive, a code fence changes everything after it). So a streaming
message is cut at block boundaries: a blank line outside a code fence, or a closing fence. The
finished blocks are rendered and committed; the unfinished last block is re-rendered in the live
area as it grows. Rich is imported on first use, never at start-up.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from typing import Any, ClassVar

from codex.cli.tui.text import strip_ansi

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def code_theme() -> str:
    """A syntax theme made of the terminal's own ANSI colours, light or dark by ``COLORFGBG``."""
    background = os.environ.get("COLORFGBG", "").rpartition(";")[2]
    light = background.isdigit() and int(background) in (7, 15)
    return "ansi_light" if light else "ansi_dark"


class MarkdownRenderer:
    """Markdown source -> terminal lines at a width, with or without colour."""

    def __init__(self, color: bool) -> None:
        self.color = color
        # Links file citations in each rendered row (``links.file_linker``, from file_opener).
        self.linker: Callable[[str], str] | None = None
        self._console: Any = None
        self._width = 0
        self._markdown_class: Any = None

    def _setup(self, width: int) -> None:
        if self._console is not None and self._width == width:
            return
        from rich.console import Console
        from rich.markdown import Heading, Markdown
        from rich.theme import Theme

        class LeftHeading(Heading):
            # rich centres level-1 headings (and before 14.3 boxes them in a panel); in a
            # transcript every block starts at the left edge, whatever rich's version.
            def __rich_console__(self, console: Any, options: Any) -> Any:
                text = self.text.copy()
                text.justify = "left"
                yield text

        class TranscriptMarkdown(Markdown):
            # rich 13.0-13.2 names the element "heading", later versions "heading_open".
            elements: ClassVar[dict[str, type[Any]]] = {
                **Markdown.elements,
                **{name: LeftHeading for name in ("heading", "heading_open") if name in Markdown.elements},
            }

        # No background colours: they turn into dark boxes on light terminal themes.
        theme = Theme({"markdown.code": "bold cyan", "markdown.code_block": "cyan", "markdown.h1": "bold underline"})
        self._console = Console(
            file=io.StringIO(),
            width=width,
            force_terminal=self.color,
            no_color=not self.color,
            color_system="standard" if self.color else None,
            highlight=False,
            emoji=False,
            theme=theme,
            legacy_windows=False,
            force_jupyter=False,
        )
        self._width = width
        self._markdown_class = TranscriptMarkdown

    def render(self, source: str, width: int) -> list[str]:
        """The rendered rows of ``source`` (trailing padding and blank rows removed)."""
        if not source.strip():
            return []
        self._setup(width)
        console = self._console
        console.file = io.StringIO()
        console.print(self._markdown_class(source, code_theme=code_theme(), hyperlinks=False))
        rows = [_rstrip_row(row) for row in console.file.getvalue().split("\n")]
        rows = [row if strip_ansi(row).strip() else "" for row in rows]
        while rows and not rows[-1]:
            rows.pop()
        while rows and not rows[0]:
            rows.pop(0)
        if self.linker is not None:
            rows = [self.linker(row) for row in rows]
        return rows


def _rstrip_row(row: str) -> str:
    # rich pads every row to the full width; the padding is spaces, possibly after a reset.
    stripped = row.rstrip(" ")
    while stripped.endswith("\x1b[0m") and stripped[:-4].endswith(" "):
        stripped = stripped[:-4].rstrip(" ") + "\x1b[0m"
    return stripped


class BlockScanner:
    """Finds where Markdown blocks end in a growing text, looking at each line once."""

    def __init__(self, start: int = 0) -> None:
        self.position = start  # start of the first line not yet seen whole
        self.boundary = start  # end of the last complete block
        self._fence: str | None = None

    def scan(self, source: str) -> int:
        """Read the complete lines added since the last call; the end of the last complete block."""
        position = self.position
        while True:
            newline = source.find("\n", position)
            if newline < 0:
                break
            line = source[position:newline]
            if self._fence is None:
                match = _FENCE_RE.match(line)
                if match:
                    self._fence = match.group(1)
                elif not line.strip():
                    self.boundary = newline + 1
            elif _closes(line, self._fence):
                self._fence = None
                self.boundary = newline + 1
            position = newline + 1
        self.position = position
        return self.boundary


def block_boundary(source: str, start: int = 0) -> int:
    """The end of the last complete Markdown block in ``source[start:]`` (``start`` if none).

    ``start`` must be outside a code fence. A block ends after a blank line outside a fence or
    after a fence's closing line, each only once its newline has arrived.
    """
    return BlockScanner(start).scan(source)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


class MarkdownStream:
    """One streaming message: deltas in, committed rows out, and the unfinished tail."""

    def __init__(self, render: Callable[[str], list[str]]) -> None:
        self._render = render
        self.source = ""
        self._committed = 0
        self._scanner = BlockScanner()
        self.blocks = 0

    @property
    def tail(self) -> str:
        """The unfinished block, shown in the live area."""
        return self.source[self._committed :]

    def push(self, delta: str) -> list[str]:
        """Add a delta; returns rows for the blocks it completed (possibly none)."""
        self.source += delta
        cut = self._scanner.scan(self.source)
        if cut <= self._committed:
            return []
        return self._commit(cut)

    def finish(self) -> list[str]:
        """The message is complete: rows for whatever is left."""
        return self._commit(len(self.source))

    def _commit(self, cut: int) -> list[str]:
        chunk = self.source[self._committed : cut]
        self._committed = cut
        rows = self._render(chunk)
        if not rows:
            return []
        if self.blocks:
            rows = ["", *rows]
        self.blocks += 1
        return rows
