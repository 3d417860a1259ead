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

* Paths may be relative (resolved against ``cwd``) or absolute, as in the peer. Approval code
  should look at :func:`patch_paths`, which resolves ``..`` and symlinks.
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
* Files are written atomically (temporary file in the same directory, then ``os.replace``),
  keeping the mode (and, as root, the owner) of updated files; symlinks are followed on update,
  and a deleted symlink is removed as a link. If any write fails, the files already written are
  restored from in-memory backups and the error says so.

The engine lives in ``codex/tools/patch/``: ``grammar`` (format and parser), ``matching`` (the
four strictness levels), ``plan`` (verify and compute), ``diff`` (unified diffs), ``writing``
(atomic writes and rollback) and ``shell`` (patches sent through the shell tool). This module is
its public face.
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
