"""Writing a planned patch: atomic per file, rolled back across files when any step fails."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from codex.errors import PatchError
from codex.records import record
from codex.tools.patch.grammar import _NOTHING_CHANGED, SUCCESS_HEADER
from codex.tools.patch.plan import FileChange, _display, _Overlay

# --------------------------------------------------------------------------------------------
# Writing: atomic per file, rollback across files
# --------------------------------------------------------------------------------------------


@record
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
