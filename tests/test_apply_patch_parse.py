"""Parsing the Codex patch format: every grammar feature and every malformed input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex.errors import CodexError, PatchError
from codex.tools.apply_patch import (
    AddFile,
    DeleteFile,
    UpdateChunk,
    UpdateFile,
    parse_patch,
    patch_paths,
)


def patch(*body: str) -> str:
    return "\n".join(["*** Begin Patch", *body, "*** End Patch"]) + "\n"


def only_update(text: str) -> UpdateFile:
    (hunk,) = parse_patch(text)
    assert isinstance(hunk, UpdateFile)
    return hunk


def test_patch_error_is_a_codex_error() -> None:
    assert issubclass(PatchError, CodexError)


def test_every_hunk_kind_in_one_patch() -> None:
    hunks = parse_patch(
        patch(
            "*** Add File: pkg/new.py",
            "+import os",
            "+",
            "+print(os.sep)",
            "*** Delete File: pkg/old.py",
            "*** Update File: pkg/a.py",
            "*** Move to: pkg/b.py",
            "@@ def f():",
            "     x = 1",
            "-    return x",
            "+    return x + 1",
        )
    )
    assert hunks == [
        AddFile("pkg/new.py", "import os\n\nprint(os.sep)\n", 2),
        DeleteFile("pkg/old.py", 6),
        UpdateFile(
            "pkg/a.py",
            "pkg/b.py",
            (
                UpdateChunk(
                    headers=("def f():",),
                    old_lines=("    x = 1", "    return x"),
                    new_lines=("    x = 1", "    return x + 1"),
                    new_sources=(0, -1),
                    end_of_file=False,
                    line=9,
                ),
            ),
            7,
        ),
    ]


def test_first_chunk_may_omit_the_header_and_later_chunks_need_one() -> None:
    hunk = only_update(
        patch(
            "*** Update File: a.txt",
            " one",
            "-two",
            "+TWO",
            "@@",
            "-five",
            "+FIVE",
            "@@ def g():",
            "+    pass",
        )
    )
    assert [c.headers for c in hunk.chunks] == [(), (), ("def g():",)]
    assert [c.old_lines for c in hunk.chunks] == [("one", "two"), ("five",), ()]
    assert [c.new_lines for c in hunk.chunks] == [("one", "TWO"), ("FIVE",), ("    pass",)]


def test_consecutive_headers_narrow_the_search() -> None:
    hunk = only_update(
        patch("*** Update File: a.py", "@@ class B:", "@@     def f(self):", "-        return 1", "+        return 2")
    )
    assert hunk.chunks[0].headers == ("class B:", "def f(self):")
    assert hunk.chunks[0].label == "@@ class B: / @@ def f(self):"


def test_git_style_hunk_header_is_read_as_its_trailing_context() -> None:
    hunk = only_update(
        patch("*** Update File: a.py", "@@ -10,3 +10,4 @@ def f():", "-a", "+b", "@@ -20 +21 @@", "-c", "+d")
    )
    assert [c.headers for c in hunk.chunks] == [("def f():",), ()]


def test_end_of_file_marker_sets_the_anchor() -> None:
    hunk = only_update(patch("*** Update File: a.txt", "@@", " last", "+after", "*** End of File"))
    assert hunk.chunks[0].end_of_file is True
    assert hunk.chunks[0].new_lines == ("last", "after")


def test_bare_empty_line_inside_a_chunk_is_an_empty_context_line() -> None:
    hunk = only_update(patch("*** Update File: a.py", "@@", " def f():", "", "-    pass", "+    return 1"))
    assert hunk.chunks[0].old_lines == ("def f():", "", "    pass")
    assert hunk.chunks[0].new_sources == (0, 1, -1)


def test_bare_empty_lines_closing_a_chunk_are_separators() -> None:
    hunks = parse_patch(patch("*** Update File: a.py", "-x", "+y", "", "", "*** Delete File: b.py"))
    first = hunks[0]
    assert isinstance(first, UpdateFile)
    assert first.chunks[0].old_lines == ("x",)
    assert first.chunks[0].new_lines == ("y",)
    assert hunks[1] == DeleteFile("b.py", 7)


def test_context_line_that_looks_like_a_marker_stays_content() -> None:
    hunk = only_update(
        patch("*** Update File: notes.md", " *** End of File", "-*** Begin Patch", "+*** End Patch")
    )
    chunk = hunk.chunks[0]
    assert chunk.old_lines == ("*** End of File", "*** Begin Patch")
    assert chunk.new_lines == ("*** End of File", "*** End Patch")
    assert chunk.end_of_file is False


def test_add_file_with_lost_plus_on_an_inner_empty_line() -> None:
    (hunk,) = parse_patch(patch("*** Add File: a.txt", "+one", "", "+three", ""))
    assert hunk == AddFile("a.txt", "one\n\nthree\n", 2)


def test_add_file_with_no_lines_creates_an_empty_file() -> None:
    assert parse_patch(patch("*** Add File: empty.txt")) == [AddFile("empty.txt", "", 2)]


def test_pure_move_needs_no_chunk() -> None:
    assert only_update(patch("*** Update File: a.txt", "*** Move to: b.txt")).chunks == ()


def test_markers_tolerate_surrounding_whitespace_and_crlf() -> None:
    text = "\n  *** Begin Patch  \r\n*** Add File: a.txt\r\n+hi\r\n  *** End Patch\r\n\n"
    assert parse_patch(text) == [AddFile("a.txt", "hi\n", 3)]


def test_heredoc_wrapped_patch_is_accepted() -> None:
    text = "<<'EOF'\n*** Begin Patch\n*** Delete File: a.txt\n*** End Patch\nEOF\n"
    assert parse_patch(text) == [DeleteFile("a.txt", 3)]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["empty", "*** Begin Patch"]),
        ("   \n\n", ["empty"]),
        ("*** Add File: a.txt\n+x\n*** End Patch\n", ["line 1", "first line must be '*** Begin Patch'"]),
        ("*** Begin Patch\n*** Add File: a.txt\n+x\n", ["line 3", "last line must be '*** End Patch'"]),
        ("*** Begin Patch\n", ["line 1", "'*** End Patch'"]),
        ("*** Begin Patch\n*** End Patch\n", ["no file operations"]),
        (patch("*** Frobnicate File: a.txt"), ["line 2", "expected '*** Add File: PATH'", "Frobnicate"]),
        (patch("just some text"), ["line 2", "just some text"]),
        (patch("*** Add File: a.txt", "+ok", "oops"), ["line 4", "must start with '+'", "oops"]),
        (patch("*** Update File: a.txt", " ctx", "?bad"), ["line 4", "' ' (context)", "?bad"]),
        (patch("*** Update File: a.txt", "@@", "#bad"), ["line 4", "'#bad'"]),
        (patch("*** Update File: a.txt"), ["line 2", "has no changes"]),
        (patch("*** Update File: a.txt", "@@ def f():"), ["line 3", "has no ' ', '-' or '+' lines"]),
        (
            patch("*** Update File: a.txt", "-x", "+y", "*** End of File", " z"),
            ["line 6", "expected '@@'", "End of File"],
        ),
        (patch("*** Add File:"), ["line 2", "needs a path"]),
        (patch("*** Delete File:   "), ["line 2", "needs a path"]),
        (patch("*** Update File: a.txt", "*** Move to: "), ["line 3", "needs a path"]),
    ],
)
def test_malformed_patches_name_the_line(text: str, fragments: list[str]) -> None:
    with pytest.raises(PatchError) as caught:
        parse_patch(text)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_patch_paths_resolves_dotdot_symlinks_and_moves(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "work").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "work" / "link")
    text = patch(
        "*** Add File: link/new.txt",
        "+x",
        "*** Update File: sub/../a.txt",
        "*** Move to: /elsewhere/b.txt",
        "*** Delete File: a.txt",
    )
    assert patch_paths(text, tmp_path / "work") == [
        tmp_path / "real" / "new.txt",
        tmp_path / "work" / "a.txt",
        Path("/elsewhere/b.txt"),
    ]


def test_patch_paths_rejects_a_malformed_patch(tmp_path: Path) -> None:
    with pytest.raises(PatchError, match="Begin Patch"):
        patch_paths("*** Add File: a\n+x\n", tmp_path)
