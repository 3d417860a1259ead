"""Writing a planned patch: atomic per file, rolled back across files when any step fails."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codex.errors import PatchError
from codex.tools.patch.grammar import _NOTHING_CHANGED, SUCCESS_HEADER
from codex.tools.patch.paths import Location, describe_type
from codex.tools.patch.plan import FileChange, _display, _Overlay

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


def _location(change_location: Location | None, path: Path) -> Location:
    if change_location is None:
        raise PatchError(f"{path}: this change was not planned by plan_patch. {_NOTHING_CHANGED}")
    return change_location


class _Writer:
    """Applies writes through the planned locations, journaling how to undo each one.

    Every call works on a held directory descriptor and one name (``openat``, ``mkdirat``,
    ``renameat``, ``unlinkat``): no path is looked up again after the policy saw it.
    """

    def __init__(self) -> None:
        self.backups: dict[Path, _Backup] = {}
        # ("file", location) when a file is first touched, ("dir", location of the new directory)
        # when one is made; undone in reverse, so a directory that replaced a deleted file goes
        # before the file returns.
        self.journal: list[tuple[Literal["file", "dir"], Path, int, str]] = []
        self.new_file_mode = 0o666 & ~_current_umask()

    def _remember(self, path: Path, dir_fd: int, name: str) -> None:
        if path in self.backups:
            return
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            self.backups[path] = _Backup(None)
        else:
            if stat.S_ISLNK(info.st_mode):
                self.backups[path] = _Backup(None, link=os.readlink(name, dir_fd=dir_fd))
            elif stat.S_ISREG(info.st_mode):
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
                with os.fdopen(fd, "rb") as handle:
                    self.backups[path] = _Backup(handle.read(), os.fstat(handle.fileno()))
            else:
                raise OSError(errno.EEXIST, f"{path} is {describe_type(info.st_mode)}; it is left alone")
        self.journal.append(("file", path, dir_fd, name))

    def _parent(self, location: Location) -> int:
        """The descriptor of the location's directory, creating the planned missing ones."""
        key = location.dir_key
        fd = location.dir_fd
        for name in location.missing:
            try:
                os.mkdir(name, 0o777, dir_fd=fd)
            except FileExistsError:
                pass  # an earlier change of this patch made it; opening it below checks it is a directory
            else:
                self.journal.append(("dir", Path("/" + "/".join((*key, name))), fd, name))
            key = (*key, name)
            fd = location.owner.descriptor(key)
        return fd

    def write(self, location: Location, data: bytes, like: os.stat_result | None) -> None:
        dir_fd = self._parent(location)
        self._remember(location.path, dir_fd, location.name)
        mode = stat.S_IMODE(like.st_mode) if like else self.new_file_mode
        _write_atomic(dir_fd, location.name, data, mode, like)

    def delete(self, location: Location) -> None:
        self._remember(location.path, location.dir_fd, location.name)
        os.unlink(location.name, dir_fd=location.dir_fd)

    def rollback(self) -> list[str]:
        """Undo the journal; returns the problems it could not undo."""
        problems = []
        for kind, path, dir_fd, name in reversed(self.journal):
            try:
                if kind == "dir":
                    os.rmdir(name, dir_fd=dir_fd)
                else:
                    self._restore(dir_fd, name, self.backups[path])
            except OSError as error:
                problems.append(f"{path}: {error}")
        return problems

    @staticmethod
    def _restore(dir_fd: int, name: str, backup: _Backup) -> None:
        if backup.info is None:
            try:
                os.unlink(name, dir_fd=dir_fd)
            except FileNotFoundError:
                pass
        if backup.link is not None:
            os.symlink(backup.link, name, dir_fd=dir_fd)
        elif backup.data is not None and backup.info is not None:
            _write_atomic(dir_fd, name, backup.data, stat.S_IMODE(backup.info.st_mode), backup.info)


def _write_atomic(dir_fd: int, name: str, data: bytes, mode: int, like: os.stat_result | None) -> None:
    """Write a temporary file beside ``name`` in the held directory, then rename it into place."""
    temporary = ""
    descriptor = -1
    for _ in range(100):
        temporary = f".{name[:200]}.{secrets.token_hex(4)}.tmp"
        try:
            descriptor = os.open(
                temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd
            )
            break
        except FileExistsError:
            continue
    else:
        raise OSError(errno.EEXIST, f"no free temporary name beside {name}")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if like is not None and (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(handle.fileno(), like.st_uid, like.st_gid)
                except OSError:
                    pass  # Only root may give a file away; a non-root owner keeps the file as theirs.
            os.fsync(handle.fileno())
        os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def _verify_unchanged(changes: Sequence[FileChange]) -> dict[Path, os.stat_result]:
    """Refuse to write if a file changed on disk since the changes were planned.

    Returns the status of each file an update reads, to keep its mode and owner.
    """
    overlay = _Overlay()
    infos: dict[Path, os.stat_result] = {}
    for change in changes:
        display = str(change.path)
        location = _location(change.location, change.path)
        read_from = change.read_location or location
        if read_from.path != location.path and location.path in overlay.states:
            read_from = location
        current = overlay.read(read_from, display)
        expected = change.old_content
        if change.kind == "add" and expected is None and current == change.new_content:
            expected = current
        if current != expected:
            raise PatchError(
                f"{display}: the file changed since the patch was checked; plan the patch again. "
                f"{_NOTHING_CHANGED}"
            )
        if change.kind == "update" and read_from.path not in overlay.states and not read_from.missing:
            try:
                infos[read_from.path] = os.stat(read_from.name, dir_fd=read_from.dir_fd, follow_symlinks=False)
            except OSError:
                pass
        if change.move_path is not None:
            move = _location(change.move_location, change.move_path)
            if overlay.read(move, str(change.move_path)) is not None:
                raise PatchError(
                    f"{change.move_path}: appeared since the patch was checked; plan the patch "
                    f"again. {_NOTHING_CHANGED}"
                )
            overlay.states[location.path] = None
            overlay.states[move.path] = change.new_content
        else:
            overlay.states[location.path] = change.new_content
    return infos


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
    infos = _verify_unchanged(changes)
    writer = _Writer()
    action = ""
    try:
        for change in changes:
            name = _name(change.path, cwd)
            location = _location(change.location, change.path)
            if change.kind == "delete":
                action = f"deleting {name}"
                writer.delete(location)
                continue
            unchanged = change.old_content == change.new_content and change.move_path is None
            if change.new_content is None or unchanged:
                continue
            data = change.new_content.encode("utf-8")
            like = infos.get((change.read_location or location).path) if change.kind == "update" else None
            if change.move_path is None:
                action = f"writing {name}"
                writer.write(location, data, like)
            else:
                action = f"moving {name} to {_name(change.move_path, cwd)}"
                writer.write(_location(change.move_location, change.move_path), data, like)
                writer.delete(location)
    except BaseException as error:
        # Even an interrupt must not leave half a patch behind.
        problems = writer.rollback()
        if not isinstance(error, Exception):
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
