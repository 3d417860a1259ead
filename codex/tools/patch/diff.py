"""Unified diffs for display and approval.

An update planned by the patch engine carries its :class:`LineEdits` (where each chunk landed),
so its diff is built from those regions alone: the cost follows the size of the patch, not of the
file. Other changes (added, deleted, or a :class:`FileChange` made by hand) fall back to a line
diff anchored on common runs, which is still fast on large files.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

_OTHER_LINE_BREAKS = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _diff_lines(content: str | None) -> list[str]:
    if not content:
        return []
    content = content.replace("\r\n", "\n")
    if not any(char in content for char in _OTHER_LINE_BREAKS):
        # splitlines runs in C, but also splits on these other characters, which we keep.
        return content.splitlines(keepends=True)
    lines = content.split("\n")
    result = [f"{line}\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


_Opcode = tuple[str, int, int, int, int]
# (old start, old stop, new start, new stop): line indices of one changed stretch, stops exclusive.
Region = tuple[int, int, int, int]


class SplitText(Protocol):
    """A text file as the patch engine splits it: lines without their ends, and how to rejoin them."""

    @property
    def lines(self) -> Sequence[str]: ...

    @property
    def eol(self) -> str: ...

    @property
    def final_newline(self) -> bool: ...

    @property
    def bom(self) -> bool: ...


@dataclass(frozen=True)
class LineEdits:
    """Where an update changed its file, as the patch engine applied it.

    Outside ``regions`` (sorted, non-overlapping) the new text's lines are the old text's, in
    order; inside, anything may differ. For example replacing line 2 of three lines is
    ``LineEdits(old, new, ((1, 2, 1, 2),))``.
    """

    old: SplitText
    new: SplitText
    regions: tuple[Region, ...]



def _append_opcode(ops: list[_Opcode], tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
    """Append one opcode, merging adjacent equal runs and dropping empty ones."""
    if ops and ops[-1][0] == tag == "equal":
        ops[-1] = (tag, ops[-1][1], i2, ops[-1][3], j2)
    elif i1 < i2 or j1 < j2:
        ops.append((tag, i1, i2, j1, j2))

def _display_line(text: SplitText, index: int) -> str:
    """Line ``index`` of ``text`` exactly as :func:`_diff_lines` gives it for the joined text."""
    line = text.lines[index]
    terminated = text.final_newline or index < len(text.lines) - 1
    if index == 0 and text.bom:
        line = "\ufeff" + line
    if not terminated:
        return line
    if text.eol == "\n" and line.endswith("\r"):
        # The display folds CRLF to LF; in a file of mixed endings this line's CR was part of one.
        line = line[:-1]
    return line + "\n"


def _display_lines(text: SplitText, start: int, stop: int) -> list[str]:
    return [_display_line(text, index) for index in range(start, stop)]


def edit_opcodes(edits: LineEdits) -> list[_Opcode] | None:
    """difflib-style opcodes over the whole file, computed only inside the edited regions.

    The stretches between regions are equal by construction (the engine copied them); only
    their first and last lines are compared, as only their display may differ.
    Returns None when the regions do not describe these two texts, so the caller diffs the
    whole text instead of showing a wrong diff.
    """
    old, new = edits.old, edits.new
    if old.eol != new.eol or old.bom != new.bom or (old.bom and not old.lines) or (new.bom and not new.lines):
        return None  # a file holding only a BOM has one display line and no engine lines
    old_size, new_size = len(old.lines), len(new.lines)
    ops: list[_Opcode] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        _append_opcode(ops, tag, i1, i2, j1, j2)

    # Regions with no equal line between them are diffed as one, as difflib would see them.
    merged: list[Region] = []

    def grow(i1: int, i2: int, j1: int, j2: int) -> None:
        if merged and merged[-1][1] == i1 and merged[-1][3] == j1:
            merged[-1] = (merged[-1][0], i2, merged[-1][2], j2)
        else:
            merged.append((i1, i2, j1, j2))

    old_at = new_at = 0
    for i1, i2, j1, j2 in (*edits.regions, (old_size, old_size, new_size, new_size)):
        if not (old_at <= i1 <= i2 <= old_size and new_at <= j1 <= j2 <= new_size) or i1 - old_at != j1 - new_at:
            return None
        # Only a stretch's ends can look different on the two sides: the first line when it moved
        # onto or off line one (which shows the BOM), the last when it gained or lost its newline.
        if i1 > old_at and _display_line(old, old_at) != _display_line(new, new_at):
            grow(old_at, old_at + 1, new_at, new_at + 1)
            old_at, new_at = old_at + 1, new_at + 1
        if i1 > old_at and _display_line(old, i1 - 1) != _display_line(new, j1 - 1):
            i1, j1 = i1 - 1, j1 - 1
        grow(i1, i2, j1, j2)
        old_at, new_at = i2, j2
    old_at = new_at = 0
    for i1, i2, j1, j2 in merged:
        add("equal", old_at, i1, new_at, j1)
        inner = _line_opcodes(_display_lines(old, i1, i2), _display_lines(new, j1, j2))
        for tag, a1, a2, b1, b2 in inner:
            add(tag, a1 + i1, a2 + i1, b1 + j1, b2 + j1)
        old_at, new_at = i2, j2
    return ops


def _line_opcodes(old: list[str], new: list[str]) -> list[_Opcode]:
    """difflib-style opcodes, computed between anchor lines that occur once on each side.

    difflib alone takes seconds on a 100,000-line file with scattered edits; anchoring on
    unique lines (as patience diff does) leaves it only the small gaps between them.
    """
    ops: list[_Opcode] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        _append_opcode(ops, tag, i1, i2, j1, j2)

    def gap(i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 or j1 == j2:
            add("insert" if i1 == i2 else "delete", i1, i2, j1, j2)
            return
        old_part, new_part = old[i1:i2], new[j1:j2]
        if set(old_part).isdisjoint(new_part):
            # What difflib answers when nothing matches, without importing it: most chunks
            # replace a few lines by others.
            add("replace", i1, i2, j1, j2)
            return
        import difflib

        matcher = difflib.SequenceMatcher(None, old_part, new_part)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            add(tag, a1 + i1, a2 + i1, b1 + j1, b2 + j1)

    head = _common_run(old, new, from_end=False)
    tail = _common_run(old[head:], new[head:], from_end=True)
    old_stop, new_stop = len(old) - tail, len(new) - tail
    add("equal", 0, head, 0, head)
    old_middle, new_middle = old[head:old_stop], new[head:new_stop]
    old_counts, new_counts = Counter(old_middle), Counter(new_middle)
    new_index = {line: j for j, line in enumerate(new_middle, head) if new_counts[line] == 1}
    pairs = [
        (i, new_index[line])
        for i, line in enumerate(old_middle, head)
        if old_counts[line] == 1 and line in new_index
    ]
    i, j = head, head
    for anchor_i, anchor_j in _increasing_run(pairs):
        gap(i, anchor_i, j, anchor_j)
        add("equal", anchor_i, anchor_i + 1, anchor_j, anchor_j + 1)
        i, j = anchor_i + 1, anchor_j + 1
    gap(i, old_stop, j, new_stop)
    add("equal", old_stop, len(old), new_stop, len(new))
    return ops


def _common_run(old: list[str], new: list[str], from_end: bool) -> int:
    """How many lines the two lists share at their start (or end), compared in C-speed blocks."""
    limit = min(len(old), len(new))
    size = 0
    block = 1024
    while block:
        while size + block <= limit and (
            old[len(old) - size - block : len(old) - size] == new[len(new) - size - block : len(new) - size]
            if from_end
            else old[size : size + block] == new[size : size + block]
        ):
            size += block
        block //= 4
    return size


def _increasing_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of pairs (already sorted by first) whose seconds increase."""
    tail_values: list[int] = []
    tail_index: list[int] = []
    back = [-1] * len(pairs)
    for k, (_, value) in enumerate(pairs):
        slot = bisect.bisect_left(tail_values, value)
        if slot:
            back[k] = tail_index[slot - 1]
        if slot == len(tail_values):
            tail_values.append(value)
            tail_index.append(k)
        else:
            tail_values[slot] = value
            tail_index[slot] = k
    run: list[tuple[int, int]] = []
    k = tail_index[-1] if tail_index else -1
    while k >= 0:
        run.append(pairs[k])
        k = back[k]
    return run[::-1]


def _grouped_opcodes(ops: list[_Opcode], context: int) -> list[list[_Opcode]]:
    """Split opcodes into unified-diff hunks with `context` equal lines around each change."""
    if not any(tag != "equal" for tag, *_ in ops):
        return []
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[_Opcode]] = []
    group: list[_Opcode] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, i1 + context, j1, j1 + context))
            groups.append(group)
            group = []
            i1, j1 = i2 - context, j2 - context
        group.append((tag, i1, i2, j1, j2))
    if any(tag != "equal" for tag, *_ in group):
        groups.append(group)
    return [g for g in groups if any(tag != "equal" for tag, *_ in g)]


def _unified_range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def render_unified(
    old_name: str,
    new_name: str,
    ops: list[_Opcode],
    old_line: Callable[[int], str],
    new_line: Callable[[int], str],
    context: int = 3,
) -> tuple[str, bool]:
    """The unified diff text of ``ops`` with ``context`` lines around each change, and whether
    it has any hunk. Lines come from ``old_line``/``new_line`` (by index, with their ends)."""
    out = [f"--- {old_name}\n", f"+++ {new_name}\n"]
    groups = _grouped_opcodes(ops, context)
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_unified_range(first[1], last[2])} +{_unified_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(f" {old_line(i)}" for i in range(i1, i2))
                continue
            out.extend(f"-{old_line(i)}" for i in range(i1, i2))
            out.extend(f"+{new_line(j)}" for j in range(j1, j2))
    text = "".join(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in out)
    return text, bool(groups)
