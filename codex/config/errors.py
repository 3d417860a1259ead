"""Where a configuration value came from, and error messages that point there.

``locate_keys`` maps every key in a TOML text to its line and column so that a wrong value
reported by pydantic (which only knows the key path) can be shown as
``/home/me/.codex/config.toml:12:16: sandbox_mode: expected one of ...; got "workspace"``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.config.overrides import format_key_path, format_value

if TYPE_CHECKING:
    import tomllib

LocPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Source:
    """Where one value came from.

    ``label`` is the short form shown by ``codex config show`` (``config.toml:12``, ``-c``,
    ``profile fast``, ``--model``, ``plugin openai``); ``where`` is the precise form used at the
    start of an error message (``/home/me/.codex/config.toml:12:16``, ``-c model=``).
    """

    label: str
    where: str


DEFAULT = Source("default", "built-in default")


# --- locating keys in TOML text ------------------------------------------------------------


class _KeyLocator:
    """A forgiving scanner over TOML text that tomllib has already accepted.

    It does not validate anything; it only tracks table headers, dotted keys and value
    boundaries (strings, arrays, inline tables) well enough to know where each key starts.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.found: dict[LocPath, tuple[int, int]] = {}

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def record(self, path: LocPath, offset: int) -> None:
        where = self.line_col(offset)
        # Parents of a dotted key point at the first line that mentions them.
        for end in range(1, len(path)):
            self.found.setdefault(path[:end], where)
        self.found[path] = where

    def peek(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def skip_blank(self, *, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            parts.append(self.key_segment())
            self.skip_blank(newlines=False)
            if not self.peek("."):
                return tuple(parts)
            self.pos += 1

    def key_segment(self) -> str:
        text = self.text
        start = self.pos
        if text[start] == '"':
            import tomllib

            self.skip_basic_string()
            decoded: Any = tomllib.loads(f"k = {text[start:self.pos]}\n")["k"]
            return str(decoded)
        if text[start] == "'":
            end = text.index("'", start + 1)
            self.pos = end + 1
            return text[start + 1 : end]
        match = re.compile(r"[A-Za-z0-9_-]+").match(text, start)
        if match is None:
            raise ValueError(f"no key at offset {start}")
        self.pos = match.end()
        return match.group()

    def skip_basic_string(self) -> None:
        text = self.text
        self.pos += 1
        while text[self.pos] != '"':
            self.pos += 2 if text[self.pos] == "\\" else 1
        self.pos += 1

    def skip_multiline(self, quote: str) -> None:
        text = self.text
        self.pos += 3
        while not text.startswith(quote, self.pos):
            self.pos += 2 if quote == '"""' and text[self.pos] == "\\" else 1
        self.pos += 3
        # Up to two quotes right before the delimiter belong to the string's content.
        extra = 0
        while extra < 2 and self.pos < len(text) and text[self.pos] == quote[0]:
            self.pos += 1
            extra += 1

    def value(self, path: LocPath | None) -> None:
        text = self.text
        if self.peek('"""') or self.peek("'''"):
            self.skip_multiline(text[self.pos : self.pos + 3])
        elif self.peek('"'):
            self.skip_basic_string()
        elif self.peek("'"):
            self.pos = text.index("'", self.pos + 1) + 1
        elif self.peek("["):
            self.pos += 1
            index = 0
            while True:
                self.skip_blank(newlines=True)
                if self.peek("]"):
                    self.pos += 1
                    return
                if path is not None:
                    self.record((*path, index), self.pos)
                self.value(None if path is None else (*path, index))
                index += 1
                self.skip_blank(newlines=True)
                if self.peek(","):
                    self.pos += 1
        elif self.peek("{"):
            self.pos += 1
            while True:
                self.skip_blank(newlines=True)
                if self.peek("}"):
                    self.pos += 1
                    return
                keys = self.key()
                self.skip_blank(newlines=False)
                self.pos += 1  # the "="
                self.skip_blank(newlines=False)
                if path is not None:
                    self.record((*path, *keys), self.pos)
                self.value(None if path is None else (*path, *keys))
                self.skip_blank(newlines=True)
                if self.peek(","):
                    self.pos += 1
        else:
            # Numbers, booleans and dates (which may contain a space) end at a delimiter.
            match = re.compile(r"[^,\]}\r\n#]*").match(text, self.pos)
            self.pos = match.end() if match else len(text)

    def run(self) -> None:
        table: LocPath = ()
        array_counts: dict[LocPath, int] = {}
        text = self.text
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(text):
                return
            start = self.pos
            if self.peek("["):
                is_array = self.peek("[[")
                self.pos += 2 if is_array else 1
                keys = self.key()
                self.skip_blank(newlines=False)
                self.pos += 2 if is_array else 1
                if is_array:
                    index = array_counts.get(keys, 0)
                    array_counts[keys] = index + 1
                    table = (*keys, index)
                else:
                    table = keys
                self.record(table, start)
            else:
                keys = self.key()
                self.skip_blank(newlines=False)
                self.pos += 1  # the "="
                self.skip_blank(newlines=False)
                self.record((*table, *keys), self.pos)
                self.value((*table, *keys))


def locate_keys(text: str) -> dict[LocPath, tuple[int, int]]:
    """Map each key path in valid TOML ``text`` to the (line, column) of its value or header.

    Best effort: on text the scanner does not understand it returns what it found so far,
    and callers fall back to the nearest located parent.
    """
    import tomllib

    locator = _KeyLocator(text)
    try:
        locator.run()
    except (IndexError, ValueError, tomllib.TOMLDecodeError):
        pass
    return locator.found


def syntax_error_message(path: Path, text: str, error: tomllib.TOMLDecodeError) -> str:
    """``file:line:col: invalid TOML: reason``, then the offending line with a caret under it."""
    reason = str(error)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", reason)
    if match is None:
        end = re.search(r"\s*\(at end of document\)$", reason)
        lines = text.splitlines() or [""]
        if end is None:
            return f"{path}: invalid TOML: {reason}"
        line, col, reason = len(lines), len(lines[-1]) + 1, reason[: end.start()]
    else:
        line, col, reason = int(match.group(1)), int(match.group(2)), reason[: match.start()]
    lines = text.splitlines()
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    gutter = f"{line:>5} | "
    caret = " " * (len(gutter) - 2) + "| " + " " * (col - 1) + "^"
    return f"{path}:{line}:{col}: invalid TOML: {reason}\n{gutter}{shown}\n{caret}"


# --- pydantic errors as messages that teach ------------------------------------------------

_EXPECTATIONS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def describe_expectation(error: Mapping[str, Any]) -> str:
    """What a pydantic error says was allowed, in TOML's words."""
    kind = str(error.get("type", ""))
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        return "one of " + ", ".join(allowed)
    if kind in _EXPECTATIONS:
        return _EXPECTATIONS[kind]
    message = str(error.get("msg", "a valid value"))
    for prefix in ("Input should be ", "Value should be "):
        if message.startswith(prefix):
            rest = message[len(prefix) :]
            # "greater than or equal to 0" reads better as "a value greater than or equal to 0".
            return f"a value {rest}" if rest.startswith(("greater", "less")) else rest
    return message[:1].lower() + message[1:]


def validation_message(where: str, loc: LocPath, error: Mapping[str, Any]) -> str:
    """``where: key.path: expected X; got Y`` for one pydantic error."""
    got = error.get("input")
    got_text = format_value(got) if not isinstance(got, dict) else "a table"
    return f"{where}: {format_key_path(loc)}: expected {describe_expectation(error)}; got {got_text}"


def nearest(sources: dict[LocPath, Source], loc: LocPath) -> Source | None:
    """The source of ``loc`` or of its closest ancestor (list items share their list's line)."""
    for end in range(len(loc), 0, -1):
        found = sources.get(loc[:end])
        if found is not None:
            return found
    return None
