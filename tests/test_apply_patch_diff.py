"""The unified diffs apply_patch shows (events, approvals, the exec transcript), built from the
regions its chunks changed: they must apply with `patch`/`git apply`, reproduce the new file, and
read like difflib's wherever the alignment is not ambiguous."""

from __future__ import annotations

import difflib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from codex.tools.apply_patch import FileChange, plan_patch
from codex.tools.patch.diff import edit_opcodes
from tests.conftest import RunCodex
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$")
# Lines a file may hold: repeats, blanks, whitespace the fuzzy levels ignore, and characters that
# str.splitlines would break on but a diff must not.
ODD_LINES = ["a", "b", "", "  c", "d\t", "a ", "e\u2028f", "g\x0ch", "z\r"]


def split_keeping_ends(text: str) -> list[str]:
    """Lines of ``text`` with their "\\n" (only "\\n" ends a line in a diff)."""
    parts = text.split("\n")
    return [f"{part}\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def apply_unified(old: str, diff: str) -> str:
    """A small, strict reader of unified diffs: every hunk's counts, positions and old lines
    must be exactly right, or it fails."""
    old_lines = split_keeping_ends(old)
    diff_lines = split_keeping_ends(diff)
    assert diff_lines[0].startswith("--- ") and diff_lines[1].startswith("+++ ")
    # (tag, text) with the "\ No newline" marker folded into the line before it.
    body: list[tuple[str, str]] = []
    for line in diff_lines[2:]:
        if line == "\\ No newline at end of file\n":
            tag, text = body[-1]
            assert text.endswith("\n")
            body[-1] = (tag, text[:-1])
        else:
            body.append((line[0], line[1:]))
    out: list[str] = []
    position = 0
    index = 0
    while index < len(body):
        tag, text = body[index]
        assert tag == "@", f"expected a hunk header, got {tag}{text!r}"
        match = HUNK_HEADER.match(f"@{text}".rstrip("\n"))
        assert match, text
        old_start, old_count = int(match[1]), int(match[2] or 1)
        new_start, new_count = int(match[3]), int(match[4] or 1)
        begin = old_start - 1 if old_count else old_start
        assert begin >= position, "hunks overlap or go backwards"
        out += old_lines[position:begin]
        position = begin
        assert new_start - (1 if new_count else 0) == len(out), "the new start does not match"
        index += 1
        seen_old = seen_new = 0
        while index < len(body) and body[index][0] != "@":
            tag, text = body[index]
            if tag in " -":
                assert old_lines[position] == text, f"old line {position + 1} is not {text!r}"
                position += 1
                seen_old += 1
            if tag in " +":
                out.append(text)
                seen_new += 1
            index += 1
        assert (seen_old, seen_new) == (old_count, new_count), "the hunk header's counts are wrong"
    return "".join(out + old_lines[position:])


@dataclass
class Edited:
    """A file, and a Codex patch of non-overlapping chunks against it."""

    content: str
    patch: str


@st.composite
def edited_files(draw: st.DrawFn, unique: bool = False) -> Edited:
    """A random text file and random chunks (context, removed and added lines) against it.

    ``unique``: every line of the file and every added line differ, so any correct diff is the
    one difflib gives.
    """
    size = draw(st.integers(1, 60))
    if unique:
        lines = [f"line {i}" for i in range(size)]
        eol, bom = "\n", False
    else:
        lines = draw(st.lists(st.sampled_from(ODD_LINES), min_size=size, max_size=size))
        eol, bom = draw(st.sampled_from(["\n", "\r\n"])), draw(st.booleans())
    # An empty last line without a newline would be no line at all.
    final_newline = draw(st.booleans()) or lines[-1] == ""
    body = ["*** Begin Patch", "*** Update File: f.txt"]
    added = 0
    cursor = 0
    for _ in range(draw(st.integers(1, 6))):
        before, after = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        start = cursor + draw(st.integers(0, 8)) + before
        removed = draw(st.integers(0, 3))
        if before + removed + after == 0:
            after = 1  # a chunk of only added lines goes to the end of the file instead
        if start + removed + after > size:
            break
        count = draw(st.integers(0 if removed else 1, 3))
        if unique:
            new_lines = [f"new {added + k}" for k in range(count)]
        else:
            new_lines = draw(st.lists(st.sampled_from(["a", "b", "", "x", "y y"]), min_size=count, max_size=count))
        added += count
        body.append("@@")
        body += [f" {line}" for line in lines[start - before : start]]
        body += [f"-{line}" for line in lines[start : start + removed]]
        body += [f"+{line}" for line in new_lines]
        body += [f" {line}" for line in lines[start + removed : start + removed + after]]
        cursor = start + removed + after
    # The end of the file, where a patch may change whether the file ends with a newline.
    ending = draw(st.sampled_from(["none", "append", "end of file"]))
    if ending == "append":  # a chunk of only added lines goes to the end of the file
        body += ["@@", *(f"+{line}" for line in draw(st.lists(st.sampled_from(["x", ""]), min_size=1, max_size=2)))]
    elif ending == "end of file" and size - cursor >= 1:
        kept = draw(st.integers(0, min(2, size - cursor - 1)))
        body += ["@@", *(f" {line}" for line in lines[size - 1 - kept : size - 1])]
        body += [draw(st.sampled_from([f" {lines[-1]}", f"-{lines[-1]}"]))]
        body += [f"+{line}" for line in draw(st.lists(st.sampled_from(["x", "end"]), max_size=2))]
        body.append("*** End of File")
    assume(len(body) > 2)
    content = eol.join(lines) + (eol if final_newline else "")
    return Edited(("\ufeff" if bom else "") + content, "\n".join([*body, "*** End Patch"]) + "\n")


def plan_one(tmp_path: Path, content: str, patch_text: str) -> FileChange:
    (tmp_path / "f.txt").write_bytes(content.encode("utf-8"))
    (change,) = plan_patch(patch_text, tmp_path)
    assert change.edits is not None, "an update planned by plan_patch knows where it changed"
    return change


def display(content: str | None) -> str:
    """The text a diff of ``content`` speaks about: CRLF shown as LF."""
    return (content or "").replace("\r\n", "\n")


_examples = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_examples
@given(edited=edited_files())
def test_the_diff_of_any_planned_update_reproduces_the_new_file(tmp_path: Path, edited: Edited) -> None:
    change = plan_one(tmp_path, edited.content, edited.patch)
    assert change.edits is not None
    # Built from the regions, not by the whole-file fallback (which only a bare BOM needs).
    assert edit_opcodes(change.edits) is not None or change.new_content == "\ufeff"
    diff = change.unified_diff(tmp_path)
    assert diff.startswith("--- a/f.txt\n+++ b/f.txt\n") or diff == ""
    assert apply_unified(display(change.old_content), diff or "--- \n+++ \n") == display(change.new_content)
    # What the whole-file diff (the fallback) says about the same two texts, read the same way.
    whole = FileChange("update", change.path, None, change.old_content, change.new_content).unified_diff(tmp_path)
    assert (diff == "") == (whole == "")


@_examples
@given(edited=edited_files(unique=True))
def test_with_unambiguous_lines_the_diff_is_difflibs(tmp_path: Path, edited: Edited) -> None:
    change = plan_one(tmp_path, edited.content, edited.patch)
    old, new = split_keeping_ends(change.old_content or ""), split_keeping_ends(change.new_content or "")
    expected = "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n"
        for line in difflib.unified_diff(old, new, "a/f.txt", "b/f.txt")
    )
    assert change.unified_diff(tmp_path) == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edited=edited_files())
def test_gnu_patch_and_git_apply_accept_the_diff(tmp_path_factory: pytest.TempPathFactory, edited: Edited) -> None:
    work = tmp_path_factory.mktemp("applied")
    change = plan_one(work, edited.content, edited.patch)
    diff = change.unified_diff(work)
    assume(diff)
    for tool in (["patch", "-p1", "--fuzz=0", "--force", "--silent"], ["git", "apply", "--unsafe-paths"]):
        (work / "f.txt").write_bytes(display(change.old_content).encode("utf-8"))
        done = subprocess.run(tool, cwd=work, input=diff.encode("utf-8"), capture_output=True, timeout=30, check=False)
        assert done.returncode == 0, (tool[0], done.stdout, done.stderr, diff)
        assert (work / "f.txt").read_bytes().decode("utf-8") == display(change.new_content), tool[0]


# ---------------------------------------------------------------------------------------------
# Cases worth reading on their own
# ---------------------------------------------------------------------------------------------


def patch(*body: str) -> str:
    return "\n".join(["*** Begin Patch", *body, "*** End Patch"]) + "\n"


def test_appending_to_a_file_without_a_final_newline_shows_the_old_last_line_changed(tmp_path: Path) -> None:
    change = plan_one(tmp_path, "a\nb", patch("*** Update File: f.txt", "@@", " b", "+c"))
    assert change.new_content == "a\nb\nc\n"
    assert change.unified_diff(tmp_path) == (
        "--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n"
    )


def test_an_end_of_file_insertion_after_an_unterminated_line(tmp_path: Path) -> None:
    change = plan_one(tmp_path, "a\nb", patch("*** Update File: f.txt", "+c"))
    assert change.new_content == "a\nb\nc\n"
    assert apply_unified("a\nb", change.unified_diff(tmp_path)) == "a\nb\nc\n"


def test_a_file_holding_only_a_bom_gets_a_correct_diff(tmp_path: Path) -> None:
    # The engine sees no line where the diff sees one (the BOM): the whole-file diff takes over.
    change = plan_one(tmp_path, "\ufeff", patch("*** Update File: f.txt", "+x"))
    assert change.new_content == "\ufeffx\n"
    assert apply_unified("\ufeff", change.unified_diff(tmp_path)) == "\ufeffx\n"


def test_crlf_and_bom_files_are_shown_with_lf_and_keep_the_bom_on_line_one(tmp_path: Path) -> None:
    content = "\ufeffone\r\ntwo\r\nthree\r\n"
    change = plan_one(tmp_path, content, patch("*** Update File: f.txt", "@@", "-one", "+ONE", " two"))
    assert change.unified_diff(tmp_path) == (
        "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n-\ufeffone\n+\ufeffONE\n two\n three\n"
    )


def test_a_move_with_changes_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("".join(f"{i}\n" for i in range(20)))
    (change,) = plan_patch(patch("*** Update File: f.txt", "*** Move to: g.txt", "@@", " 9", "-10", "+ten"), tmp_path)
    assert change.unified_diff(tmp_path) == (
        "--- a/f.txt\n+++ b/g.txt\n@@ -8,7 +8,7 @@\n 7\n 8\n 9\n-10\n+ten\n 11\n 12\n 13\n"
    )


def test_added_and_deleted_files_are_one_hunk(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").write_text("x\ny\n")
    added, deleted = plan_patch(patch("*** Add File: new.txt", "+1", "+2", "*** Delete File: gone.txt"), tmp_path)
    assert added.unified_diff(tmp_path) == "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+1\n+2\n"
    assert deleted.unified_diff(tmp_path) == "--- a/gone.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n"


def test_chunks_whose_context_overlaps_share_one_hunk(tmp_path: Path) -> None:
    content = "".join(f"{i}\n" for i in range(30))
    # Six equal lines between two changes: their three lines of context each meet.
    change = plan_one(tmp_path, content, patch("*** Update File: f.txt", "@@", "-10", "+X", "@@", "-17", "+Y"))
    hunks = [line for line in change.unified_diff(tmp_path).split("\n") if line.startswith("@@")]
    assert hunks == ["@@ -8,14 +8,14 @@"]
    far = plan_one(tmp_path, content, patch("*** Update File: f.txt", "@@", "-10", "+X", "@@", "-18", "+Y"))
    assert [line for line in far.unified_diff(tmp_path).split("\n") if line.startswith("@@")] == [
        "@@ -8,7 +8,7 @@",
        "@@ -16,7 +16,7 @@",
    ]


def sectioned_file(sections: int, rows: int) -> list[str]:
    """Sections of rows that repeat a few values: the kind of file (data, generated code) where a
    whole-file line diff loses its way."""
    lines = []
    for section in range(sections):
        lines.append(f"# section {section}")
        lines += [f"value = {row % 7}" for row in range(rows)]
    return lines


def sectioned_patch(sections: int) -> str:
    body = ["*** Update File: f.txt"]
    for section in range(sections):
        body += [f"@@ # section {section}", " value = 0", " value = 1", "-value = 2", f"+value = changed {section}"]
    return patch(*body)


def test_a_file_of_repeated_lines_shows_only_what_the_patch_changed(tmp_path: Path) -> None:
    # difflib treats lines repeated in more than 1% of a stretch of 200+ lines as junk: the
    # whole-file diff of this file rewrites every 300-line stretch between two edits.
    change = plan_one(tmp_path, "\n".join(sectioned_file(10, 300)) + "\n", sectioned_patch(10))
    diff = change.unified_diff(tmp_path)
    assert diff.count("\n@@ ") == 10
    assert [line for line in diff.split("\n") if line.startswith(("-", "+"))][2:] == [
        line for k in range(10) for line in ("-value = 2", f"+value = changed {k}")
    ]
    assert apply_unified(change.old_content or "", diff) == change.new_content


def test_exec_shows_a_diff_that_git_applies_to_the_original(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )
    original = "\n".join(sectioned_file(20, 250)) + "\n"
    (git_workspace / "f.txt").write_text(original)
    mock_model.responses_call("apply_patch", {"input": sectioned_patch(20)}, call_id="c1")
    mock_model.responses_text("patched")

    result = run_codex("exec", "-s", "workspace-write", "patch it", cwd=git_workspace, timeout=120)

    assert result.returncode == 0, result.stderr
    after = (git_workspace / "f.txt").read_text()
    assert after.count("value = changed") == 20
    shown = result.stderr.split("apply_patch auto-approved:\n", 1)[1].split("\nSuccess.", 1)[0] + "\n"
    assert shown.startswith("--- a/f.txt\n+++ b/f.txt\n@@ ")
    assert shown.count("\n@@ ") == 20
    (git_workspace / "f.txt").write_text(original)
    subprocess.run(["git", "apply"], cwd=git_workspace, input=shown, text=True, check=True, timeout=30)
    assert (git_workspace / "f.txt").read_text() == after


def test_a_line_a_chunk_removes_and_adds_back_shows_as_context(tmp_path: Path) -> None:
    change = plan_one(tmp_path, "a\nb\nc\n", patch("*** Update File: f.txt", "@@", "-a", "-b", "+a", "+B", " c"))
    assert change.unified_diff(tmp_path) == "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
