"""Where things stand in a TOML file's text: table headers and key/value statements, by line.

``codex config set`` adds a new key after the last key of its table. Left to tomlkit, where a
new key lands depends on how its current version attaches blank lines and comments to the items
around them (0.13 kept a comment that introduces the next table with that table; 0.15 hands it
to the table above). Deciding the place from the text itself makes it the same on every
tomlkit version: after the last key/value statement of the table, so a comment that introduces
the next table stays with it.

The scanner knows just enough TOML to tell statements apart: strings (all four kinds), comments,
and the brackets of multi-line arrays and inline tables. A header is a line that starts with
``[`` outside any value, since a TOML value never begins on a line of its own.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from codex.config.overrides import KeyPath


@dataclass(frozen=True, slots=True)
class Statement:
    """One header or key/value statement: its kind and the lines it spans (0-based, inclusive)."""

    kind: str  # "table", "array-table" or "key"
    first_line: int
    last_line: int


def scan_statements(text: str) -> list[Statement]:
    """The headers and key/value statements of ``text``, in order.

    Example::

        scan_statements('a = [\\n 1,\\n]\\n[t]\\n')
        # [Statement("key", 0, 2), Statement("table", 3, 3)]
    """
    statements: list[Statement] = []
    line = 0
    index = 0
    size = len(text)
    while index < size:
        # At the start of a line, outside any value.
        while index < size and text[index] in " \t\r":
            index += 1
        if index >= size:
            break
        char = text[index]
        if char == "\n":
            line += 1
            index += 1
            continue
        if char == "#":
            index = _end_of_line(text, index)
            continue
        if char == "[":
            kind = "array-table" if text.startswith("[[", index) else "table"
            statements.append(Statement(kind, line, line))
            index = _end_of_line(text, index)
            continue
        first = line
        index, line = _skip_key_statement(text, index, line)
        statements.append(Statement("key", first, line))
    return statements


def _end_of_line(text: str, index: int) -> int:
    """The index of the newline ending the line at ``index`` (or the end of the text)."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _skip_key_statement(text: str, index: int, line: int) -> tuple[int, int]:
    """Skip one key/value statement; return the index of its closing newline and its last line."""
    depth = 0
    size = len(text)
    while index < size:
        char = text[index]
        if char == "\n":
            if depth <= 0:
                return index, line
            line += 1
            index += 1
        elif char == "#":
            index = _end_of_line(text, index)
        elif char in "\"'":
            index, line = _skip_string(text, index, line)
        elif char in "[{":
            depth += 1
            index += 1
        elif char in "]}":
            depth -= 1
            index += 1
        else:
            index += 1
    return index, line


def _skip_string(text: str, index: int, line: int) -> tuple[int, int]:
    """Skip the string that starts at ``index``; return the index after it and the line it ends on."""
    quote = text[index]
    multi = text.startswith(quote * 3, index)
    delimiter = quote * 3 if multi else quote
    index += len(delimiter)
    size = len(text)
    while index < size:
        char = text[index]
        if char == "\\" and quote == '"':
            if index + 1 < size and text[index + 1] == "\n":
                line += 1
            index += 2
            continue
        if char == "\n":
            if not multi:
                return index, line  # an unterminated one-line string: the parser reports it
            line += 1
        if text.startswith(delimiter, index):
            index += len(delimiter)
            # Up to two quotes may stand right before a multi-line string's closing delimiter.
            extra = 0
            while multi and extra < 2 and index < size and text[index] == quote:
                index += 1
                extra += 1
            return index, line
        index += 1
    return index, line


def header_path(header_line: str) -> KeyPath | None:
    """The key path a ``[table]`` header line names, or None when it is not one."""
    try:
        data: Any = tomllib.loads(header_line.strip() + "\n")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(data, dict) and len(data) == 1:
        key, data = next(iter(data.items()))
        path.append(key)
    return tuple(path) if path and data == {} else None


def insertion_line(text: str, table: KeyPath) -> int | None:
    """The line before which a new key of ``table`` belongs, or None when the text has no
    header for ``table`` (a table made only of dotted keys or sub-tables).

    The place is right after the table's last key/value statement; in a table without keys,
    right after its header. New top-level keys of a file with no top-level keys go first.
    """
    statements = scan_statements(text)
    lines = text.split("\n")
    if table:
        start = None
        for position, statement in enumerate(statements):
            if statement.kind == "table" and header_path(lines[statement.first_line]) == tuple(table):
                start = position
                break
        if start is None:
            return None
        body = statements[start + 1 :]
        after = statements[start].last_line + 1
    else:
        body = statements
        after = 0
    for statement in body:
        if statement.kind != "key":
            break
        after = statement.last_line + 1
    return after


def insert_line(text: str, line_number: int, new_line: str) -> str:
    """``text`` with ``new_line`` inserted before line ``line_number``, in the file's line endings."""
    newline = "\r\n" if "\r\n" in text else "\n"
    parts = text.split("\n")  # not splitlines(): a string value may hold U+2028 and friends
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline  # the last line needs its ending once another follows it
    added = [new_line + newline]
    following = lines[line_number] if line_number < len(lines) else ""
    if line_number == 0 and following.strip():
        # A first top-level key above comments or tables gets a blank line after it.
        added.append(newline)
    return "".join(lines[:line_number] + added + lines[line_number:])
