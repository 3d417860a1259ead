"""Image files for the model: recognised by their first bytes, size-checked, hashed.

One loader serves every way an image reaches a conversation: ``codex exec -i``, ``codex -i``
and a path pasted into the terminal, the ``view_image`` tool, and a resumed session that reads
its images again. The type comes from the file's magic bytes, never its name (a ``.png`` that
is really a JPEG is sent as JPEG; a text file named ``.png`` is refused).

The rollout stores an image's path, type, size and sha256, not its bytes: a session file stays
small enough to list and resume quickly, and codex does not keep a second copy of screenshots
under CODEX_HOME. ``reload_images`` reads them back on resume and checks the hash; an image
that was moved or changed since is replaced by a note the model can read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from codex.errors import CodexError, UsageError
from codex.protocol import ImageInput, InputItem, Message

# OpenAI accepts images up to 20 MB in a request (the vision guide's limit); codex does not
# resize, so a bigger file would only fail at the server after the upload.
MAX_IMAGE_BYTES = 20 * 1024 * 1024

SUPPORTED = "PNG, JPEG, GIF or WebP"


class ImageError(CodexError):
    """A file that cannot be sent as an image; the message names the file and why."""


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type for a file starting with ``head`` (its first 12 bytes suffice), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_from_bytes(path: str, data: bytes, *, limit: int = MAX_IMAGE_BYTES) -> ImageInput:
    """An ``ImageInput`` for bytes already read from ``path``; raises ``ImageError``."""
    if len(data) > limit:
        raise ImageError(
            f"{path}: the image is {_size(len(data))}, more than the {_size(limit)} a model accepts; "
            "scale it down or crop it first"
        )
    mime_type = sniff_image_type(data[:12])
    if mime_type is None:
        raise ImageError(f"{path}: not an image codex can send (expected {SUPPORTED}, judged by the file's content)")
    return ImageInput(path, mime_type, len(data), hashlib.sha256(data).hexdigest(), data)


def read_image_fd(fd: int, path: str, *, limit: int = MAX_IMAGE_BYTES) -> ImageInput:
    """Read an image from an open descriptor (a regular file), checking size before reading it all."""
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{path}: is a directory, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"{path}: not a regular file (a device, pipe or socket is never read as an image)")
    if info.st_size > limit:
        raise ImageError(
            f"{path}: the image is {_size(info.st_size)}, more than the {_size(limit)} a model accepts; "
            "scale it down or crop it first"
        )
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:  # the file grew while we read it
            raise ImageError(f"{path}: the image is more than the {_size(limit)} a model accepts")
        chunks.append(chunk)
    return image_from_bytes(path, b"".join(chunks), limit=limit)


def open_image_file(path: str | Path, shown: str, *, follow_symlinks: bool = True) -> int:
    """A read-only descriptor of the file at ``path`` (non-blocking, so a FIFO cannot stall
    codex); ``ImageError`` naming ``shown`` when it cannot be opened."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        raise ImageError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{shown}: is a directory, not an image file") from None
    except OSError as exc:
        raise ImageError(f"{shown}: cannot read it ({exc.strerror})") from None


def load_image(path: Path, *, limit: int = MAX_IMAGE_BYTES) -> ImageInput:
    """Read the image at ``path`` (stored under its absolute path); raises ``ImageError``."""
    shown = str(path)
    fd = open_image_file(path, shown)
    try:
        image = read_image_fd(fd, shown, limit=limit)
    finally:
        os.close(fd)
    image.path = str(path.absolute())
    return image


def image_arguments(values: Iterable[str]) -> list[str]:
    """The paths given with ``-i``: each value, or its comma-separated parts (``-i a.png,b.png``).

    A value that names an existing file is kept whole, so a path with a comma still works.
    """
    paths: list[str] = []
    for value in values:
        if "," in value and not os.path.exists(value):
            paths.extend(part for part in (p.strip() for p in value.split(",")) if part)
        elif value.strip():
            paths.append(value)
    return paths


def load_image_arguments(values: Sequence[str], cwd: Path) -> list[ImageInput]:
    """Load every ``-i`` image (relative to ``cwd``) before the session starts; a bad one is a
    usage error naming the file, so nothing is sent half-attached."""
    images: list[ImageInput] = []
    for value in image_arguments(values):
        path = Path(value).expanduser()
        try:
            images.append(load_image(path if path.is_absolute() else cwd / path))
        except ImageError as exc:
            raise UsageError(f"-i/--image {exc}") from None
    return images


def reload_images(items: list[InputItem]) -> list[str]:
    """Read the images of a resumed session's messages again; returns a warning per image that
    is gone or changed (its sha256 differs), which is then sent as a note instead."""
    warnings: list[str] = []
    for item in items:
        if not isinstance(item, Message) or not item.images:
            continue
        for image in item.images:
            try:
                with open(image.path, "rb") as handle:
                    data = handle.read(MAX_IMAGE_BYTES + 1)
            except OSError as exc:
                warnings.append(f"image {image.path} of the resumed session cannot be read ({exc.strerror}); "
                                "the model is told it is gone")
                continue
            if hashlib.sha256(data).hexdigest() != image.sha256:
                warnings.append(f"image {image.path} changed since it was sent; the model is told it is gone")
                continue
            image.data = data
    return warnings


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB"
    return f"{count / 1024:.0f} KiB" if count >= 1024 else f"{count} bytes"
