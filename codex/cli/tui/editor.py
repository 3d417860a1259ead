"""The input box: a multi-line buffer with Emacs-style keys, history and Tab completion.

Pure logic, no terminal: ``Editor.handle(key)`` changes the buffer and says what the app must do
(send the text, interrupt, quit...), and ``layout`` turns the buffer into screen rows with the
cursor position. Enter sends; Ctrl-J, Alt-Enter or Shift-Enter (where the terminal reports it)
insert a newline; a paste is inserted as it is, newlines included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from codex.cli.tui.keys import Key
from codex.cli.tui.text import cell_len, char_width

MAX_SUGGESTIONS = 8


class InputBuffer:
    """Text plus a cursor (an index into the text)."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.cursor = len(text)

    def set(self, text: str, cursor: int | None = None) -> None:
        """Replace the text; the cursor goes to the end unless given."""
        self.text = text
        self.cursor = len(text) if cursor is None else max(0, min(cursor, len(text)))

    def insert(self, text: str) -> None:
        """Insert at the cursor."""
        self.text = self.text[: self.cursor] + text + self.text[self.cursor :]
        self.cursor += len(text)

    def backspace(self) -> None:
        """Delete the character before the cursor."""
        if self.cursor:
            self.text = self.text[: self.cursor - 1] + self.text[self.cursor :]
            self.cursor -= 1

    def delete(self) -> None:
        """Delete the character under the cursor."""
        self.text = self.text[: self.cursor] + self.text[self.cursor + 1 :]

    def _line_bounds(self) -> tuple[int, int]:
        start = self.text.rfind("\n", 0, self.cursor) + 1
        end = self.text.find("\n", self.cursor)
        return start, len(self.text) if end < 0 else end

    def home(self) -> None:
        """Start of the current line."""
        self.cursor = self._line_bounds()[0]

    def end(self) -> None:
        """End of the current line."""
        self.cursor = self._line_bounds()[1]

    def on_first_line(self) -> bool:
        """True when Up would leave the text (and so walks the history)."""
        return "\n" not in self.text[: self.cursor]

    def on_last_line(self) -> bool:
        """True when Down would leave the text."""
        return "\n" not in self.text[self.cursor :]

    def up(self) -> None:
        """The same column on the previous line (or its end)."""
        start, _ = self._line_bounds()
        if start == 0:
            return
        column = self.cursor - start
        previous_start = self.text.rfind("\n", 0, start - 1) + 1
        self.cursor = min(previous_start + column, start - 1)

    def down(self) -> None:
        """The same column on the next line (or its end)."""
        start, end = self._line_bounds()
        if end >= len(self.text):
            return
        column = self.cursor - start
        next_end = self.text.find("\n", end + 1)
        next_end = len(self.text) if next_end < 0 else next_end
        self.cursor = min(end + 1 + column, next_end)

    def word_left(self) -> None:
        """Back to the start of the previous word."""
        index = self.cursor
        while index and not self.text[index - 1].isalnum():
            index -= 1
        while index and self.text[index - 1].isalnum():
            index -= 1
        self.cursor = index

    def word_right(self) -> None:
        """Forward past the end of the next word."""
        index, length = self.cursor, len(self.text)
        while index < length and not self.text[index].isalnum():
            index += 1
        while index < length and self.text[index].isalnum():
            index += 1
        self.cursor = index

    def delete_word_back(self) -> None:
        """Delete from the start of the previous whitespace-separated word to the cursor."""
        index = self.cursor
        while index and self.text[index - 1] in " \t":
            index -= 1
        while index and self.text[index - 1] not in " \t\n":
            index -= 1
        self.text = self.text[:index] + self.text[self.cursor :]
        self.cursor = index

    def kill_to_end(self) -> None:
        """Delete to the end of the line (joining the next line when already there)."""
        _, end = self._line_bounds()
        end = end + 1 if end == self.cursor and end < len(self.text) else end
        self.text = self.text[: self.cursor] + self.text[end:]

    def kill_to_start(self) -> None:
        """Delete from the start of the line to the cursor."""
        start, _ = self._line_bounds()
        start = start - 1 if start == self.cursor and start > 0 else start
        self.text = self.text[:start] + self.text[self.cursor :]
        self.cursor = start


class History:
    """Earlier inputs for Up/Down, newest last; the text being typed is kept as a draft."""

    def __init__(self, entries: Sequence[str] = ()) -> None:
        self.entries: list[str] = []
        for entry in entries:
            self.add(entry)
        self._index = len(self.entries)
        self._draft = ""

    def add(self, text: str) -> None:
        """Remember ``text`` (not twice in a row) and go back to the draft position."""
        if text.strip() and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
        self._index = len(self.entries)

    def prepend(self, older: Sequence[str]) -> None:
        """Add entries older than every known one (the saved history, read after start-up)."""
        kept = [entry for entry in older if entry.strip()]
        self.entries[:0] = kept
        self._index += len(kept)

    def previous(self, current: str) -> str | None:
        """The entry before the current one, or None at the oldest."""
        if self._index == 0:
            return None
        if self._index == len(self.entries):
            self._draft = current
        self._index -= 1
        return self.entries[self._index]

    def next(self) -> str | None:
        """The entry after the current one (the draft after the newest), or None at the draft."""
        if self._index >= len(self.entries):
            return None
        self._index += 1
        return self._draft if self._index == len(self.entries) else self.entries[self._index]


@dataclass
class Suggestions:
    """Completion candidates for the word at the cursor (``start``..``end`` in the text)."""

    start: int
    end: int
    items: list[tuple[str, str]] = field(default_factory=list)  # (replacement, description)


class Completer:
    """Tab completion: ``/commands`` at the start of the input, ``@paths`` anywhere."""

    def __init__(self, commands: Sequence[tuple[str, str]], files: Callable[[], Sequence[str]]) -> None:
        self.commands = list(commands)
        self.files = files

    def suggest(self, text: str, cursor: int) -> Suggestions | None:
        """Candidates for the word ending at the cursor, or None when it is not completable."""
        start = cursor
        while start and not text[start - 1].isspace():
            start -= 1
        word = text[start:cursor]
        if word.startswith("/") and start == 0 and "\n" not in text:
            items = [(name, help_text) for name, help_text in self.commands if name.startswith(word)]
            return Suggestions(start, cursor, items)
        if word.startswith("@"):
            return Suggestions(start, cursor, [("@" + path, "") for path in self._match_files(word[1:])])
        return None

    def _match_files(self, query: str) -> list[str]:
        files = self.files()
        lowered = query.lower()
        prefix = [f for f in files if f.lower().startswith(lowered)]
        contains = [f for f in files if lowered in f.lower() and not f.lower().startswith(lowered)]
        by_name = [f for f in contains if os.path.basename(f).lower().startswith(lowered)]
        rest = [f for f in contains if f not in by_name]
        return (prefix + by_name + rest)[:200]


class Editor:
    """The input box: buffer, history and completion behind one ``handle(key)``.

    ``handle`` returns what the app must do: ``submit`` (Enter), ``interrupt`` (Ctrl-C),
    ``eof`` (Ctrl-D on an empty box), ``esc``, or None when the key only edited the text.
    """

    def __init__(self, history: History | None = None, completer: Completer | None = None) -> None:
        self.buffer = InputBuffer()
        self.history = history or History()
        self.completer = completer
        self.suggestions: Suggestions | None = None

    @property
    def text(self) -> str:
        """The text being edited."""
        return self.buffer.text

    def take(self) -> str:
        """Empty the box and return what it held."""
        text = self.buffer.text
        self.buffer.set("")
        self.suggestions = None
        return text

    def handle(self, key: Key) -> str | None:
        """Apply ``key``; return the app-level action it stands for, if any."""
        action = self._apply(key)
        if action is None and key.name not in ("tab", "up", "down"):
            self._refresh_suggestions()
        return action

    def _apply(self, key: Key) -> str | None:
        buf = self.buffer
        name = key.name
        if name == "char":
            if key.alt:
                self._alt(key.text)
            else:
                buf.insert(key.text)
        elif name == "paste":
            buf.insert(key.text)
        elif name == "enter":
            if self.suggestions and self.suggestions.items and self._accept_suggestion_on_enter():
                return None
            return "submit"
        elif name == "newline":
            buf.insert("\n")
        elif name == "tab":
            self._complete()
        elif name in ("backspace", "ctrl-h"):
            buf.delete_word_back() if key.alt else buf.backspace()
        elif name == "delete":
            buf.delete()
        elif name in ("left", "ctrl-b"):
            buf.word_left() if key.ctrl or key.alt else self._move(-1)
        elif name in ("right", "ctrl-f"):
            buf.word_right() if key.ctrl or key.alt else self._move(1)
        elif name in ("home", "ctrl-a"):
            buf.home()
        elif name in ("end", "ctrl-e"):
            buf.end()
        elif name in ("up", "ctrl-p"):
            self._up()
        elif name in ("down", "ctrl-n"):
            self._down()
        elif name == "ctrl-k":
            buf.kill_to_end()
        elif name == "ctrl-u":
            buf.kill_to_start()
        elif name == "ctrl-w":
            buf.delete_word_back()
        elif name == "ctrl-c":
            return "interrupt"
        elif name == "ctrl-d":
            if not buf.text:
                return "eof"
            buf.delete()
        elif name == "esc":
            if self.suggestions and self.suggestions.items:
                self.suggestions = None
                return None
            return "esc"
        elif name == "ctrl-l":
            return "redraw"
        return None

    def _alt(self, char: str) -> None:
        if char == "b":
            self.buffer.word_left()
        elif char == "f":
            self.buffer.word_right()
        elif char == "d":
            start = self.buffer.cursor
            self.buffer.word_right()
            self.buffer.text = self.buffer.text[:start] + self.buffer.text[self.buffer.cursor :]
            self.buffer.cursor = start

    def _move(self, delta: int) -> None:
        self.buffer.cursor = max(0, min(len(self.buffer.text), self.buffer.cursor + delta))

    def _up(self) -> None:
        if self.suggestions and self.suggestions.items:
            self.suggestions.items.insert(0, self.suggestions.items.pop())
            return
        if not self.buffer.on_first_line():
            self.buffer.up()
            return
        entry = self.history.previous(self.buffer.text)
        if entry is not None:
            self.buffer.set(entry)

    def _down(self) -> None:
        if self.suggestions and self.suggestions.items:
            self.suggestions.items.append(self.suggestions.items.pop(0))
            return
        if not self.buffer.on_last_line():
            self.buffer.down()
            return
        entry = self.history.next()
        if entry is not None:
            self.buffer.set(entry)

    def _refresh_suggestions(self) -> None:
        if self.completer is None:
            return
        self.suggestions = self.completer.suggest(self.buffer.text, self.buffer.cursor)

    def _replace_word(self, start: int, end: int, replacement: str) -> None:
        text = self.buffer.text
        self.buffer.set(text[:start] + replacement + text[end:], start + len(replacement))

    def _complete(self) -> None:
        """Tab takes the highlighted candidate (Up/Down move the highlight)."""
        if self.completer is None:
            return
        found = self.completer.suggest(self.buffer.text, self.buffer.cursor)
        if found is None or not found.items:
            self.suggestions = found
            return
        shown = self.suggestions
        same_word = shown is not None and shown.items and (shown.start, shown.end) == (found.start, found.end)
        choice = shown.items[0][0] if same_word and shown is not None else found.items[0][0]
        self._replace_word(found.start, found.end, choice + " ")
        self.suggestions = None

    def _accept_suggestion_on_enter(self) -> bool:
        """Enter on an ``@path`` word completes it first; a command name is simply sent."""
        assert self.suggestions is not None
        word = self.buffer.text[self.suggestions.start : self.suggestions.end]
        if not word.startswith("@"):
            return False
        choice = self.suggestions.items[0][0]
        if choice == word:
            return False
        self._replace_word(self.suggestions.start, self.suggestions.end, choice + " ")
        self.suggestions = None
        return True


@dataclass
class Layout:
    """The input box as screen rows; the cursor is at (``cursor_row``, ``cursor_col``)."""

    rows: list[str]
    cursor_row: int
    cursor_col: int


def layout(text: str, cursor: int, width: int, prompt: str, prompt_width: int, indent: str = "") -> Layout:
    """Wrap ``text`` behind ``prompt`` (continuation rows behind ``indent``) at ``width`` columns.

    ``prompt`` may carry escape sequences, so its width is passed in. The cursor sits before the
    character at index ``cursor``; at the very end of a full row it moves to a fresh row, as a
    terminal would put it.
    """
    indent = indent or " " * prompt_width
    available = max(1, width - prompt_width)
    rows: list[str] = []
    row = ""
    used = 0
    cursor_row = cursor_col = -1
    index = 0
    for line_number, line in enumerate(text.split("\n")):
        if line_number:
            rows.append(row)
            row, used = "", 0
        for char in line:
            char_cells = char_width(char) if char != "\t" else 1
            if used + char_cells > available:
                rows.append(row)
                row, used = "", 0
            if index == cursor:
                cursor_row, cursor_col = len(rows), used
            row += char if char != "\t" else " "
            used += char_cells
            index += 1
        if index == cursor:
            if used >= available:
                rows.append(row)
                row, used = "", 0
            cursor_row, cursor_col = len(rows), used
        index += 1  # the newline
    rows.append(row)
    if cursor_row < 0:
        cursor_row, cursor_col = len(rows) - 1, cell_len(rows[-1])
    prefixed = [(prompt if number == 0 else indent) + content for number, content in enumerate(rows)]
    return Layout(prefixed, cursor_row, cursor_col + prompt_width)
