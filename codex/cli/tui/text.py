"""Terminal text: cell widths, ANSI-aware fitting and wrapping, and the colour palette.

The live area at the bottom of the screen is redrawn by moving the cursor up over the rows it
drew last time, so every row must fit the terminal exactly: a row that the terminal wraps by
itself would leave a stale line behind. Everything that goes into the live area passes ``fit``
or ``wrap``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
RESET = "\x1b[0m"

_SGR = {
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "underline": "4",
    "reverse": "7",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def char_width(char: str) -> int:
    """Columns one code point takes: 0 for combining marks and controls, 2 for wide East Asian."""
    if char < " " or "\x7f" <= char < "\xa0":
        return 0
    if unicodedata.combining(char) or char == "\u200b":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_len(text: str) -> int:
    """Columns ``text`` (without escape sequences) takes."""
    if text.isascii():
        return sum(1 for c in text if c >= " " and c != "\x7f")
    return sum(char_width(c) for c in text)


def strip_ansi(text: str) -> str:
    """``text`` without escape sequences (for plain output and for tests)."""
    return ANSI_RE.sub("", text)


def visible_len(text: str) -> int:
    """Columns a line with escape sequences takes."""
    return cell_len(strip_ansi(text))


def fit(line: str, width: int, ellipsis: str = "…") -> str:
    """``line`` cut to ``width`` columns (escape sequences kept, an ellipsis marks the cut)."""
    if width <= 0:
        return ""
    if visible_len(line) <= width:
        return line
    budget = width - cell_len(ellipsis)
    out: list[str] = []
    used = 0
    styled = False
    position = 0
    for match in ANSI_RE.finditer(line):
        used, done = _take(line[position : match.start()], budget, used, out)
        if done:
            break
        out.append(match.group())
        styled = True
        position = match.end()
    else:
        _take(line[position:], budget, used, out)
    return "".join(out) + (RESET if styled else "") + ellipsis


def _take(chunk: str, budget: int, used: int, out: list[str]) -> tuple[int, bool]:
    for char in chunk:
        width = char_width(char)
        if used + width > budget:
            return used, True
        out.append(char)
        used += width
    return used, False


def wrap(text: str, width: int) -> list[str]:
    """Plain ``text`` wrapped at ``width`` columns: at spaces when possible, else mid-word."""
    if width <= 0:
        return [text]
    rows: list[str] = []
    for paragraph in text.split("\n"):
        row = ""
        row_width = 0
        for word in re.split(r"(?<= )", paragraph):
            word_width = cell_len(word)
            if row_width + cell_len(word.rstrip(" ")) <= width:
                row += word
                row_width += word_width
                continue
            if row:
                rows.append(row.rstrip(" "))
                row, row_width = "", 0
            while cell_len(word.rstrip(" ")) > width:
                head, word = _split_cells(word, width)
                rows.append(head)
            row, row_width = word, cell_len(word)
        rows.append(row.rstrip(" "))
    return rows


def wrap_choices(text: str, width: int, separator: str = " · ") -> list[str]:
    """A list of choices (``y yes · n no``) in rows of ``width`` cells, broken between choices."""
    rows: list[str] = []
    for choice in text.split(separator):
        if rows and cell_len(rows[-1] + separator + choice) <= width:
            rows[-1] += separator + choice
        else:
            rows += wrap(choice, width)
    return rows


def _split_cells(text: str, width: int) -> tuple[str, str]:
    used = 0
    for index, char in enumerate(text):
        used += char_width(char)
        if used > width:
            return text[:index], text[index:]
    return text, ""


def sanitize(text: str) -> str:
    """Text from outside (command output) without escape sequences or control characters.

    A carriage return inside a line (a progress bar redrawing itself) keeps what came after it.
    """
    text = ANSI_RE.sub("", text).replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(([part for part in line.split("\r") if part] or [""])[-1] for line in text.split("\n"))
    text = text.expandtabs(4)
    if text.replace("\n", "").isprintable():
        return text
    return "".join(c for c in text if c == "\n" or (c >= " " and c != "\x7f"))


def color_wanted(is_tty: bool, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, never with ``NO_COLOR`` set (any value) or ``TERM=dumb``."""
    env = os.environ if env is None else env
    return is_tty and "NO_COLOR" not in env and env.get("TERM", "") != "dumb"


class Palette:
    """Styles as SGR escape sequences, or plain text when colour is off.

    Only the 16 base colours plus bold and dim are used, so the terminal's own theme (light or
    dark) decides the actual shades and every style stays readable on both.
    """

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        """``text`` in ``styles`` (names from ``bold dim italic underline reverse`` and colours)."""
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_SGR[name] for name in styles)
        return f"\x1b[{codes}m{text}{RESET}"
