"""Finding a patch's files on open directory descriptors, so a check and a write see one file.

codex applies patches itself, unsandboxed. If the writable-roots check and the write each
resolved a path string, a sandboxed command could swap a directory for a symlink between the
two and have codex write outside the roots. Here every path is walked once, component by
component, from an open descriptor of ``/``: each directory is opened with ``O_NOFOLLOW`` and
``O_DIRECTORY`` relative to its parent's descriptor, and a symlink on the way is read and its
target walked the same way, so the walk knows the real path of every directory it holds. The
policy is checked on that real path; reads, writes, renames and deletes then use the held
descriptors and a single name, never the path string again.

A sandboxed command cannot move a directory codex holds to a place it could not write itself,
so what the check saw stays inside the roots until the write.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from codex.errors import PatchError

_T = TypeVar("_T")

# apply_patch edits source text a model has read: every step (decode, match, diff, backup)
# holds a few copies of a file, so one far larger than any source file is refused up front.
MAX_FILE_BYTES = 32 * 1024 * 1024

# The kernel's own limit on symlinks followed in one lookup.
_MAX_LINKS = 40
_DIR_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NOTHING_CHANGED = "No files were changed."


def _components(text: str) -> list[str]:
    return [part for part in text.split("/") if part not in ("", ".")]


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def describe_type(mode: int) -> str:
    """A person's name for a file type: ``a FIFO``, ``a character device``..."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_name(raw: str, display: str) -> None:
    """Refuse a patch path that no file system call could take, with a message for the model."""
    if "\0" in raw:
        raise PatchError(f"{display!r}: a path cannot contain a NUL character. {_NOTHING_CHANGED}")
    try:
        os.fsencode(raw)
    except UnicodeEncodeError as error:
        raise PatchError(
            f"{display!r}: the path has a character that cannot be part of a file name "
            f"({raw[error.start]!r}); write the path in plain UTF-8. {_NOTHING_CHANGED}"
        ) from error
    if not raw.strip():
        raise PatchError(f"the patch names a file with an empty path. {_NOTHING_CHANGED}")


@dataclass
class Location:
    """Where one directory entry is, as the walk found it.

    ``path`` is its real path (no symlink in it); ``dir_key`` names the deepest directory that
    existed on the way (held open by ``owner``), ``missing`` the directories to create below it,
    and ``name`` the entry itself. ``kind`` is what the walk saw there: ``file``, ``dir``,
    ``link``, ``other`` or ``missing``. An empty ``name`` means the path names a directory.
    """

    owner: Resolver
    path: Path
    dir_key: tuple[str, ...]
    missing: tuple[str, ...]
    name: str
    kind: str

    @property
    def dir_fd(self) -> int:
        """The descriptor of the deepest existing directory (valid while the owner is open)."""
        return self.owner.descriptor(self.dir_key)

    @property
    def existing(self) -> Path:
        """The real path of the deepest directory on the way that exists."""
        return Path("/" + "/".join(self.dir_key))


class Resolver:
    """The open directories of one patch, and each path located once.

    Use as a context manager: every descriptor is closed at the end. Locations refer to it, so
    they must not outlive it; a closed resolver refuses to hand out a descriptor.

    Example::

        with Resolver() as resolver:
            location = resolver.locate("src/a.py", Path("/work"))
            location.path  # the real path, /work/src/a.py unless a symlink led elsewhere
    """

    def __init__(self) -> None:
        self._fds: dict[tuple[str, ...], int] = {}
        self._located: dict[tuple[str, str], Location] = {}
        self._followed: dict[Path, Location] = {}
        self._closed = False
        # A worker thread may still use the descriptors when the task that owns them is
        # cancelled: closing then waits for it, or a reused descriptor number could be written to.
        self._lock = threading.Lock()
        self._users = 0
        self._close_pending = False

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._close_now()
        except Exception:  # at interpreter exit os may already be gone; the kernel closes them
            pass

    def run(self, function: Callable[..., _T], *args: Any) -> _T:
        """Call ``function(*args)`` (in a worker thread) with the descriptors kept open throughout."""
        with self._lock:
            if self._closed or self._close_pending:
                raise PatchError(f"internal error: the patch's directories were already closed. {_NOTHING_CHANGED}")
            self._users += 1
        try:
            return function(*args)
        finally:
            with self._lock:
                self._users -= 1
                close_now = self._users == 0 and self._close_pending
            if close_now:
                self._close_now()

    def close(self) -> None:
        """Close every descriptor (after the last :meth:`run` in progress ends); later use raises."""
        with self._lock:
            if self._users:
                self._close_pending = True
                return
        self._close_now()

    def _close_now(self) -> None:
        self._closed = True
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            try:
                os.close(fd)
            except OSError:
                pass

    def descriptor(self, key: tuple[str, ...]) -> int:
        """The open directory at real path ``/`` + ``key``; opened now if it is new."""
        if self._closed:
            raise PatchError(f"internal error: the patch's directories were already closed. {_NOTHING_CHANGED}")
        fd = self._fds.get(key)
        if fd is None:
            if not key:
                fd = os.open("/", _DIR_FLAGS)
            else:
                fd = os.open(key[-1], _DIR_FLAGS, dir_fd=self.descriptor(key[:-1]))
            self._fds[key] = fd
        return fd

    def locate(self, raw: str, cwd: Path) -> Location:
        """Where the patch path ``raw`` (relative to ``cwd``) is; a final symlink is not followed.

        Each path is walked once per resolver: asking again returns the same location.
        """
        known = self._located.get((raw, os.fspath(cwd)))
        if known is not None:
            return known
        check_name(raw, raw)
        start = raw if raw.startswith("/") else f"{os.fspath(cwd)}/{raw}"
        if not start.startswith("/"):
            raise PatchError(f"{raw}: the working directory {cwd} is not an absolute path. {_NOTHING_CHANGED}")
        location = self._walk([], deque(_components(start)), raw)
        self._located[(raw, os.fspath(cwd))] = location
        return location

    def follow(self, entry: Location, display: str) -> Location:
        """Where the symlink at ``entry`` finally leads (a chain of links is followed to its end),
        walked like any other path, once per entry."""
        known = self._followed.get(entry.path)
        if known is not None:
            return known
        location = entry
        for links in range(1, _MAX_LINKS + 1):
            try:
                target = os.readlink(location.name, dir_fd=location.dir_fd)
            except OSError as error:
                raise PatchError(
                    f"{display}: the symbolic link changed while the patch was being checked "
                    f"({error.strerror}); try again. {_NOTHING_CHANGED}"
                ) from error
            names = [] if target.startswith("/") else list(location.dir_key)
            location = self._walk(names, deque(_components(target)), display, links=links)
            if location.kind != "link":
                break
        else:
            raise PatchError(f"{display}: too many levels of symbolic links. {_NOTHING_CHANGED}")
        self._followed[entry.path] = location
        return location

    def _walk(self, names: list[str], pending: deque[str], display: str, links: int = 0) -> Location:
        missing: list[str] = []
        try:
            while pending:
                part = pending.popleft()
                if part == "..":
                    if missing:
                        missing.pop()
                    elif names:
                        names.pop()
                    continue
                if missing:
                    missing.append(part)
                    continue
                parent = self.descriptor(tuple(names))
                try:
                    info = os.stat(part, dir_fd=parent, follow_symlinks=False)
                except FileNotFoundError:
                    missing.append(part)
                    continue
                last = not pending
                if last:
                    kind = _kind(info.st_mode)
                    return Location(self, _path(names, part), tuple(names), (), part, kind)
                if stat.S_ISLNK(info.st_mode):
                    links += 1
                    if links > _MAX_LINKS:
                        raise PatchError(
                            f"{display}: too many levels of symbolic links. {_NOTHING_CHANGED}"
                        )
                    try:
                        target = os.readlink(part, dir_fd=parent)
                    except OSError:
                        pending.appendleft(part)  # it stopped being a link: look again
                        continue
                    if target.startswith("/"):
                        names.clear()
                    pending.extendleft(reversed(_components(target)))
                    continue
                if not stat.S_ISDIR(info.st_mode):
                    missing.append(part)  # a file in the way: planning names it
                    continue
                try:
                    self.descriptor((*names, part))
                except OSError as error:
                    # Swapped since the stat (ENOTDIR or ELOOP: now a link): look again, within the budget.
                    links += 1
                    if error.errno not in (errno.ENOTDIR, errno.ENOENT, errno.ELOOP) or links > _MAX_LINKS:
                        raise
                    pending.appendleft(part)
                    continue
                names.append(part)
        except PatchError:
            raise
        except OSError as error:
            where = "/" + "/".join(names)
            raise PatchError(
                f"{display}: cannot look up the path (at {where}: {error.strerror or error}). "
                f"{_NOTHING_CHANGED}"
            ) from error
        if missing:
            name = missing.pop()
            return Location(self, _path(names, *missing, name), tuple(names), tuple(missing), name, "missing")
        return Location(self, _path(names), tuple(names), (), "", "dir")


def _path(names: list[str], *more: str) -> Path:
    return Path("/" + "/".join([*names, *more]))


def read_regular(location: Location, display: str, limit: int = MAX_FILE_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file at ``location``, refusing anything else before reading it.

    The file is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO does not block the open) and
    checked with ``fstat`` on that descriptor: a FIFO, device or socket is never read, and a file
    over ``limit`` bytes is refused with its size.
    """
    try:
        fd = os.open(location.name, _READ_FLAGS, dir_fd=location.dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise PatchError(
                f"{display}: became a symbolic link while the patch was being checked; try again. "
                f"{_NOTHING_CHANGED}"
            ) from error
        raise PatchError(f"{display}: cannot read: {error.strerror}. {_NOTHING_CHANGED}") from error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PatchError(
                f"{display}: is {describe_type(info.st_mode)}, not a regular file; apply_patch "
                f"edits regular files only. {_NOTHING_CHANGED}"
            )
        if info.st_size > limit:
            raise PatchError(too_big(display, info.st_size, limit))
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, max(info.st_size - total, 0) + 65536)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise PatchError(too_big(display, total, limit))
            chunks.append(chunk)
        return b"".join(chunks), info
    except OSError as error:
        raise PatchError(f"{display}: cannot read: {error.strerror}. {_NOTHING_CHANGED}") from error
    finally:
        os.close(fd)


def too_big(display: str, size: int, limit: int) -> str:
    """The message for a file over apply_patch's size limit."""
    return (
        f"{display}: is {size:,} bytes, over apply_patch's limit of {limit:,} bytes "
        f"({limit // (1024 * 1024)} MiB); edit a file this large with a shell command "
        f"(sed, a script) instead. {_NOTHING_CHANGED}"
    )
