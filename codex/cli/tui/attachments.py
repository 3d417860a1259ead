"""Images that go with the next message: ``codex -i FILE`` and image paths pasted into the prompt.

A paste that is nothing but the path of an existing image file (as a terminal pastes a file
dragged onto it: maybe quoted, maybe with backslash-escaped spaces, maybe a ``file://`` URL)
becomes ``[image: name.png]`` in the input box, and the image goes with the message that still
contains that placeholder when it is sent. Deleting the placeholder drops the image.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from codex.protocol import ImageInput

# A pasted path longer than this is prose, not a file name.
_MAX_PATH_CHARS = 4096


def placeholder(image: ImageInput) -> str:
    """How an attached image is shown in the input box and the transcript."""
    return f"[image: {image.name}]"


def pasted_path(text: str, cwd: Path) -> Path | None:
    """The file a paste names, if the paste is one path of an existing file (else None)."""
    candidate = text.strip()
    if not candidate or "\n" in candidate or len(candidate) > _MAX_PATH_CHARS:
        return None
    if len(candidate) >= 2 and candidate[0] == candidate[-1] and candidate[0] in "'\"":
        candidate = candidate[1:-1]
    elif candidate.startswith("file://"):
        candidate = unquote(urlsplit(candidate).path)
    elif "\\ " in candidate or "\\(" in candidate or "\\)" in candidate:
        candidate = candidate.replace("\\ ", " ").replace("\\(", "(").replace("\\)", ")")
    path = Path(candidate).expanduser()
    if not path.is_absolute():
        path = cwd / path
    return path if os.path.isfile(path) else None


class Attachments:
    """The images waiting for the next message: given with ``-i``, or pasted as paths."""

    def __init__(self, given: tuple[ImageInput, ...] = ()) -> None:
        # -i images go with the first message whatever its text; pasted ones while their
        # placeholder is still in it.
        self.given: list[ImageInput] = list(given)
        self.pasted: dict[str, ImageInput] = {}

    def paste(self, text: str, cwd: Path) -> str:
        """What to insert for a paste: a placeholder when it names an image, else the text itself.

        Raises ``codex.images.ImageError`` for an image that cannot be sent (too big).
        """
        path = pasted_path(text, cwd)
        if path is None:
            return text
        from codex.images import load_image, sniff_image_type

        try:
            with open(path, "rb") as handle:
                head = handle.read(12)
        except OSError:
            return text
        if sniff_image_type(head) is None:
            return text  # a path of some other file: the person meant the text
        image = load_image(path)
        label = placeholder(image)
        number = 2
        while label in self.pasted and self.pasted[label].sha256 != image.sha256:
            label = f"[image: {image.name} #{number}]"
            number += 1
        self.pasted[label] = image
        return label

    def take(self, text: str) -> tuple[ImageInput, ...]:
        """The images that go with a message of ``text``; nothing waits afterwards."""
        images = [*self.given, *(image for label, image in self.pasted.items() if label in text)]
        self.given.clear()
        self.pasted.clear()
        return tuple(images)
