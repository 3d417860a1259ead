"""The ``view_image`` tool: the model looks at an image file in the workspace.

The model passes a path; codex reads the file (PNG, JPEG, GIF or WebP, judged by its content,
at most ``codex.images.MAX_IMAGE_BYTES``) and the image goes to the model as an input image in
a user message right after the turn's tool outputs, on every wire.

Only files in the readable area are sent: the working directory and the sandbox's writable
roots (anywhere under danger-full-access). codex reads the file itself, outside the sandbox, and
sends it to the provider, so the check is made on the file actually opened (its real path after
opening, where the system tells it), not on the name the model gave, which a symlink could
point elsewhere.

Declared as data (``VIEW_IMAGE_SCHEMA``): offering the tool imports neither a validator nor this
module's handler; ``codex.tools.builtin`` adds ``view_image_tool()`` to the built-ins.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.tools.base import Tool, ToolContext, ToolResult

if TYPE_CHECKING:
    from codex.protocol import ImageInput
    from codex.sandbox import SandboxPolicy

DESCRIPTION = (
    "Look at an image file (PNG, JPEG, GIF or WebP) in the workspace: give its path, relative to "
    "the working directory or absolute. The image is shown to you in the next message."
)

# The parameters as the model reads them and as codex checks each call.
VIEW_IMAGE_SCHEMA: dict[str, Any] = {
    "description": "Arguments of view_image.",
    "properties": {
        "path": {
            "description": "The image file, relative to the working directory or absolute.",
            "minLength": 1,
            "type": "string",
        },
    },
    "required": ["path"],
    "type": "object",
    "additionalProperties": False,
}


def view_image_tool() -> Tool:
    """The tool as the session offers it (schema as data, handler by reference)."""
    import copy

    return Tool("view_image", DESCRIPTION, copy.deepcopy(VIEW_IMAGE_SCHEMA),
                "codex.tools.view_image:run_view_image", read_only=True)


async def run_view_image(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """Handler of view_image: the image travels in ``ToolResult.images``."""
    from codex.images import ImageError

    requested = Path(args["path"]).expanduser()
    path = requested if requested.is_absolute() else ctx.cwd / requested
    try:
        image = await asyncio.to_thread(read_readable_image, path, ctx.cwd, ctx.sandbox_policy)
    except ImageError as exc:
        return ToolResult(f"error: {exc}", False)
    size = f"{image.size / 1024:.0f} KiB" if image.size >= 1024 else f"{image.size} bytes"
    return ToolResult(f"Attached {image.name} ({image.mime_type}, {size}); it follows as an image.", True, (image,))


def readable_roots(cwd: Path, policy: SandboxPolicy) -> list[Path] | None:
    """Where view_image may read: the working directory and the writable roots (None: anywhere)."""
    from codex.sandbox import SandboxMode

    if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        return None
    roots = [cwd.resolve()]
    roots.extend(root for root in policy.writable_roots if root not in roots)
    return roots


def read_readable_image(path: Path, cwd: Path, policy: SandboxPolicy) -> ImageInput:
    """Read the image at ``path`` if it lies in the readable area; raises ``ImageError``."""
    from codex.images import ImageError, open_image_file, read_image_fd

    roots = readable_roots(cwd, policy)
    resolved = Path(os.path.realpath(path))
    if roots is not None and not _inside(resolved, roots):
        raise ImageError(_outside(path, roots))
    fd = open_image_file(resolved, str(path), follow_symlinks=False)
    try:
        # A directory on the way may have been swapped for a symlink since realpath: ask the
        # system which file is open, where it can tell.
        opened = _opened_path(fd)
        if roots is not None and opened is not None and not _inside(opened, roots):
            raise ImageError(_outside(path, roots))
        image = read_image_fd(fd, str(path))
    finally:
        os.close(fd)
    image.path = str(resolved)
    return image


def _opened_path(fd: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None  # no /proc (macOS): the realpath check above stands alone


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _outside(path: Path, roots: list[Path]) -> str:
    shown = ", ".join(str(root) for root in roots)
    return (f"{path}: outside the readable area ({shown}); view_image reads files in the working directory "
            "and the writable roots only")
