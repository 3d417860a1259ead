"""The apply_patch engine: parse the Codex patch format, verify every hunk, then write atomically.

The format is the Rust Codex CLI's::

    *** Begin Patch
    *** Add File: path/new.py
    +line
    *** Delete File: path/old.py
    *** Update File: path/a.py
    *** Move to: path/b.py
    @@ def foo():
     context
    -removed
    +added
    *** End of File
    *** End Patch

Nothing here knows about tools, approvals or sandboxes: :func:`plan_patch` reads files and
computes every new content without writing; :func:`apply_changes` writes them all or none.

Decisions where the peer is silent or where we deliberately do better (each one is tested):

* Paths may be relative (resolved against ``cwd``) or absolute, as in the peer. Approval code
  should look at :func:`patch_paths`, which resolves ``..`` and symlinks.
* ``*** Add File`` onto an existing file is refused, unless the file already holds exactly the
  new content (then it is a no-op, so re-running a patch is harmless). To replace a file, delete
  it and add it again in the same patch. The peer silently overwrites.
* ``*** Move to`` onto an existing file is refused unless an earlier hunk of the same patch
  deleted (or moved away) that file. Moving onto the same path is a plain update. A move
  without any ``@@`` chunk is a pure rename (the peer rejects it as empty).
* Context lines are matched exactly first, then ignoring trailing whitespace, then ignoring
  surrounding whitespace, then with typographic punctuation mapped to ASCII. Context lines keep
  the file's own text even when they matched fuzzily (the peer rewrites them with the patch's).
* Several ``@@`` header lines in a row narrow the search step by step (``@@ class A`` then
  ``@@ def f``). A chunk of only ``+`` lines goes right after its ``@@`` header line, or at the
  end of the file when it has none. A git-style header ``@@ -3,4 +3,5 @@ def f`` is read as
  ``@@ def f``.
* ``*** End of File`` anchors the chunk's old lines at the very end of the file.
* Line endings: a file whose every newline is CRLF stays CRLF (added lines get CRLF too); a
  UTF-8 byte-order mark is kept. A file without a newline at its end keeps it absent as long as
  its last line stays the last line; when the patch changes or appends at the end of the file,
  the new last line ends with a newline like every other line the patch writes.
* Files are written atomically (temporary file in the same directory, then ``os.replace``),
  keeping the mode (and, as root, the owner) of updated files; symlinks are followed on update,
  and a deleted symlink is removed as a link. If any write fails, the files already written are
  restored from in-memory backups and the error says so.
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
import shlex
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from codex.errors import PatchError

__all__ = [
    "AddFile",
    "DeleteFile",
    "FileChange",
    "Hunk",
    "ShellPatch",
    "UpdateChunk",
    "UpdateFile",
    "apply_changes",
    "apply_patch",
    "extract_patch_from_shell",
    "parse_patch",
    "patch_paths",
    "plan_patch",
]

BEGIN_PATCH = "*** Begin Patch"
END_PATCH = "*** End Patch"
ADD_FILE = "*** Add File: "
DELETE_FILE = "*** Delete File: "
UPDATE_FILE = "*** Update File: "
MOVE_TO = "*** Move to: "
END_OF_FILE = "*** End of File"
SUCCESS_HEADER = "Success. Updated the following files:"
_NOTHING_CHANGED = "No files were changed."

# --------------------------------------------------------------------------------------------
# Parsed form
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddFile:
    """``*** Add File: path`` with its content (every ``+`` line, newline-terminated)."""

    path: str
    content: str
    line: int


@dataclass(frozen=True)
class DeleteFile:
    """``*** Delete File: path``."""

    path: str
    line: int


@dataclass(frozen=True)
class UpdateChunk:
    """One ``@@`` chunk of an update.

    ``new_sources[i]`` is the index in ``old_lines`` that new line ``i`` repeats (a context
    line), or -1 for an added line: context lines keep the file's text when applied.
    """

    headers: tuple[str, ...]
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    new_sources: tuple[int, ...]
    end_of_file: bool
    line: int

    @property
    def label(self) -> str:
        """How error messages name the chunk: its ``@@`` header(s), or the bare ``@@``."""
        return " / ".join(f"@@ {h}" for h in self.headers) if self.headers else "@@"


@dataclass(frozen=True)
class UpdateFile:
    """``*** Update File: path``, an optional ``*** Move to:`` and its chunks."""

    path: str
    move_to: str | None
    chunks: tuple[UpdateChunk, ...]
    line: int


Hunk = AddFile | DeleteFile | UpdateFile


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------

_HEREDOC_OPENERS = re.compile(r"""^<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1$""")
_GIT_HUNK_HEADER = re.compile(r"^-\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$")


def _patch_error(line: int, message: str) -> PatchError:
    return PatchError(f"invalid patch, line {line}: {message}. {_NOTHING_CHANGED}")


def _split_patch_lines(text: str) -> list[str]:
    # A patch that travelled through a Windows editor or JSON may carry CR before each LF.
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def parse_patch(text: str) -> list[Hunk]:
    """Parse patch text into hunks without touching the file system.

    Markers may carry surrounding whitespace, and a patch wrapped in a heredoc (``<<'EOF'`` ...
    ``EOF``) as some models send it is accepted. Raises :class:`PatchError` naming the patch
    line for a missing ``*** Begin Patch``/``*** End Patch``, a bad line prefix, an empty chunk
    or an empty patch.

    >>> parse_patch("*** Begin Patch\\n*** Delete File: a.txt\\n*** End Patch")
    [DeleteFile(path='a.txt', line=2)]
    """
    lines = _split_patch_lines(text)
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        raise PatchError(
            f"invalid patch: the patch is empty; it must start with '{BEGIN_PATCH}'. {_NOTHING_CHANGED}"
        )
    first, last = nonblank[0], nonblank[-1]
    opener = _HEREDOC_OPENERS.match(lines[first].strip())
    if opener and lines[last].strip() == opener.group(2) and len(nonblank) >= 3:
        first, last = nonblank[1], nonblank[-2]
    if lines[first].strip() != BEGIN_PATCH:
        raise _patch_error(
            first + 1, f"the first line must be '{BEGIN_PATCH}', got {lines[first].strip()!r}"
        )
    if lines[last].strip() != END_PATCH or last == first:
        raise _patch_error(
            last + 1,
            f"the last line must be '{END_PATCH}', got {lines[last].strip()!r}; "
            "send the whole patch, ending with that marker",
        )
    parser = _Parser(lines, first + 1, last)
    hunks = parser.parse()
    if not hunks:
        raise _patch_error(
            first + 1,
            f"the patch has no file operations between '{BEGIN_PATCH}' and '{END_PATCH}'; "
            "add '*** Add File:', '*** Delete File:' or '*** Update File:' sections",
        )
    return hunks


class _Parser:
    """A cursor over the patch body (lines ``start`` to ``stop``, 0-based, stop exclusive)."""

    def __init__(self, lines: list[str], start: int, stop: int) -> None:
        self.lines = lines
        self.pos = start
        self.stop = stop

    def parse(self) -> list[Hunk]:
        hunks: list[Hunk] = []
        while self.pos < self.stop:
            raw = self.lines[self.pos]
            marker = raw.strip()
            if not marker:
                self.pos += 1
                continue
            lineno = self.pos + 1
            if marker.startswith(ADD_FILE.strip()):
                hunks.append(self._add(self._path_of(marker, ADD_FILE, lineno), lineno))
            elif marker.startswith(DELETE_FILE.strip()):
                hunks.append(DeleteFile(self._path_of(marker, DELETE_FILE, lineno), lineno))
                self.pos += 1
            elif marker.startswith(UPDATE_FILE.strip()):
                hunks.append(self._update(self._path_of(marker, UPDATE_FILE, lineno), lineno))
            else:
                raise _patch_error(
                    lineno,
                    f"expected '*** Add File: PATH', '*** Delete File: PATH' or "
                    f"'*** Update File: PATH', got {raw!r}",
                )
        return hunks

    @staticmethod
    def _path_of(marker: str, prefix: str, lineno: int) -> str:
        path = marker[len(prefix.strip()) :].strip()
        if not marker.startswith(prefix) or not path:
            raise _patch_error(lineno, f"'{prefix.strip()}' needs a path after ': ', got {marker!r}")
        if "\0" in path:
            raise _patch_error(lineno, f"path contains a NUL character: {path!r}")
        return path

    def _add(self, path: str, lineno: int) -> AddFile:
        self.pos += 1
        content: list[str] = []
        pending_blank = 0
        while self.pos < self.stop:
            raw = self.lines[self.pos]
            if raw.startswith("+"):
                # A bare empty line between '+' lines is an empty line whose '+' was lost.
                content.extend([""] * pending_blank)
                pending_blank = 0
                content.append(raw[1:])
            elif not raw.strip():
                pending_blank += 1
            elif raw.strip().startswith("***"):
                break
            else:
                raise _patch_error(
                    self.pos + 1,
                    f"in '*** Add File: {path}' every line must start with '+', got {raw!r}",
                )
            self.pos += 1
        return AddFile(path, "".join(f"{line}\n" for line in content), lineno)

    def _update(self, path: str, lineno: int) -> UpdateFile:
        self.pos += 1
        move_to: str | None = None
        if self.pos < self.stop and self.lines[self.pos].strip().startswith(MOVE_TO.strip()):
            move_to = self._path_of(self.lines[self.pos].strip(), MOVE_TO, self.pos + 1)
            self.pos += 1
        chunks: list[UpdateChunk] = []
        while self.pos < self.stop:
            raw = self.lines[self.pos]
            if raw.startswith("***") and raw.rstrip() != END_OF_FILE:
                break
            if not raw.strip() and chunks:
                self.pos += 1
                continue
            if chunks and not raw.startswith("@@"):
                after = "'*** End of File'" if chunks[-1].end_of_file else "a chunk"
                raise _patch_error(
                    self.pos + 1,
                    f"expected '@@' to start the next chunk of '{path}' after {after}, got {raw!r}",
                )
            chunks.append(self._chunk(path))
        if not chunks and move_to is None:
            raise _patch_error(
                lineno,
                f"'*** Update File: {path}' has no changes; add '@@' chunks with ' ', '-' and "
                "'+' lines (or a '*** Move to:' line to rename it)",
            )
        return UpdateFile(path, move_to, tuple(chunks), lineno)

    def _chunk(self, path: str) -> UpdateChunk:
        start = self.pos
        headers: list[str] = []
        while self.pos < self.stop and self.lines[self.pos].startswith("@@"):
            header = self.lines[self.pos][2:].strip()
            git = _GIT_HUNK_HEADER.match(header)
            if git:
                header = git.group(1).strip()
            if header:
                headers.append(header)
            self.pos += 1
        old: list[str] = []
        new: list[str] = []
        sources: list[int] = []
        trailing_blank = 0
        end_of_file = False
        while self.pos < self.stop:
            raw = self.lines[self.pos]
            if raw.rstrip() == END_OF_FILE:
                end_of_file = True
                self.pos += 1
                break
            if raw.startswith(("@@", "***")):
                break
            tag, body = raw[:1], raw[1:]
            if tag == "":
                trailing_blank += 1
                tag, body = " ", ""
            elif tag in " +-":
                trailing_blank = 0
            else:
                raise _patch_error(
                    self.pos + 1,
                    f"in '*** Update File: {path}' every chunk line must start with ' ' (context), "
                    f"'-' (removed) or '+' (added), got {raw!r}",
                )
            if tag in " -":
                old.append(body)
            if tag == " ":
                sources.append(len(old) - 1)
                new.append(body)
            elif tag == "+":
                sources.append(-1)
                new.append(body)
            self.pos += 1
        if trailing_blank and not end_of_file:
            # Bare empty lines closing a chunk are usually separators before the next section;
            # dropping trailing context changes nothing in the result, only the anchoring.
            del old[len(old) - trailing_blank :]
            del new[len(new) - trailing_blank :]
            del sources[len(sources) - trailing_blank :]
        if not old and not new:
            raise _patch_error(
                start + 1, f"chunk of '*** Update File: {path}' has no ' ', '-' or '+' lines"
            )
        return UpdateChunk(
            tuple(headers), tuple(old), tuple(new), tuple(sources), end_of_file, start + 1
        )


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


@dataclass
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


def _update_content(display: str, original: str, chunks: Sequence[UpdateChunk]) -> str:
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
    for rep in replacements:
        out.extend(text.lines[previous : rep.start])
        out.extend(text.lines[rep.start + source] if source >= 0 else line for source, line in rep.entries)
        previous = rep.start + rep.length
        if previous == size and (rep.length or rep.entries):
            tail = rep.entries[-1][0] if rep.entries else -1
            last_is_original_last = tail >= 0 and rep.start + tail == size - 1
    out.extend(text.lines[previous:])
    final_newline = text.final_newline or not last_is_original_last
    return _Text(out, text.eol, final_newline, text.bom).render()


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


# --------------------------------------------------------------------------------------------
# Planning: verify everything, write nothing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One verified file operation: ``path`` is absolute, contents are the exact decoded text.

    ``old_content`` is None for an added file (unless it already held the same content);
    ``new_content`` is None for a deleted file. An update with ``move_path`` renames the file.
    """

    kind: Literal["add", "delete", "update"]
    path: Path
    move_path: Path | None
    old_content: str | None
    new_content: str | None

    def unified_diff(self, cwd: Path) -> str:
        """A unified diff for display and approval; paths are relative to cwd when inside it.

        >>> FileChange("add", Path("/w/a.txt"), None, None, "hi\\n").unified_diff(Path("/w"))
        '--- /dev/null\\n+++ b/a.txt\\n@@ -0,0 +1 @@\\n+hi\\n'
        """
        target = self.move_path or self.path
        old_name = "/dev/null" if self.old_content is None else f"a/{_display(self.path, cwd)}"
        new_name = "/dev/null" if self.new_content is None else f"b/{_display(target, cwd)}"
        old_lines = _diff_lines(self.old_content)
        new_lines = _diff_lines(self.new_content)
        out = [f"--- {old_name}\n", f"+++ {new_name}\n"]
        changed = False
        for group in _grouped_opcodes(_line_opcodes(old_lines, new_lines), context=3):
            changed = True
            first, last = group[0], group[-1]
            out.append(f"@@ -{_unified_range(first[1], last[2])} +{_unified_range(first[3], last[4])} @@\n")
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    out.extend(f" {line}" for line in old_lines[i1:i2])
                    continue
                out.extend(f"-{line}" for line in old_lines[i1:i2])
                out.extend(f"+{line}" for line in new_lines[j1:j2])
        if not changed and not self.move_path:
            return ""
        return "".join(
            line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in out
        )


_OTHER_LINE_BREAKS = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _diff_lines(content: str | None) -> list[str]:
    if not content:
        return []
    content = content.replace("\r\n", "\n")
    if not any(char in content for char in _OTHER_LINE_BREAKS):
        # splitlines runs in C, but also splits on these other characters, which we keep.
        return content.splitlines(keepends=True)
    lines = content.split("\n")
    result = [f"{line}\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


_Opcode = tuple[str, int, int, int, int]


def _line_opcodes(old: list[str], new: list[str]) -> list[_Opcode]:
    """difflib-style opcodes, computed between anchor lines that occur once on each side.

    difflib alone takes seconds on a 100,000-line file with scattered edits; anchoring on
    unique lines (as patience diff does) leaves it only the small gaps between them.
    """
    ops: list[_Opcode] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if ops and ops[-1][0] == tag == "equal":
            ops[-1] = (tag, ops[-1][1], i2, ops[-1][3], j2)
        elif i1 < i2 or j1 < j2:
            ops.append((tag, i1, i2, j1, j2))

    def gap(i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 or j1 == j2:
            add("insert" if i1 == i2 else "delete", i1, i2, j1, j2)
            return
        matcher = difflib.SequenceMatcher(None, old[i1:i2], new[j1:j2])
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            add(tag, a1 + i1, a2 + i1, b1 + j1, b2 + j1)

    head = _common_run(old, new, from_end=False)
    tail = _common_run(old[head:], new[head:], from_end=True)
    old_stop, new_stop = len(old) - tail, len(new) - tail
    add("equal", 0, head, 0, head)
    old_middle, new_middle = old[head:old_stop], new[head:new_stop]
    old_counts, new_counts = Counter(old_middle), Counter(new_middle)
    new_index = {line: j for j, line in enumerate(new_middle, head) if new_counts[line] == 1}
    pairs = [
        (i, new_index[line])
        for i, line in enumerate(old_middle, head)
        if old_counts[line] == 1 and line in new_index
    ]
    i, j = head, head
    for anchor_i, anchor_j in _increasing_run(pairs):
        gap(i, anchor_i, j, anchor_j)
        add("equal", anchor_i, anchor_i + 1, anchor_j, anchor_j + 1)
        i, j = anchor_i + 1, anchor_j + 1
    gap(i, old_stop, j, new_stop)
    add("equal", old_stop, len(old), new_stop, len(new))
    return ops


def _common_run(old: list[str], new: list[str], from_end: bool) -> int:
    """How many lines the two lists share at their start (or end), compared in C-speed blocks."""
    limit = min(len(old), len(new))
    size = 0
    block = 1024
    while block:
        while size + block <= limit and (
            old[len(old) - size - block : len(old) - size] == new[len(new) - size - block : len(new) - size]
            if from_end
            else old[size : size + block] == new[size : size + block]
        ):
            size += block
        block //= 4
    return size


def _increasing_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of pairs (already sorted by first) whose seconds increase."""
    tail_values: list[int] = []
    tail_index: list[int] = []
    back = [-1] * len(pairs)
    for k, (_, value) in enumerate(pairs):
        slot = bisect.bisect_left(tail_values, value)
        if slot:
            back[k] = tail_index[slot - 1]
        if slot == len(tail_values):
            tail_values.append(value)
            tail_index.append(k)
        else:
            tail_values[slot] = value
            tail_index[slot] = k
    run: list[tuple[int, int]] = []
    k = tail_index[-1] if tail_index else -1
    while k >= 0:
        run.append(pairs[k])
        k = back[k]
    return run[::-1]


def _grouped_opcodes(ops: list[_Opcode], context: int) -> list[list[_Opcode]]:
    """Split opcodes into unified-diff hunks with `context` equal lines around each change."""
    if not any(tag != "equal" for tag, *_ in ops):
        return []
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[_Opcode]] = []
    group: list[_Opcode] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, i1 + context, j1, j1 + context))
            groups.append(group)
            group = []
            i1, j1 = i2 - context, j2 - context
        group.append((tag, i1, i2, j1, j2))
    if any(tag != "equal" for tag, *_ in group):
        groups.append(group)
    return [g for g in groups if any(tag != "equal" for tag, *_ in g)]


def _unified_range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _display(path: Path, cwd: Path) -> str:
    for base in (cwd, Path(os.path.realpath(cwd))):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def _entry(raw: str, cwd: Path) -> Path:
    """Where a patch path's directory entry lives: parent directories resolved, name kept.

    The last component stays unresolved so that a deleted symlink is the link itself.
    """
    joined = Path(os.path.join(os.path.abspath(cwd), raw))
    if joined.name in ("", ".", ".."):
        return Path(os.path.realpath(joined))
    return Path(os.path.realpath(joined.parent)) / joined.name


@dataclass
class _Overlay:
    """The file system as earlier hunks of the same patch will have left it."""

    states: dict[Path, str | None] = field(default_factory=dict)
    new_dirs: set[Path] = field(default_factory=set)

    def read(self, path: Path, display: str) -> str | None:
        if path in self.states:
            return self.states[path]
        if path in self.new_dirs or os.path.isdir(path):
            raise PatchError(f"{display}: is a directory, not a file. {_NOTHING_CHANGED}")
        if not os.path.lexists(path):
            return None
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise PatchError(f"{display}: cannot read: {error.strerror}. {_NOTHING_CHANGED}") from error
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise PatchError(
                f"{display}: is not UTF-8 text (byte {error.start}); apply_patch edits text files "
                f"only. {_NOTHING_CHANGED}"
            ) from error

    def deleted_here(self, path: Path) -> bool:
        return path in self.states and self.states[path] is None

    def make_parents(self, path: Path, display: str) -> None:
        """Check that path's missing parent directories can be created, and remember them."""
        missing = []
        for parent in path.parents:
            if parent in self.new_dirs or (parent not in self.states and os.path.isdir(parent)):
                break
            if self.states.get(parent) is not None or (
                parent not in self.states and os.path.lexists(parent)
            ):
                raise PatchError(
                    f"{display}: cannot create it because {parent} is a file, not a directory. "
                    f"{_NOTHING_CHANGED}"
                )
            missing.append(parent)
        self.new_dirs.update(missing)


def _check_encodable(text: str, display: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise PatchError(
            f"{display}: the patch text has a character that cannot be written as UTF-8 "
            f"({text[error.start]!r}). {_NOTHING_CHANGED}"
        ) from error


def plan_patch(text: str, cwd: Path) -> list[FileChange]:
    """Parse the patch and compute every file's new content, writing nothing.

    Each hunk is checked against the file system as the earlier hunks of the same patch will
    have left it, so ``Delete`` then ``Add`` of one path replaces a file. Raises
    :class:`PatchError` on the first problem (the message names the file, the chunk and the
    first line that did not match); no file is touched either way.
    """
    overlay = _Overlay()
    changes: list[FileChange] = []
    for hunk in parse_patch(text):
        path = _entry(hunk.path, cwd)
        display = hunk.path
        current = overlay.read(path, display)
        if isinstance(hunk, AddFile):
            if current is not None and current != hunk.content:
                raise PatchError(
                    f"{display}: cannot add (patch line {hunk.line}): the file already exists. Use "
                    f"'*** Update File: {display}' to change it, or '*** Delete File: {display}' "
                    f"before the '*** Add File' to replace it. {_NOTHING_CHANGED}"
                )
            overlay.make_parents(path, display)
            _check_encodable(hunk.content, display)
            changes.append(FileChange("add", path, None, current, hunk.content))
            overlay.states[path] = hunk.content
            continue
        if current is None:
            verb = "delete" if isinstance(hunk, DeleteFile) else "update"
            why = (
                "it was deleted or moved away earlier in this patch"
                if overlay.deleted_here(path)
                else f"no such file (resolved to {path})"
            )
            raise PatchError(
                f"{display}: cannot {verb} (patch line {hunk.line}): {why}. {_NOTHING_CHANGED}"
            )
        if isinstance(hunk, DeleteFile):
            changes.append(FileChange("delete", path, None, current, None))
            overlay.states[path] = None
            continue
        new_content = _update_content(display, current, hunk.chunks)
        _check_encodable(new_content, display)
        move_path: Path | None = None
        if hunk.move_to is not None:
            move_path = _entry(hunk.move_to, cwd)
            if _same_file(move_path, path):
                move_path = None
            else:
                if overlay.read(move_path, hunk.move_to) is not None:
                    raise PatchError(
                        f"{display}: cannot move to {hunk.move_to} (patch line {hunk.line}): that "
                        f"file already exists. Delete it first in the same patch ('*** Delete File: "
                        f"{hunk.move_to}') or choose another name. {_NOTHING_CHANGED}"
                    )
                overlay.make_parents(move_path, hunk.move_to)
        changes.append(FileChange("update", path, move_path, current, new_content))
        if move_path is None:
            overlay.states[path] = new_content
        else:
            overlay.states[path] = None
            overlay.states[move_path] = new_content
    return changes


def _same_file(first: Path, second: Path) -> bool:
    return first == second or os.path.realpath(first) == os.path.realpath(second)


def patch_paths(text: str, cwd: Path) -> list[Path]:
    """Every path the patch would touch (including move destinations), fully resolved.

    ``..`` and symlinks are resolved as the kernel would, so approval code can compare the
    result with writable roots. Each path appears once, in patch order.
    """
    seen: dict[Path, None] = {}
    for hunk in parse_patch(text):
        raws = [hunk.path]
        if isinstance(hunk, UpdateFile) and hunk.move_to is not None:
            raws.append(hunk.move_to)
        for raw in raws:
            joined = os.path.join(os.path.abspath(cwd), raw)
            seen.setdefault(Path(os.path.realpath(joined)), None)
    return list(seen)


# --------------------------------------------------------------------------------------------
# Writing: atomic per file, rollback across files
# --------------------------------------------------------------------------------------------


@dataclass
class _Backup:
    data: bytes | None
    info: os.stat_result | None = None
    link: str | None = None


def _current_umask() -> int:
    # Reading the umask through os.umask would briefly change it for every thread.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Writer:
    """Applies writes while keeping a journal of how to undo each one."""

    def __init__(self) -> None:
        self.backups: dict[Path, _Backup] = {}
        # ("file", path) when a file is first touched, ("dir", path) when a directory is made;
        # undone in reverse, so a directory that replaced a deleted file goes before the file returns.
        self.journal: list[tuple[Literal["file", "dir"], Path]] = []
        self.new_file_mode = 0o666 & ~_current_umask()

    def _remember(self, path: Path) -> None:
        if path in self.backups:
            return
        if os.path.islink(path):
            self.backups[path] = _Backup(None, link=os.readlink(path))
        elif os.path.lexists(path):
            self.backups[path] = _Backup(Path(path).read_bytes(), os.stat(path))
        else:
            self.backups[path] = _Backup(None)
        self.journal.append(("file", path))

    def _make_parents(self, path: Path) -> None:
        missing = []
        for parent in path.parents:
            if os.path.isdir(parent):
                break
            missing.append(parent)
        for directory in reversed(missing):
            os.mkdir(directory)
            self.journal.append(("dir", directory))

    def write(self, path: Path, data: bytes, like: Path | None) -> None:
        target = Path(os.path.realpath(path))
        self._make_parents(target)
        self._remember(target)
        info = os.stat(like) if like is not None and os.path.exists(like) else None
        mode = stat.S_IMODE(info.st_mode) if info else self.new_file_mode
        _write_atomic(target, data, mode, info)

    def delete(self, path: Path) -> None:
        self._remember(path)
        os.unlink(path)

    def rollback(self) -> list[str]:
        """Undo the journal; returns the problems it could not undo."""
        problems = []
        for kind, path in reversed(self.journal):
            try:
                if kind == "dir":
                    os.rmdir(path)
                else:
                    self._restore(path, self.backups[path])
            except OSError as error:
                problems.append(f"{path}: {error}")
        return problems

    @staticmethod
    def _restore(path: Path, backup: _Backup) -> None:
        if backup.info is None and os.path.lexists(path):
            os.unlink(path)
        if backup.link is not None:
            os.symlink(backup.link, path)
        elif backup.data is not None and backup.info is not None:
            _write_atomic(path, backup.data, stat.S_IMODE(backup.info.st_mode), backup.info)


def _write_atomic(path: Path, data: bytes, mode: int, like: os.stat_result | None) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if like is not None and (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.chown(temporary, like.st_uid, like.st_gid)
            except OSError:
                pass  # Only root may give a file away; a non-root owner keeps the file as theirs.
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _verify_unchanged(changes: Sequence[FileChange]) -> None:
    """Refuse to write if a file changed on disk since the changes were planned."""
    overlay = _Overlay()
    for change in changes:
        display = str(change.path)
        current = overlay.read(change.path, display)
        expected = change.old_content
        if change.kind == "add" and expected is None and current == change.new_content:
            expected = current
        if current != expected:
            raise PatchError(
                f"{display}: the file changed since the patch was checked; plan the patch again. "
                f"{_NOTHING_CHANGED}"
            )
        if change.move_path is not None:
            if overlay.read(change.move_path, str(change.move_path)) is not None:
                raise PatchError(
                    f"{change.move_path}: appeared since the patch was checked; plan the patch "
                    f"again. {_NOTHING_CHANGED}"
                )
            overlay.states[change.path] = None
            overlay.states[change.move_path] = change.new_content
        else:
            overlay.states[change.path] = change.new_content


def _name(path: Path, cwd: Path | None) -> str:
    return _display(path, cwd) if cwd is not None else str(path)


def _summary_line(change: FileChange, cwd: Path | None) -> str:
    letter = {"add": "A", "delete": "D", "update": "M"}[change.kind]
    return f"{letter} {_name(change.move_path or change.path, cwd)}"


def apply_changes(changes: Sequence[FileChange], cwd: Path | None = None) -> str:
    """Write planned changes all or nothing and return the summary shown to the model.

    Every file is first checked to still hold what :func:`plan_patch` read. Each write is
    atomic; if one fails, files already written are restored from memory and
    :class:`PatchError` says what failed. Summary paths are relative to ``cwd`` when given and
    the file is inside it::

        Success. Updated the following files:
        A new.py
        M src/app.py
    """
    if not changes:
        raise PatchError(f"the patch has no file operations. {_NOTHING_CHANGED}")
    _verify_unchanged(changes)
    writer = _Writer()
    action = ""
    try:
        for change in changes:
            name = _name(change.path, cwd)
            if change.kind == "delete":
                action = f"deleting {name}"
                writer.delete(change.path)
                continue
            unchanged = change.old_content == change.new_content and change.move_path is None
            if change.new_content is None or unchanged:
                continue
            data = change.new_content.encode("utf-8")
            like = change.path if change.kind == "update" else None
            if change.move_path is None:
                action = f"writing {name}"
                writer.write(change.path, data, like)
            else:
                action = f"moving {name} to {_name(change.move_path, cwd)}"
                writer.write(change.move_path, data, like)
                writer.delete(change.path)
    except BaseException as error:
        # Even an interrupt must not leave half a patch behind.
        problems = writer.rollback()
        if not isinstance(error, OSError):
            raise
        if problems:
            raise PatchError(
                f"{action} failed ({error}); rolling back also failed for: {'; '.join(problems)}. "
                "Check these files by hand."
            ) from error
        raise PatchError(
            f"{action} failed ({error}); every file this patch had already changed was restored. "
            f"{_NOTHING_CHANGED}"
        ) from error
    return "\n".join([SUCCESS_HEADER, *(_summary_line(c, cwd) for c in changes)]) + "\n"


def apply_patch(text: str, cwd: Path) -> tuple[list[FileChange], str]:
    """Plan and apply a patch; returns the changes and the summary text.

    For example ``apply_patch("*** Begin Patch\\n*** Add File: hi.txt\\n+hi\\n*** End Patch", cwd)``
    creates ``cwd/hi.txt`` and returns ``"Success. Updated the following files:\\nA hi.txt\\n"``.
    """
    changes = plan_patch(text, cwd)
    return changes, apply_changes(changes, cwd)


# --------------------------------------------------------------------------------------------
# Recognising apply_patch run through a shell
# --------------------------------------------------------------------------------------------

_PATCH_COMMANDS = frozenset({"apply_patch", "applypatch"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_SHELL_OPTIONS = frozenset({"-c", "-lc", "-cl", "-l", "--login"})
_HEREDOC_SCRIPT = re.compile(
    r"""\A\s*
    (?:cd[ \t]+(?P<dir>'[^']*'|"[^"$`\\]*"|[^\s;&|<>()'"$`\\]+)\s*&&\s*)?
    (?P<command>apply_patch|applypatch)[ \t]*
    <<(?P<dash>-)?[ \t]*(?P<delimiter>'[^'\n]+'|"[^"\n]+"|\\?[A-Za-z0-9_.\-]+)
    [ \t]*\n""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class ShellPatch:
    """A patch found in a shell command, and the directory a leading ``cd DIR &&`` named."""

    patch: str
    workdir: str | None


def _unwrap_heredoc(text: str) -> str:
    lines = text.strip().split("\n")
    opener = _HEREDOC_OPENERS.match(lines[0].strip()) if lines else None
    if opener and len(lines) >= 3 and lines[-1].strip() == opener.group(2):
        return "\n".join(lines[1:-1])
    return text


def extract_patch_from_shell(argv: Sequence[str]) -> ShellPatch | None:
    """Recognise a command that only runs apply_patch, so the engine can apply it itself.

    Handles ``["apply_patch", PATCH]`` (also ``applypatch``), and a shell script (``bash``,
    ``sh``, ``zsh`` with ``-c`` or ``-lc``) of the form ``[cd DIR && ]apply_patch <<'EOF'`` ...
    ``EOF`` with a quoted or unquoted delimiter, or ``apply_patch 'PATCH'``. The heredoc body is
    taken literally (no ``$`` expansion), as the model meant it. Anything else, such as a
    second command after the heredoc, returns None.

    >>> extract_patch_from_shell(["bash", "-lc", "cd src && apply_patch <<'EOF'\\nP\\nEOF\\n"])
    ShellPatch(patch='P', workdir='src')
    """
    args = list(argv)
    if not args:
        return None
    if len(args) == 2 and os.path.basename(args[0]) in _PATCH_COMMANDS:
        return ShellPatch(_unwrap_heredoc(args[1]), None)
    if (
        len(args) >= 3
        and os.path.basename(args[0]) in _SHELLS
        and all(option in _SHELL_OPTIONS for option in args[1:-1])
        and any("c" in option and not option.startswith("--") for option in args[1:-1])
    ):
        return _extract_from_script(args[-1])
    return None


def _extract_from_script(script: str) -> ShellPatch | None:
    match = _HEREDOC_SCRIPT.match(script)
    if match is None:
        return _extract_quoted_argument(script)
    delimiter = match.group("delimiter")
    if delimiter[0] in "'\"":
        delimiter = delimiter[1:-1]
    delimiter = delimiter.lstrip("\\")
    strip_tabs = match.group("dash") is not None
    lines = script[match.end() :].split("\n")
    body: list[str] = []
    rest: Iterable[str] = ()
    for index, line in enumerate(lines):
        visible = line.lstrip("\t") if strip_tabs else line
        if visible.rstrip() == delimiter:
            rest = lines[index + 1 :]
            break
        body.append(visible)
    else:
        # Like bash, a missing closing delimiter ends the here-document at the end of the script.
        while body and not body[-1].strip():
            body.pop()
    if any(line.strip() for line in rest):
        return None
    workdir = match.group("dir")
    if workdir is not None and workdir[0] in "'\"":
        workdir = workdir[1:-1]
    return ShellPatch("\n".join(body), workdir)


def _extract_quoted_argument(script: str) -> ShellPatch | None:
    try:
        words = shlex.split(script)
    except ValueError:
        return None
    if len(words) != 2 or words[0] not in _PATCH_COMMANDS:
        return None
    if not words[1].lstrip().startswith(BEGIN_PATCH):
        return None
    argument = script.strip()[len(words[0]) :].lstrip()
    if not argument.startswith("'") and any(char in argument for char in "$`\\"):
        # The shell would expand or unescape these; only a single-quoted patch is literal.
        return None
    return ShellPatch(words[1], None)
