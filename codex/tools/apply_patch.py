"""The apply_patch engine: parse the Codex patch format, verify every hunk, then write atomically.

The format is the Rust Codex CLI's::

    *** Begin Patch
    *** Add File: path/new.py
    +line
    *** Delete File: path/old.py
    *** Update File: path/a.py
    *** Move to: path/b.py
    @@ def foo():
     context
    -removed
    +added
    *** End of File
    *** End Patch

Nothing here knows about tools, approvals or sandboxes: :func:`plan_patch` reads files and
computes every new content without writing; :func:`apply_changes` writes them all or none.

Decisions where the peer is silent or where we deliberately do better (each one is tested):

* Paths may be relative (resolved against ``cwd``) or absolute, as in the peer. Each path is
  found once, by a walk over open directory descriptors from ``/`` (:mod:`codex.tools.patch.paths`):
  every directory is opened with ``O_NOFOLLOW | O_DIRECTORY`` relative to its parent, a symlink on
  the way is read and its target walked the same way. The policy judges the real path that walk
  found (:func:`touched_paths`, before any file is read), and every read, write, rename and delete
  then goes through the held descriptors and a single name: nothing is resolved twice, so a
  command that swaps a directory for a symlink cannot redirect a write that was approved.
* Symlinks: a symlink in the middle of a path, or as the file an ``Add``/``Update``/``Move to``
  names, is followed (a chain to its end), and the file it leads to is what the policy judges and
  what is written; the link itself is kept. A link that leads outside the writable roots (or into
  a protected directory) is therefore not written through without approval. ``*** Delete File``
  of a symlink removes the link itself, never its target.
* Under a restrictive sandbox policy a patch is auto-approved only when every real path is inside
  a writable root, has no component below that root named like a protected directory (``.git``,
  ``.codex``; ``allow_git_writes`` drops ``.git``), and is not inside a read-only subpath. Such a
  patch is otherwise asked about (or refused under ``never`` and in ``codex exec``). Directories
  are created only below an existing writable root, never the root itself.
* Only regular files are read: a FIFO, device or socket is refused before it is read (opened with
  ``O_NONBLOCK | O_NOFOLLOW``, checked with ``fstat``), and so is a file over
  :data:`MAX_FILE_BYTES` (32 MiB).
* ``*** Add File`` onto an existing file is refused, unless the file already holds exactly the
  new content (then it is a no-op, so re-running a patch is harmless). To replace a file, delete
  it and add it again in the same patch. The peer silently overwrites.
* ``*** Move to`` onto an existing file is refused unless an earlier hunk of the same patch
  deleted (or moved away) that file. Moving onto the same path is a plain update. A move
  without any ``@@`` chunk is a pure rename (the peer rejects it as empty).
* Context lines are matched exactly first, then ignoring trailing whitespace, then ignoring
  surrounding whitespace, then with typographic punctuation mapped to ASCII. Context lines keep
  the file's own text even when they matched fuzzily (the peer rewrites them with the patch's).
* Several ``@@`` header lines in a row narrow the search step by step (``@@ class A`` then
  ``@@ def f``). A chunk of only ``+`` lines goes right after its ``@@`` header line, or at the
  end of the file when it has none. A git-style header ``@@ -3,4 +3,5 @@ def f`` is read as
  ``@@ def f``.
* ``*** End of File`` anchors the chunk's old lines at the very end of the file.
* Line endings: a file whose every newline is CRLF stays CRLF (added lines get CRLF too); a
  UTF-8 byte-order mark is kept. A file without a newline at its end keeps it absent as long as
  its last line stays the last line; when the patch changes or appends at the end of the file,
  the new last line ends with a newline like every other line the patch writes.
* The unified diff an update shows (events, approval prompts, the exec transcript) is built from
  the regions its chunks changed, with three lines of context and hunks merged where their
  context meets, as difflib and git do: its cost follows the patch, not the file. Inside a region
  lines are aligned as difflib would, so a line a chunk deletes and adds back shows as context.
* Files are written atomically (temporary file in the same directory descriptor, then
  ``renameat``), keeping the mode (and, as root, the owner) of updated files. If any write
  fails, the files already written are restored from in-memory backups and the error says so.

The engine lives in ``codex/tools/patch/``: ``grammar`` (format and parser), ``matching`` (the
four strictness levels), ``plan`` (verify and compute), ``diff`` (unified diffs), ``paths``
(the descriptor walk and the read checks), ``roots`` (what the policy lets codex write),
``writing`` (atomic writes and rollback) and ``shell`` (patches sent through the shell tool).
This module is its public face.
"""

from __future__ import annotations

from pathlib import Path

from codex.tools.patch.grammar import AddFile, DeleteFile, Hunk, UpdateChunk, UpdateFile, parse_patch
from codex.tools.patch.paths import MAX_FILE_BYTES, Resolver
from codex.tools.patch.plan import FileChange, patch_paths, plan_patch, touched_paths
from codex.tools.patch.shell import ShellPatch, extract_patch_from_shell
from codex.tools.patch.writing import apply_changes

__all__ = [
    "MAX_FILE_BYTES",
    "AddFile",
    "DeleteFile",
    "FileChange",
    "Hunk",
    "Resolver",
    "ShellPatch",
    "UpdateChunk",
    "UpdateFile",
    "apply_changes",
    "apply_patch",
    "extract_patch_from_shell",
    "parse_patch",
    "patch_paths",
    "plan_patch",
    "touched_paths",
]


def apply_patch(text: str, cwd: Path) -> tuple[list[FileChange], str]:
    """Plan and apply a patch; returns the changes and the summary text.

    For example ``apply_patch("*** Begin Patch\\n*** Add File: hi.txt\\n+hi\\n*** End Patch", cwd)``
    creates ``cwd/hi.txt`` and returns ``"Success. Updated the following files:\\nA hi.txt\\n"``.
    """
    with Resolver() as resolver:
        changes = plan_patch(text, cwd, resolver)
        return changes, apply_changes(changes, cwd)
