"""The patch format: its markers, the parsed form of a patch, and the parser (line numbers kept for errors)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from codex.errors import PatchError

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


@dataclass(frozen=True, slots=True)
class AddFile:
    """``*** Add File: path`` with its content (every ``+`` line, newline-terminated)."""

    path: str
    content: str
    line: int


@dataclass(frozen=True, slots=True)
class DeleteFile:
    """``*** Delete File: path``."""

    path: str
    line: int


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
