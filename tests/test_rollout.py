"""Listing recorded sessions: what the resume picker (or any face) offers to choose from."""

from __future__ import annotations

import json
from pathlib import Path

from codex.protocol import Message
from codex.rollout import PREVIEW_CHARS, RolloutRecorder, list_sessions


def write_rollout(codex_home: Path, day: str, stamp: str, session_id: str, *lines: dict[str, object]) -> Path:
    directory = codex_home / "sessions" / day
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"rollout-{stamp}-{session_id}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def meta(session_id: str, cwd: str = "/work") -> dict[str, object]:
    return {"type": "session_meta", "id": session_id, "timestamp": "2026-01-02T03:04:05Z", "cwd": cwd}


def user(text: str) -> dict[str, object]:
    return {"type": "response_item", "item": {"type": "message", "role": "user", "text": text}}


def test_sessions_are_listed_newest_first_with_the_first_words_typed(tmp_path: Path) -> None:
    write_rollout(tmp_path, "2026/01/01", "2026-01-01T10-00-00", "older", meta("older"), user("fix the build"))
    write_rollout(
        tmp_path, "2026/01/02", "2026-01-02T09-00-00", "newer", meta("newer", "/repo"),
        user("<environment_context>cwd: /repo</environment_context>"), user("  add\n tests  "),
    )

    sessions = list_sessions(tmp_path)

    assert [(s.session_id, s.cwd, s.preview) for s in sessions] == [
        ("newer", "/repo", "add tests"),
        ("older", "/work", "fix the build"),
    ]


def test_a_recorded_session_is_listed_and_long_previews_are_cut(tmp_path: Path) -> None:
    recorder = RolloutRecorder.create(tmp_path, "abc123", {"cwd": "/here"})
    recorder.record_item(Message("user", "word " * 40))
    recorder.close()

    [summary] = list_sessions(tmp_path)

    assert (summary.path, summary.session_id, summary.cwd) == (recorder.path, "abc123", "/here")
    assert len(summary.preview) == PREVIEW_CHARS and summary.preview.endswith("…")


def test_files_that_are_not_sessions_are_skipped_and_the_limit_holds(tmp_path: Path) -> None:
    write_rollout(tmp_path, "2026/01/03", "2026-01-03T00-00-00", "nometa", user("no meta line"))
    torn = write_rollout(tmp_path, "2026/01/03", "2026-01-03T00-00-01", "torn")
    torn.write_text('{"type": "sess')
    for hour in range(3):
        write_rollout(tmp_path, "2026/01/02", f"2026-01-02T0{hour}-00-00", f"s{hour}", meta(f"s{hour}"))

    assert [s.session_id for s in list_sessions(tmp_path, limit=2)] == ["s2", "s1"]
    assert list_sessions(tmp_path / "nowhere") == []
