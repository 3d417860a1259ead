"""Planning a patch: verify every hunk of every file and compute the results, writing nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

from codex.errors import PatchError
from codex.tools.patch.diff import (
    LineEdits,
    _diff_lines,
    _display_line,
    _line_opcodes,
    _Opcode,
    edit_opcodes,
    render_unified,
)
from codex.tools.patch.grammar import _NOTHING_CHANGED, AddFile, DeleteFile, UpdateFile, parse_patch
from codex.tools.patch.matching import _update_content
from codex.tools.patch.paths import MAX_FILE_BYTES, Location, Resolver, read_regular

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
    # Where the change happens, found once by the walk (see codex.tools.patch.paths): the entry
    # written or deleted (a move's source), the move's destination, and the file a move reads.
    location: Location | None = field(default=None, compare=False, repr=False)
    move_location: Location | None = field(default=None, compare=False, repr=False)
    read_location: Location | None = field(default=None, compare=False, repr=False)
    # Where the patch's chunks landed in an update, so its diff need not compare whole files.
    edits: LineEdits | None = field(default=None, compare=False, repr=False)

    def unified_diff(self, cwd: Path) -> str:
        """A unified diff for display and approval; paths are relative to cwd when inside it.

        >>> FileChange("add", Path("/w/a.txt"), None, None, "hi\\n").unified_diff(Path("/w"))
        '--- /dev/null\\n+++ b/a.txt\\n@@ -0,0 +1 @@\\n+hi\\n'
        """
        target = self.move_path or self.path
        old_name = "/dev/null" if self.old_content is None else f"a/{_display(self.path, cwd)}"
        new_name = "/dev/null" if self.new_content is None else f"b/{_display(target, cwd)}"
        text, changed = render_unified(old_name, new_name, *self._opcodes())
        return text if changed or self.move_path else ""

    def _opcodes(self) -> tuple[list[_Opcode], Callable[[int], str], Callable[[int], str]]:
        """The line opcodes of this change, with the old and new display line at an index."""
        if self.edits is not None:
            ops = edit_opcodes(self.edits)
            if ops is not None:
                old, new = self.edits.old, self.edits.new
                return ops, partial(_display_line, old), partial(_display_line, new)
        old_lines = _diff_lines(self.old_content)
        new_lines = _diff_lines(self.new_content)
        if old_lines == new_lines:
            ops = []
        elif not old_lines or not new_lines:  # added or deleted (or emptied): nothing to align
            ops = [("delete" if old_lines else "insert", 0, len(old_lines), 0, len(new_lines))]
        else:
            ops = _line_opcodes(old_lines, new_lines)
        return ops, old_lines.__getitem__, new_lines.__getitem__



def _display(path: Path, cwd: Path) -> str:
    try:
        real_cwd = Path(os.path.realpath(cwd))
    except (OSError, ValueError):  # a racing symlink or a deleted directory: show the plain path
        real_cwd = cwd
    for base in (cwd, real_cwd):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


@dataclass
class _Overlay:
    """The file system as earlier hunks of the same patch will have left it.

    Keys are real paths found by the walk; the disk is read only through a location's held
    directory and a single name.
    """

    states: dict[Path, str | None] = field(default_factory=dict)
    new_dirs: set[Path] = field(default_factory=set)
    limit: int = MAX_FILE_BYTES

    def read(self, location: Location, display: str) -> str | None:
        path = location.path
        if path in self.states:
            return self.states[path]
        if path in self.new_dirs or not location.name:
            raise PatchError(f"{display}: is a directory, not a file. {_NOTHING_CHANGED}")
        if location.missing:
            return None
        try:
            info = os.stat(location.name, dir_fd=location.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise PatchError(f"{display}: cannot read: {error.strerror}. {_NOTHING_CHANGED}") from error
        if stat.S_ISDIR(info.st_mode):
            raise PatchError(f"{display}: is a directory, not a file. {_NOTHING_CHANGED}")
        if stat.S_ISLNK(info.st_mode):
            return self.read(location.owner.follow(location, display), display)
        data, _ = read_regular(location, display, self.limit)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise PatchError(
                f"{display}: is not UTF-8 text (byte {error.start}); apply_patch edits text files "
                f"only. {_NOTHING_CHANGED}"
            ) from error

    def deleted_here(self, location: Location) -> bool:
        return location.path in self.states and self.states[location.path] is None

    def make_parents(self, location: Location, display: str) -> None:
        """Check that the location's missing directories can be created, and remember them."""
        base = Path("/" + "/".join(location.dir_key))
        chain = [base.joinpath(*location.missing[: i + 1]) for i in range(len(location.missing))]
        for index, parent in enumerate(chain):
            if parent in self.new_dirs:
                continue
            blocked = self.states.get(parent) is not None
            if not blocked and index == 0 and parent not in self.states:
                try:
                    info = os.stat(location.missing[0], dir_fd=location.dir_fd, follow_symlinks=False)
                    blocked = not stat.S_ISDIR(info.st_mode)
                except FileNotFoundError:
                    pass
                except OSError as error:
                    raise PatchError(
                        f"{display}: cannot look up {parent}: {error.strerror}. {_NOTHING_CHANGED}"
                    ) from error
            if blocked:
                raise PatchError(
                    f"{display}: cannot create it because {parent} is a file, not a directory. "
                    f"{_NOTHING_CHANGED}"
                )
        self.new_dirs.update(chain)

    def written(self, entry: Location, display: str) -> Location:
        """Where writing the entry lands: a symlink is followed unless this patch removed it."""
        if entry.kind == "link" and entry.path not in self.states and not entry.missing:
            return entry.owner.follow(entry, display)
        return entry


def _check_encodable(text: str, display: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise PatchError(
            f"{display}: the patch text has a character that cannot be written as UTF-8 "
            f"({text[error.start]!r}). {_NOTHING_CHANGED}"
        ) from error


def plan_patch(
    text: str, cwd: Path, resolver: Resolver | None = None, limit: int = MAX_FILE_BYTES
) -> list[FileChange]:
    """Parse the patch and compute every file's new content, writing nothing.

    Each hunk is checked against the file system as the earlier hunks of the same patch will
    have left it, so ``Delete`` then ``Add`` of one path replaces a file. Raises
    :class:`PatchError` on the first problem (the message names the file, the chunk and the
    first line that did not match); no file is touched either way. Paths are found by
    ``resolver`` (see :mod:`codex.tools.patch.paths`), which must stay open until the changes
    are applied; without one, the changes keep their own resolver alive.
    """
    resolver = resolver or Resolver()
    overlay = _Overlay(limit=limit)
    changes: list[FileChange] = []
    for hunk in parse_patch(text):
        display = hunk.path
        entry = resolver.locate(hunk.path, cwd)
        if isinstance(hunk, DeleteFile):
            current = overlay.read(entry, display)
            if current is None:
                raise _missing(hunk, display, entry, overlay)
            changes.append(FileChange("delete", entry.path, None, current, None, entry))
            overlay.states[entry.path] = None
            continue
        target = overlay.written(entry, display)
        current = overlay.read(target, display)
        if isinstance(hunk, AddFile):
            if current is not None and current != hunk.content:
                raise PatchError(
                    f"{display}: cannot add (patch line {hunk.line}): the file already exists. Use "
                    f"'*** Update File: {display}' to change it, or '*** Delete File: {display}' "
                    f"before the '*** Add File' to replace it. {_NOTHING_CHANGED}"
                )
            overlay.make_parents(target, display)
            _check_encodable(hunk.content, display)
            changes.append(FileChange("add", target.path, None, current, hunk.content, target))
            overlay.states[target.path] = hunk.content
            continue
        if current is None:
            raise _missing(hunk, display, target, overlay)
        new_content, edits = _update_content(display, current, hunk.chunks)
        _check_encodable(new_content, display)
        if hunk.move_to is None:
            changes.append(FileChange("update", target.path, None, current, new_content, target, edits=edits))
            overlay.states[target.path] = new_content
            continue
        destination = overlay.written(resolver.locate(hunk.move_to, cwd), hunk.move_to)
        if destination.path in (entry.path, target.path):
            changes.append(FileChange("update", target.path, None, current, new_content, target, edits=edits))
            overlay.states[target.path] = new_content
            continue
        if overlay.read(destination, hunk.move_to) is not None:
            raise PatchError(
                f"{display}: cannot move to {hunk.move_to} (patch line {hunk.line}): that "
                f"file already exists. Delete it first in the same patch ('*** Delete File: "
                f"{hunk.move_to}') or choose another name. {_NOTHING_CHANGED}"
            )
        overlay.make_parents(destination, hunk.move_to)
        changes.append(
            FileChange(
                "update", entry.path, destination.path, current, new_content, entry, destination, target, edits
            )
        )
        overlay.states[entry.path] = None
        overlay.states[destination.path] = new_content
    return changes


def _missing(hunk: DeleteFile | UpdateFile, display: str, location: Location, overlay: _Overlay) -> PatchError:
    verb = "delete" if isinstance(hunk, DeleteFile) else "update"
    why = (
        "it was deleted or moved away earlier in this patch"
        if overlay.deleted_here(location)
        else f"no such file (resolved to {location.path})"
    )
    return PatchError(f"{display}: cannot {verb} (patch line {hunk.line}): {why}. {_NOTHING_CHANGED}")


def touched_paths(text: str, cwd: Path, resolver: Resolver) -> list[tuple[Path, Path]]:
    """Every real path the patch may write or delete, found without reading any file, each
    with the deepest directory on its way that exists.

    For the policy check before planning: each patch path's entry, and for a path that is
    written (not deleted) the file its symlink leads to. What :func:`plan_patch` then writes
    is always among these, found by the same walk.
    """
    seen: dict[Path, Path] = {}
    for hunk in parse_patch(text):
        raws = [hunk.path]
        if isinstance(hunk, UpdateFile) and hunk.move_to is not None:
            raws.append(hunk.move_to)
        for raw in raws:
            entry = resolver.locate(raw, cwd)
            seen.setdefault(entry.path, entry.existing)
            if entry.kind == "link" and not isinstance(hunk, DeleteFile):
                target = resolver.follow(entry, raw)
                seen.setdefault(target.path, target.existing)
    return list(seen.items())


def patch_paths(text: str, cwd: Path) -> list[Path]:
    """Every path the patch would touch (including move destinations), fully resolved.

    ``..`` and symlinks are resolved as the kernel would (by the same descriptor walk that
    applying uses), so the result can be compared with writable roots. Each path appears once,
    in patch order. For deciding about a patch that is then applied, use :func:`touched_paths`
    with the resolver that applies it: this function's answer may be stale by then.
    """
    seen: dict[Path, None] = {}
    with Resolver() as resolver:
        for hunk in parse_patch(text):
            raws = [hunk.path]
            if isinstance(hunk, UpdateFile) and hunk.move_to is not None:
                raws.append(hunk.move_to)
            for raw in raws:
                location = resolver.locate(raw, cwd)
                if location.kind == "link":
                    location = resolver.follow(location, raw)
                seen.setdefault(location.path, None)
    return list(seen)
