"""Files only the user can read: everything under CODEX_HOME and the cache directory.

Directories codex creates are 0700 and files 0600, whatever the umask: prompts, rollouts and
config.toml can hold secrets. Writes go to a temporary file created with ``O_EXCL|O_NOFOLLOW``
and renamed over the target, so a symlink planted at either name is never followed and a reader
sees the old content or the new, never half of it.
"""

from __future__ import annotations

import os

DIR_MODE = 0o700
FILE_MODE = 0o600
# A cache or state file larger than this is not ours: it is refused, not read into memory.
MAX_READ_BYTES = 4 * 1024 * 1024

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def make_private_dirs(path: str | os.PathLike[str]) -> None:
    """Create ``path`` and its missing parents, each new one 0700 (``os.makedirs`` gives the
    parents the umask's mode, typically 0755)."""
    missing: list[str] = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue
        # mkdir's mode is masked by the umask; an unusual umask must not widen or empty it.
        os.chmod(directory, DIR_MODE)


def narrow_directory(path: str | os.PathLike[str]) -> None:
    """Make an existing directory of ours 0700 (one left 0755 by an older version)."""
    try:
        info = os.lstat(path)
        if info.st_uid == os.geteuid() and info.st_mode & 0o077 and not os.path.islink(path):
            os.chmod(path, DIR_MODE)
    except (OSError, AttributeError):
        pass  # not ours, gone, or no geteuid (Windows): nothing to narrow


def write_private_file(path: str | os.PathLike[str], data: bytes, *, sync: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically; the file is 0600 and a symlink is never followed.

    Raises OSError when the directory is missing or not writable.
    """
    target = os.fspath(path)
    temporary = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{os.getpid()}.tmp")
    try:
        os.unlink(temporary)  # a leftover of a killed run with this pid (or a planted link)
    except FileNotFoundError:
        pass
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, FILE_MODE)
    try:
        try:
            if hasattr(os, "fchmod"):  # not on Windows, where the mode bits mean little
                os.fchmod(fd, FILE_MODE)  # the umask may have removed bits, never added: make it exact
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def read_private_file(path: str | os.PathLike[str]) -> bytes | None:
    """The content of a regular file of ours that nobody else may write, else None.

    A symlink, a FIFO, a file of another user or one writable by group or others is refused
    (None), as is a file over ``MAX_READ_BYTES``: whoever made it, it was not codex.
    """
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        import stat

        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o022 or info.st_size > MAX_READ_BYTES:
            return None
        geteuid = getattr(os, "geteuid", None)
        if geteuid is not None and info.st_uid != geteuid():
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_READ_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        return None
    except OSError:
        return None
    finally:
        os.close(fd)

