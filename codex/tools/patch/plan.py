"""Planning a patch: verify every hunk of every file and compute the results, writing nothing."""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import Literal

from codex.errors import PatchError
from codex.records import record
from codex.tools.patch.diff import _diff_lines, _grouped_opcodes, _line_opcodes, _unified_range
from codex.tools.patch.grammar import _NOTHING_CHANGED, AddFile, DeleteFile, UpdateFile, parse_patch
from codex.tools.patch.matching import _update_content

# --------------------------------------------------------------------------------------------
# Planning: verify everything, write nothing
# --------------------------------------------------------------------------------------------


@record(frozen=True)
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


@record
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
