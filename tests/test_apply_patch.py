"""Applying patches to real files: features, fuzzy matching, all-or-nothing failures, rollback."""

from __future__ import annotations

import difflib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex.errors import PatchError
from codex.tools.apply_patch import FileChange, apply_changes, apply_patch, plan_patch

Snapshot = dict[str, tuple[str, bytes | str | None, int]]


def patch(*body: str) -> str:
    return "\n".join(["*** Begin Patch", *body, "*** End Patch"]) + "\n"


class Workspace:
    """A directory of real files, with a byte-for-byte snapshot to prove nothing changed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def file(self, name: str, content: str | bytes, mode: int | None = None) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        if mode is not None:
            path.chmod(mode)
        return path

    def read(self, name: str) -> str:
        return (self.root / name).read_bytes().decode("utf-8")

    def exists(self, name: str) -> bool:
        return os.path.lexists(self.root / name)

    def snapshot(self) -> Snapshot:
        result: Snapshot = {}
        for directory, subdirs, files in os.walk(self.root):
            for name in subdirs + files:
                path = Path(directory) / name
                info = path.lstat()
                key = str(path.relative_to(self.root))
                if stat.S_ISLNK(info.st_mode):
                    result[key] = ("link", os.readlink(path), 0)
                elif stat.S_ISDIR(info.st_mode):
                    result[key] = ("dir", None, stat.S_IMODE(info.st_mode))
                else:
                    result[key] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
        return result

    def apply(self, text: str) -> str:
        return apply_patch(text, self.root)[1]

    def fails(self, text: str, *fragments: str) -> str:
        before = self.snapshot()
        with pytest.raises(PatchError) as caught:
            apply_patch(text, self.root)
        assert self.snapshot() == before, "a failed patch changed the tree"
        message = str(caught.value)
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        return message


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def summary(*lines: str) -> str:
    return "\n".join(["Success. Updated the following files:", *lines]) + "\n"


# ---------------------------------------------------------------------------------------------
# Grammar features on real files
# ---------------------------------------------------------------------------------------------


def test_add_update_delete_and_move_in_one_patch(ws: Workspace) -> None:
    ws.file("a.py", "def f():\n    return 1\n")
    ws.file("old.txt", "bye\n")
    ws.file("mv.txt", "keep\nchange\n", mode=0o755)
    out = ws.apply(
        patch(
            "*** Add File: pkg/deep/new.py",
            "+print('hi')",
            "*** Update File: a.py",
            "@@ def f():",
            "-    return 1",
            "+    return 2",
            "*** Delete File: old.txt",
            "*** Update File: mv.txt",
            "*** Move to: moved/into/here.txt",
            " keep",
            "-change",
            "+changed",
        )
    )
    assert out == summary("A pkg/deep/new.py", "M a.py", "D old.txt", "M moved/into/here.txt")
    assert ws.read("pkg/deep/new.py") == "print('hi')\n"
    assert ws.read("a.py") == "def f():\n    return 2\n"
    assert not ws.exists("old.txt")
    assert not ws.exists("mv.txt")
    assert ws.read("moved/into/here.txt") == "keep\nchanged\n"
    assert stat.S_IMODE((ws.root / "moved/into/here.txt").stat().st_mode) == 0o755


def test_pure_rename_keeps_content(ws: Workspace) -> None:
    ws.file("a.txt", "same\nno newline")
    assert ws.apply(patch("*** Update File: a.txt", "*** Move to: b/a.txt")) == summary("M b/a.txt")
    assert ws.read("b/a.txt") == "same\nno newline"
    assert not ws.exists("a.txt")


def test_headers_pick_the_right_occurrence(ws: Workspace) -> None:
    ws.file("m.py", "def a():\n    return 1\n\ndef b():\n    return 1\n\ndef c():\n    return 1\n")
    ws.apply(
        patch(
            "*** Update File: m.py",
            "@@ def b():",
            "-    return 1",
            "+    return 2",
            "@@ def c():",
            "-    return 1",
            "+    return 3",
        )
    )
    assert ws.read("m.py") == "def a():\n    return 1\n\ndef b():\n    return 2\n\ndef c():\n    return 3\n"


def test_consecutive_headers_reach_a_method_in_the_second_class(ws: Workspace) -> None:
    source = "class A:\n    def f(self):\n        return 0\n\nclass B:\n    def f(self):\n        return 0\n"
    ws.file("c.py", source)
    ws.apply(
        patch("*** Update File: c.py", "@@ class B:", "@@     def f(self):", "-        return 0", "+        return 9")
    )
    assert ws.read("c.py") == source[: source.rindex("0")] + "9\n"


def test_header_repeated_as_first_context_line(ws: Workspace) -> None:
    ws.file("a.py", "x = 0\ndef f():\n    pass\n")
    ws.apply(patch("*** Update File: a.py", "@@ def f():", " def f():", "-    pass", "+    return 1"))
    assert ws.read("a.py") == "x = 0\ndef f():\n    return 1\n"


def test_insertion_goes_after_its_header_or_at_the_end(ws: Workspace) -> None:
    ws.file("a.py", "import os\n\ndef f():\n    return 1\n")
    ws.apply(patch("*** Update File: a.py", "@@ import os", "+import sys", "@@", "+", "+X = 1"))
    assert ws.read("a.py") == "import os\nimport sys\n\ndef f():\n    return 1\n\nX = 1\n"


def test_git_style_header(ws: Workspace) -> None:
    ws.file("a.txt", "one\ntwo\nthree\n")
    ws.apply(patch("*** Update File: a.txt", "@@ -1,3 +1,3 @@", " one", "-two", "+2", " three"))
    assert ws.read("a.txt") == "one\n2\nthree\n"


def test_first_chunk_without_header_then_more_chunks(ws: Workspace) -> None:
    ws.file("n.txt", "".join(f"{i}\n" for i in range(1, 11)))
    ws.apply(patch("*** Update File: n.txt", " 1", "-2", "+two", "@@", " 8", "-9", "+nine"))
    assert ws.read("n.txt") == "1\ntwo\n3\n4\n5\n6\n7\n8\nnine\n10\n"


def test_end_of_file_anchors_at_the_last_occurrence(ws: Workspace) -> None:
    ws.file("a.txt", "x\nmiddle\nx\n")
    ws.apply(patch("*** Update File: a.txt", "@@", "-x", "+y", "*** End of File"))
    assert ws.read("a.txt") == "x\nmiddle\ny\n"
    ws.apply(patch("*** Update File: a.txt", "@@", "-x", "+z"))
    assert ws.read("a.txt") == "z\nmiddle\ny\n"


def test_end_of_file_append(ws: Workspace) -> None:
    ws.file("a.txt", "a\nb\n")
    ws.apply(patch("*** Update File: a.txt", "@@", " b", "+c", "*** End of File"))
    assert ws.read("a.txt") == "a\nb\nc\n"


def test_end_of_file_mismatch_fails(ws: Workspace) -> None:
    ws.file("a.txt", "x\nmiddle\n")
    ws.fails(
        patch("*** Update File: a.txt", "@@", "-x", "+y", "*** End of File"),
        "a.txt",
        "chunk 1 of 1",
        "End of File",
        "'x'",
    )


def test_same_file_updated_by_two_hunks_composes(ws: Workspace) -> None:
    ws.file("a.txt", "1\n2\n")
    ws.apply(patch("*** Update File: a.txt", "-1", "+one", "*** Update File: a.txt", "-2", "+two"))
    assert ws.read("a.txt") == "one\ntwo\n"


def test_delete_then_add_replaces_a_file(ws: Workspace) -> None:
    ws.file("a.txt", "old\n")
    out = ws.apply(patch("*** Delete File: a.txt", "*** Add File: a.txt", "+new"))
    assert out == summary("D a.txt", "A a.txt")
    assert ws.read("a.txt") == "new\n"


def test_add_with_identical_content_is_a_harmless_rerun(ws: Workspace) -> None:
    ws.file("a.txt", "same\n")
    before = ws.snapshot()
    assert ws.apply(patch("*** Add File: a.txt", "+same")) == summary("A a.txt")
    assert ws.snapshot() == before


def test_a_deleted_file_can_become_a_directory(ws: Workspace) -> None:
    ws.file("a", "plain file\n")
    assert ws.apply(patch("*** Delete File: a", "*** Add File: a/b.txt", "+inside")) == summary("D a", "A a/b.txt")
    assert ws.read("a/b.txt") == "inside\n"


def test_move_onto_a_file_deleted_earlier_in_the_patch(ws: Workspace) -> None:
    ws.file("a.txt", "a\n")
    ws.file("b.txt", "b\n")
    ws.apply(patch("*** Delete File: b.txt", "*** Update File: a.txt", "*** Move to: b.txt", "-a", "+A"))
    assert ws.read("b.txt") == "A\n"
    assert not ws.exists("a.txt")


def test_move_onto_itself_is_a_plain_update(ws: Workspace) -> None:
    ws.file("a.txt", "a\n")
    assert ws.apply(patch("*** Update File: a.txt", "*** Move to: ./a.txt", "-a", "+b")) == summary("M a.txt")
    assert ws.read("a.txt") == "b\n"


def test_absolute_paths_and_paths_outside_cwd(ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("elsewhere")
    (other / "x.txt").write_text("x\n")
    out = ws.apply(patch(f"*** Update File: {other / 'x.txt'}", "-x", "+y"))
    assert out == summary(f"M {other / 'x.txt'}")
    assert (other / "x.txt").read_text() == "y\n"


def test_update_through_symlink_keeps_the_link(ws: Workspace) -> None:
    ws.file("real.txt", "a\n")
    os.symlink("real.txt", ws.root / "link.txt")
    ws.apply(patch("*** Update File: link.txt", "-a", "+b"))
    assert os.readlink(ws.root / "link.txt") == "real.txt"
    assert ws.read("real.txt") == "b\n"


def test_delete_symlink_removes_only_the_link(ws: Workspace) -> None:
    ws.file("real.txt", "a\n")
    os.symlink("real.txt", ws.root / "link.txt")
    ws.apply(patch("*** Delete File: link.txt"))
    assert not ws.exists("link.txt")
    assert ws.read("real.txt") == "a\n"


def test_modes_are_kept_and_new_files_follow_the_umask(ws: Workspace) -> None:
    ws.file("run.sh", "echo a\n", mode=0o750)
    ws.apply(patch("*** Update File: run.sh", "-echo a", "+echo b", "*** Add File: new.txt", "+n"))
    assert stat.S_IMODE((ws.root / "run.sh").stat().st_mode) == 0o750
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((ws.root / "new.txt").stat().st_mode) == 0o666 & ~umask


def test_no_temporary_files_are_left_behind(ws: Workspace) -> None:
    ws.file("a.txt", "a\n")
    ws.apply(patch("*** Update File: a.txt", "-a", "+b", "*** Add File: d/n.txt", "+n"))
    assert sorted(ws.snapshot()) == ["a.txt", "d", "d/n.txt"]


# ---------------------------------------------------------------------------------------------
# Fuzzy matching, level by level
# ---------------------------------------------------------------------------------------------


def test_exact_match_wins_over_an_earlier_fuzzy_one(ws: Workspace) -> None:
    ws.file("a.txt", "foo   \nmid\nfoo\n")
    ws.apply(patch("*** Update File: a.txt", "-foo", "+bar"))
    assert ws.read("a.txt") == "foo   \nmid\nbar\n"


def test_trailing_whitespace_is_ignored_and_context_keeps_the_files_text(ws: Workspace) -> None:
    ws.file("a.txt", "keep  \t\nold \n")
    ws.apply(patch("*** Update File: a.txt", " keep", "-old", "+new"))
    assert ws.read("a.txt") == "keep  \t\nnew\n"


def test_surrounding_whitespace_is_ignored(ws: Workspace) -> None:
    ws.file("a.py", "if x:\n        call()\n        done()\n")
    ws.apply(patch("*** Update File: a.py", "@@  if x:", "     call()", "-    done()", "+        finish()"))
    assert ws.read("a.py") == "if x:\n        call()\n        finish()\n"


def test_typographic_punctuation_is_normalised(ws: Workspace) -> None:
    source = "title = \u201cHello\u201d \u2014 it\u2019s\u00a0here\nrange = 1\u20132\n"
    ws.file("t.py", source)
    ws.apply(patch("*** Update File: t.py", " title = \"Hello\" - it's here", "-range = 1-2", "+range = 1-3"))
    assert ws.read("t.py") == "title = \u201cHello\u201d \u2014 it\u2019s\u00a0here\nrange = 1-3\n"


def test_typographic_header(ws: Workspace) -> None:
    ws.file("t.md", "# Caf\u00e9 \u2018notes\u2019\nold\n")
    ws.apply(patch("*** Update File: t.md", "@@ # Caf\u00e9 'notes'", "-old", "+new"))
    assert ws.read("t.md") == "# Caf\u00e9 \u2018notes\u2019\nnew\n"


# ---------------------------------------------------------------------------------------------
# Text details: unicode, CRLF, BOM, final newline
# ---------------------------------------------------------------------------------------------


def test_unicode_content_and_paths(ws: Workspace) -> None:
    ws.file("données/été.txt", "naïve 🙂\n中文\n")
    ws.apply(
        patch(
            "*** Update File: données/été.txt",
            " naïve 🙂",
            "-中文",
            "+日本語 ✓",
            "*** Add File: ñ/新.txt",
            "+Ωmega",
        )
    )
    assert ws.read("données/été.txt") == "naïve 🙂\n日本語 ✓\n"
    assert ws.read("ñ/新.txt") == "Ωmega\n"


def test_crlf_file_stays_crlf(ws: Workspace) -> None:
    ws.file("w.txt", b"one\r\ntwo\r\nthree\r\n")
    ws.apply(patch("*** Update File: w.txt", " one", "-two", "+2", "+2.5", " three"))
    assert (ws.root / "w.txt").read_bytes() == b"one\r\n2\r\n2.5\r\nthree\r\n"


def test_crlf_file_without_final_newline(ws: Workspace) -> None:
    ws.file("w.txt", b"one\r\ntwo")
    ws.apply(patch("*** Update File: w.txt", "-one", "+1", " two"))
    assert (ws.root / "w.txt").read_bytes() == b"1\r\ntwo"


def test_crlf_patch_on_lf_file(ws: Workspace) -> None:
    ws.file("u.txt", "a\nb\n")
    ws.apply(patch("*** Update File: u.txt", " a", "-b", "+c").replace("\n", "\r\n"))
    assert (ws.root / "u.txt").read_bytes() == b"a\nc\n"


def test_mixed_line_endings_are_left_alone(ws: Workspace) -> None:
    ws.file("m.txt", b"a\r\nb\nc\n")
    ws.apply(patch("*** Update File: m.txt", "-c", "+d"))
    assert (ws.root / "m.txt").read_bytes() == b"a\r\nb\nd\n"


def test_byte_order_mark_is_kept(ws: Workspace) -> None:
    ws.file("b.txt", "\ufefffirst\nsecond\n")
    ws.apply(patch("*** Update File: b.txt", "-first", "+1st"))
    assert (ws.root / "b.txt").read_bytes() == b"\xef\xbb\xbf1st\nsecond\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The last line is untouched: its missing newline stays missing.
        (["-a", "+A"], "A\nb\nc"),
        # The last line is context at the end of the chunk: still the original last line.
        (["-b", "+B", " c"], "a\nB\nc"),
        # The patch rewrites the last line: it ends with a newline like every patch line.
        (["-c", "+C"], "a\nb\nC\n"),
        # Appending after the last line terminates both.
        (["@@", " c", "+d", "*** End of File"], "a\nb\nc\nd\n"),
        # Deleting the last line leaves a line that always had its newline.
        (["-c"], "a\nb\n"),
    ],
)
def test_file_without_final_newline(ws: Workspace, body: list[str], expected: str) -> None:
    ws.file("n.txt", "a\nb\nc")
    ws.apply(patch("*** Update File: n.txt", *body))
    assert ws.read("n.txt") == expected


def test_final_empty_old_line_stands_for_the_closing_newline(ws: Workspace) -> None:
    ws.file("a.txt", "x\ny\n")
    ws.apply(patch("*** Update File: a.txt", "@@", " x", "-y", "+z", " "))
    assert ws.read("a.txt") == "x\nz\n"


def test_empty_file_can_be_filled(ws: Workspace) -> None:
    ws.file("e.txt", "")
    ws.apply(patch("*** Update File: e.txt", "@@", "+first", "+second"))
    assert ws.read("e.txt") == "first\nsecond\n"


def test_add_empty_file(ws: Workspace) -> None:
    ws.apply(patch("*** Add File: empty.txt"))
    assert ws.read("empty.txt") == ""


# ---------------------------------------------------------------------------------------------
# Failures leave the tree byte-for-byte unchanged
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def populated(ws: Workspace) -> Workspace:
    ws.file("a.py", "def f():\n    return 1\n\ndef g():\n    return 2\n")
    ws.file("b.txt", "bee\n")
    ws.file("dir/c.txt", "see\n")
    return ws


def test_context_mismatch_names_file_chunk_header_and_line(populated: Workspace) -> None:
    message = populated.fails(
        patch(
            "*** Add File: fresh.txt",
            "+new",
            "*** Delete File: b.txt",
            "*** Update File: a.py",
            "@@ def f():",
            "-    return 1",
            "+    return 10",
            "@@ def g():",
            "-    return 2",
            "-    extra line",
            "+    return 20",
        ),
        "a.py",
        "chunk 2 of 2",
        "@@ def g():",
        "patch line 9",
        "'    extra line'",
        "No files were changed",
    )
    assert "line 1 of the chunk matches at a.py:5, but the file ends after line 5" in message


def test_first_line_not_found(populated: Workspace) -> None:
    populated.fails(
        patch("*** Update File: a.py", "-    return 99", "+    return 100"),
        "a.py: chunk 1 of 1",
        "'    return 99'",
        "not found",
    )


def test_header_not_found(populated: Workspace) -> None:
    populated.fails(
        patch("*** Update File: a.py", "@@ def h():", "-    return 2", "+    return 3"),
        "chunk 1 of 1",
        "'def h():'",
    )


def test_chunks_must_follow_each_other(populated: Workspace) -> None:
    populated.fails(
        patch("*** Update File: a.py", "@@ def g():", "-    return 2", "+    return 3", "@@ def f():", "-    return 1"),
        "chunk 2 of 2",
        "'def f():'",
    )


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (["*** Update File: missing.py", "-a", "+b"], ["missing.py", "cannot update", "no such file"]),
        (["*** Delete File: missing.py"], ["missing.py", "cannot delete", "no such file"]),
        (["*** Delete File: dir"], ["dir", "is a directory"]),
        (["*** Update File: dir", "-a"], ["dir", "is a directory"]),
        (["*** Add File: b.txt", "+other"], ["b.txt", "already exists", "*** Delete File: b.txt"]),
        (["*** Add File: b.txt/x.txt", "+x"], ["b.txt/x.txt", "not a directory"]),
        (
            ["*** Update File: b.txt", "*** Move to: dir/c.txt", "-bee", "+B"],
            ["cannot move to dir/c.txt", "already exists"],
        ),
        (["*** Update File: b.txt", "*** Move to: dir"], ["dir", "is a directory"]),
        (["*** Update File: b.txt", "*** Move to: b.txt/deeper.txt"], ["not a directory"]),
        (["*** Delete File: b.txt", "*** Delete File: b.txt"], ["deleted or moved away earlier"]),
        (["*** Delete File: b.txt", "*** Update File: a.py", "-nothing like this"], ["a.py", "chunk 1"]),
        (["*** Update File: a.py", "-def f():", "+bad \ud800 surrogate"], ["cannot be written as UTF-8"]),
        (["*** Add File: n", "+x", "*** Add File: n/m.txt", "+y"], ["n/m.txt", "is a file, not a directory"]),
        (["*** Add File: n/m.txt", "+y", "*** Add File: n", "+x"], ["n", "is a directory"]),
    ],
)
def test_failure_modes(populated: Workspace, body: list[str], fragments: list[str]) -> None:
    populated.fails(patch(*body), *fragments)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "*** Begin Patch\n*** End Patch\n",
        "*** Add File: z.txt\n+z\n*** End Patch\n",
        "*** Begin Patch\n*** Add File: z.txt\n+z\n",
        patch("*** Add File: z.txt", "+z", "*** Update File: a.py", "bad line"),
    ],
)
def test_malformed_patch_writes_nothing(populated: Workspace, text: str) -> None:
    populated.fails(text, "invalid patch")


def test_binary_file_is_refused(ws: Workspace) -> None:
    ws.file("img.bin", b"\x89PNG\r\n\x1a\n\xff\xfe")
    ws.fails(patch("*** Update File: img.bin", "-x"), "img.bin", "not UTF-8")


def test_plan_writes_nothing_and_apply_checks_for_changes_since(populated: Workspace) -> None:
    before = populated.snapshot()
    changes = plan_patch(patch("*** Update File: b.txt", "-bee", "+B", "*** Add File: n.txt", "+n"), populated.root)
    assert populated.snapshot() == before
    assert [c.kind for c in changes] == ["update", "add"]
    assert changes[0].path == populated.root / "b.txt"
    assert changes[0].old_content == "bee\n" and changes[0].new_content == "B\n"
    populated.file("b.txt", "edited meanwhile\n")
    changed = populated.snapshot()
    with pytest.raises(PatchError, match="changed since the patch was checked"):
        apply_changes(changes, populated.root)
    assert populated.snapshot() == changed


def test_apply_changes_refuses_an_empty_list() -> None:
    with pytest.raises(PatchError, match="no file operations"):
        apply_changes([])


# ---------------------------------------------------------------------------------------------
# Rollback when a write fails part-way
# ---------------------------------------------------------------------------------------------

MULTI = patch(
    "*** Delete File: b.txt",
    "*** Update File: a.py",
    "-    return 1",
    "+    return 100",
    "*** Add File: new/deep/file.txt",
    "+fresh",
    "*** Update File: dir/c.txt",
    "*** Move to: moved/c.txt",
    "-see",
    "+sea",
)


def fail_on_call(number: int, real: Callable[..., Any]) -> Callable[..., Any]:
    calls = {"n": 0}

    def replace(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == number:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    return replace


@pytest.mark.parametrize("failing_write", [1, 2, 3])
def test_write_failure_rolls_back_everything(
    populated: Workspace, monkeypatch: pytest.MonkeyPatch, failing_write: int
) -> None:
    populated.file("a.py", "def f():\n    return 1\n", mode=0o700)
    before = populated.snapshot()
    monkeypatch.setattr(os, "rename", fail_on_call(failing_write, os.rename))
    with pytest.raises(PatchError) as caught:
        apply_patch(MULTI, populated.root)
    monkeypatch.undo()
    assert populated.snapshot() == before
    assert "No space left on device" in str(caught.value)
    assert "restored" in str(caught.value)


def test_failure_removing_the_move_source_rolls_back(populated: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    before = populated.snapshot()
    # The first unlink deletes b.txt; the second removes dir/c.txt after its move.
    monkeypatch.setattr(os, "unlink", fail_on_call(2, os.unlink))
    with pytest.raises(PatchError) as caught:
        apply_patch(MULTI, populated.root)
    monkeypatch.undo()
    assert populated.snapshot() == before
    assert "dir/c.txt" in str(caught.value)


def test_interrupt_during_writes_rolls_back_and_propagates(
    populated: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = populated.snapshot()
    real_replace = os.rename
    calls = {"n": 0}

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_replace(*args, **kwargs)

    monkeypatch.setattr(os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        apply_patch(MULTI, populated.root)
    monkeypatch.undo()
    assert populated.snapshot() == before


def test_parent_turned_into_a_file_after_planning_rolls_back(populated: Workspace) -> None:
    changes = plan_patch(MULTI, populated.root)
    populated.file("new", "I am in the way\n")
    before = populated.snapshot()
    with pytest.raises(PatchError) as caught:
        apply_changes(changes, populated.root)
    assert populated.snapshot() == before
    assert "new/deep/file.txt" in str(caught.value)


def test_rollback_turns_a_new_directory_back_into_the_deleted_file(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.file("a", "plain file\n", mode=0o640)
    before = ws.snapshot()
    monkeypatch.setattr(os, "rename", fail_on_call(1, os.rename))
    with pytest.raises(PatchError, match="restored"):
        apply_patch(patch("*** Delete File: a", "*** Add File: a/b.txt", "+inside"), ws.root)
    monkeypatch.undo()
    assert ws.snapshot() == before


def test_rollback_restores_a_deleted_symlink(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ws.file("real.txt", "r\n")
    os.symlink("real.txt", ws.root / "link.txt")
    ws.file("a.txt", "a\n")
    before = ws.snapshot()
    monkeypatch.setattr(os, "rename", fail_on_call(1, os.rename))
    with pytest.raises(PatchError):
        apply_patch(patch("*** Delete File: link.txt", "*** Update File: a.txt", "-a", "+b"), ws.root)
    monkeypatch.undo()
    assert ws.snapshot() == before


# ---------------------------------------------------------------------------------------------
# Diffs for display and approval
# ---------------------------------------------------------------------------------------------


def test_unified_diffs(populated: Workspace, tmp_path_factory: pytest.TempPathFactory) -> None:
    changes = plan_patch(MULTI, populated.root)
    diffs = [c.unified_diff(populated.root) for c in changes]
    assert diffs[0] == "--- a/b.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bee\n"
    assert diffs[1] == (
        "--- a/a.py\n+++ b/a.py\n@@ -1,5 +1,5 @@\n def f():\n-    return 1\n+    return 100\n"
        " \n def g():\n     return 2\n"
    )
    assert diffs[2] == "--- /dev/null\n+++ b/new/deep/file.txt\n@@ -0,0 +1 @@\n+fresh\n"
    assert diffs[3] == "--- a/dir/c.txt\n+++ b/moved/c.txt\n@@ -1 +1 @@\n-see\n+sea\n"
    elsewhere = tmp_path_factory.mktemp("cwd")
    assert f"--- a/{populated.root / 'b.txt'}" in changes[0].unified_diff(elsewhere)


def test_diff_marks_a_missing_final_newline(ws: Workspace) -> None:
    ws.file("n.txt", "a\nb")
    (change,) = plan_patch(patch("*** Update File: n.txt", "-a", "+A"), ws.root)
    assert change.unified_diff(ws.root) == (
        "--- a/n.txt\n+++ b/n.txt\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n\\ No newline at end of file\n"
    )


def test_pure_rename_diff_shows_the_names(ws: Workspace) -> None:
    ws.file("a.txt", "a\n")
    (change,) = plan_patch(patch("*** Update File: a.txt", "*** Move to: b.txt"), ws.root)
    assert change == FileChange("update", ws.root / "a.txt", ws.root / "b.txt", "a\n", "a\n")
    assert change.unified_diff(ws.root) == "--- a/a.txt\n+++ b/b.txt\n"


# ---------------------------------------------------------------------------------------------
# Scale: a 50-chunk patch on a 100,000-line file (timed for the report, never asserted)
# ---------------------------------------------------------------------------------------------


def test_fifty_chunks_on_a_hundred_thousand_lines(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [f"line {i}: value = {i % 97}" for i in range(100_000)]
    ws.file("big.txt", "\n".join(lines) + "\n")
    body = ["*** Update File: big.txt"]
    targets = range(1_000, 100_000, 1_980)[:50]
    for target in targets:
        body += [f"@@ line {target - 3}: value = {(target - 3) % 97}"]
        body += [f" {lines[target - 1]}", f"-{lines[target]}", f"+CHANGED {target}", f" {lines[target + 1]}"]
    started = time.perf_counter()
    ws.apply(patch(*body))
    elapsed = time.perf_counter() - started
    result = ws.read("big.txt").split("\n")
    assert len(targets) == 50
    assert [result[t] for t in targets] == [f"CHANGED {t}" for t in targets]
    assert sum(line.startswith("CHANGED") for line in result) == 50
    with capsys.disabled():
        print(f"\n[apply_patch] 50 chunks on 100,000 lines: {elapsed * 1000:.0f} ms")


def _apply_unified(old: list[str], diff: str) -> list[str]:
    """A minimal reader of unified diffs, to check that the diffs we show really say what changed."""
    body = diff.split("\n")[2:-1]
    out: list[str] = []
    position = 0
    for line in body:
        if line.startswith("@@"):
            old_range = line.split()[1][1:]
            start, _, length = old_range.partition(",")
            begin = int(start) - 1 if length != "0" else int(start)
            out += old[position:begin]
            position = begin
        elif line.startswith("+"):
            out.append(line[1:])
        else:
            assert old[position] == line[1:]
            if line.startswith(" "):
                out.append(line[1:])
            position += 1
    return out + old[position:]


@given(
    old=st.lists(st.sampled_from(["a", "b", "c", "", "d", "e"]), max_size=40),
    new=st.lists(st.sampled_from(["a", "b", "c", "", "x", "page\fbreak", "odd\u2028separator"]), max_size=40),
)
@settings(max_examples=200, deadline=None)
def test_unified_diff_round_trips(old: list[str], new: list[str]) -> None:
    change = FileChange(
        "update",
        Path("/w/f.txt"),
        None,
        "".join(f"{line}\n" for line in old),
        "".join(f"{line}\n" for line in new),
    )
    diff = change.unified_diff(Path("/w"))
    assert (diff == "") == (old == new)
    if diff:
        assert diff.startswith("--- a/f.txt\n+++ b/f.txt\n@@ -")
        assert _apply_unified(old, diff) == new


def test_unified_diff_matches_difflib_on_a_simple_edit() -> None:
    old = [f"{i}\n" for i in range(30)]
    new = [*old[:10], "ten\n", *old[11:25], *old[26:]]
    change = FileChange("update", Path("/w/f"), None, "".join(old), "".join(new))
    expected = "".join(difflib.unified_diff(old, new, "a/f", "b/f"))
    assert change.unified_diff(Path("/w")) == expected
