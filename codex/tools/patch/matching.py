"""Finding a chunk's lines in a file (exact, then looser in three steps) and computing the new text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codex.errors import PatchError
from codex.tools.patch.diff import LineEdits, Region
from codex.tools.patch.grammar import _NOTHING_CHANGED, END_OF_FILE, UpdateChunk

# --------------------------------------------------------------------------------------------
# Text files: line endings, BOM, final newline
# --------------------------------------------------------------------------------------------


@dataclass
class _Text:
    lines: list[str]
    eol: str
    final_newline: bool
    bom: bool

    @classmethod
    def parse(cls, content: str) -> _Text:
        bom = content.startswith("\ufeff")
        if bom:
            content = content[1:]
        newlines = content.count("\n")
        eol = "\r\n" if newlines and content.count("\r\n") == newlines else "\n"
        if not content:
            return cls([], eol, True, bom)
        lines = content.split(eol)
        final_newline = lines[-1] == ""
        if final_newline:
            lines.pop()
        return cls(lines, eol, final_newline, bom)

    def render(self) -> str:
        body = self.eol.join(self.lines)
        if self.lines and self.final_newline:
            body += self.eol
        return ("\ufeff" if self.bom else "") + body


# --------------------------------------------------------------------------------------------
# Finding lines: four levels of strictness
# --------------------------------------------------------------------------------------------

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\uff02", '"'),
        **dict.fromkeys(
            "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
            "\u202f\u205f\u3000",
            " ",
        ),
        "\u2026": "...",
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", None),
    }
)


def _typographic(line: str) -> str:
    return line.translate(_PUNCTUATION).strip()


_LEVELS: tuple[Callable[[str], str], ...] = (
    lambda line: line,
    str.rstrip,
    str.strip,
    _typographic,
)


class _Finder:
    """Searches a file's lines, caching one normalised copy of the file per level."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._views: dict[int, list[str]] = {0: lines}

    def _view(self, level: int) -> list[str]:
        view = self._views.get(level)
        if view is None:
            view = self._views[level] = [_LEVELS[level](line) for line in self.lines]
        return view

    def find_at_level(self, pattern: Sequence[str], start: int, level: int) -> int | None:
        size = len(pattern)
        last_start = len(self.lines) - size
        if size == 0:
            return start if start <= len(self.lines) else None
        view = self._view(level)
        wanted = [_LEVELS[level](line) for line in pattern]
        head = wanted[0]
        index = start
        while index <= last_start:
            try:
                # list.index runs in C: scanning 100,000 lines per chunk stays cheap.
                index = view.index(head, index, last_start + 1)
            except ValueError:
                return None
            if view[index : index + size] == wanted:
                return index
            index += 1
        return None

    def find(self, pattern: Sequence[str], start: int, at_end: bool = False) -> int | None:
        """First index >= start where pattern matches, trying each level over the whole range."""
        anchored = len(self.lines) - len(pattern)
        if at_end and anchored < start:
            return None
        for level in range(len(_LEVELS)):
            found = self.find_at_level(pattern, anchored if at_end else start, level)
            if found is not None and (not at_end or found == anchored):
                return found
        return None

    def longest_prefix(self, pattern: Sequence[str], start: int) -> tuple[int, int | None]:
        """For error messages: how many leading pattern lines match somewhere, and where."""
        matched, where = 0, None
        for size in range(1, len(pattern) + 1):
            found = self.find(pattern[:size], start)
            if found is None:
                break
            matched, where = size, found
        return matched, where


# --------------------------------------------------------------------------------------------
# Computing the new content of an updated file
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Replacement:
    start: int
    length: int
    # (index into the chunk's old lines, text): context lines take the file's text at apply time.
    entries: list[tuple[int, str]]


def _entries(chunk: UpdateChunk, old_count: int) -> list[tuple[int, str]]:
    return [
        (source, text)
        for source, text in zip(chunk.new_sources, chunk.new_lines, strict=True)
        if source < old_count
    ]


def _update_content(display: str, original: str, chunks: Sequence[UpdateChunk]) -> tuple[str, LineEdits]:
    """The new text of a file, and where it differs from ``original`` (for its diff)."""
    text = _Text.parse(original)
    finder = _Finder(text.lines)
    replacements: list[_Replacement] = []
    cursor = 0
    total = len(chunks)
    for number, chunk in enumerate(chunks, 1):
        where = f"{display}: chunk {number} of {total} ({chunk.label!r}, patch line {chunk.line})"
        header_at: int | None = None
        for header in chunk.headers:
            found = finder.find([header], cursor)
            if found is None:
                raise PatchError(
                    f"{where}: could not find the '@@' context line {header!r} in {display}"
                    f"{f' after line {cursor}' if cursor else ''}. Check the line against the file. "
                    f"{_NOTHING_CHANGED}"
                )
            header_at = found
            cursor = found + 1
        old_count = len(chunk.old_lines)
        if not old_count:
            position = len(text.lines) if header_at is None or chunk.end_of_file else header_at + 1
            replacements.append(_Replacement(position, 0, _entries(chunk, 0)))
            cursor = position
            continue
        found = finder.find(chunk.old_lines, cursor, chunk.end_of_file)
        if found is None and header_at is not None:
            # Models often repeat the '@@' line as the chunk's first context line.
            found = finder.find(chunk.old_lines, header_at, chunk.end_of_file)
        if found is None and chunk.old_lines[-1] == "" and old_count > 1:
            # A final empty old line often stands for the file's closing newline.
            found = finder.find(chunk.old_lines[:-1], cursor, chunk.end_of_file)
            if found is not None:
                old_count -= 1
        if found is None:
            raise PatchError(f"{where}: {_explain_mismatch(finder, chunk, cursor, display)}")
        replacements.append(_Replacement(found, old_count, _entries(chunk, old_count)))
        cursor = found + old_count

    replacements.sort(key=lambda r: r.start)
    size = len(text.lines)
    out: list[str] = []
    previous = 0
    # Decides the final newline: only the file's own last line may stay unterminated.
    last_is_original_last = size > 0
    regions: list[Region] = []
    for rep in replacements:
        out.extend(text.lines[previous : rep.start])
        new_start = len(out)
        out.extend(text.lines[rep.start + source] if source >= 0 else line for source, line in rep.entries)
        regions.append((rep.start, rep.start + rep.length, new_start, len(out)))
        previous = rep.start + rep.length
        if previous == size and (rep.length or rep.entries):
            tail = rep.entries[-1][0] if rep.entries else -1
            last_is_original_last = tail >= 0 and rep.start + tail == size - 1
    out.extend(text.lines[previous:])
    final_newline = text.final_newline or not last_is_original_last
    new_text = _Text(out, text.eol, final_newline, text.bom)
    return new_text.render(), LineEdits(text, new_text, tuple(regions))


def _explain_mismatch(finder: _Finder, chunk: UpdateChunk, cursor: int, display: str) -> str:
    pattern = chunk.old_lines
    hint = f"Re-read {display} and regenerate the patch. {_NOTHING_CHANGED}"
    if chunk.end_of_file:
        tail = finder.lines[-len(pattern) :] if len(finder.lines) >= len(pattern) else finder.lines
        return (
            f"the chunk is marked '{END_OF_FILE}' but its {len(pattern)} old line(s) are not the "
            f"last lines of the file. First expected line: {pattern[0]!r}; the file ends with "
            f"{tail[-3:]!r}. {hint}"
        )
    matched, where = finder.longest_prefix(pattern, cursor)
    searched = f"from line {cursor + 1}" if cursor else "anywhere in the file"
    if where is None:
        return (
            f"the chunk's first old line {pattern[0]!r} was not found {searched} (even ignoring "
            f"whitespace and typographic quotes/dashes). {hint}"
        )
    actual_index = where + matched
    prefix = "line 1 of the chunk matches" if matched == 1 else f"lines 1-{matched} of the chunk match"
    actual = (
        f"line {actual_index + 1} there is {finder.lines[actual_index]!r}"
        if actual_index < len(finder.lines)
        else f"the file ends after line {actual_index}"
    )
    return (
        f"the first context line that did not match is chunk line {matched + 1}, "
        f"{pattern[matched]!r}: {prefix} at {display}:{where + 1}, but {actual}. {hint}"
    )
