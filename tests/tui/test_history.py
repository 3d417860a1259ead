"""The prompt history file: private, shared with the Rust peer's format, trimmed, or off."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from codex.history import PromptHistory


def test_append_creates_a_private_file_in_the_peer_format(tmp_path: Path) -> None:
    history = PromptHistory.for_home(tmp_path)
    history.append("sess-1", "fix the bug")
    history.append("sess-1", "now add a test")
    path = tmp_path / "history.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["text"] for e in entries] == ["fix the bug", "now add a test"]
    assert entries[0]["session_id"] == "sess-1" and isinstance(entries[0]["ts"], int)
    assert history.load() == ["fix the bug", "now add a test"]


def test_a_wider_mode_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("")
    os.chmod(path, 0o644)
    PromptHistory.for_home(tmp_path).append("s", "text")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"session_id":"s","ts":1,"text":"good"}\n{"torn": \n[1,2]\n{"text": "also good"}\n')
    assert PromptHistory.for_home(tmp_path).load() == ["good", "also good"]


def test_max_bytes_keeps_the_newest_entries(tmp_path: Path) -> None:
    history = PromptHistory.for_home(tmp_path, max_bytes=200)
    for number in range(20):
        history.append("s", f"prompt number {number}")
    path = tmp_path / "history.jsonl"
    assert path.stat().st_size <= 200
    kept = history.load()
    assert kept[-1] == "prompt number 19"
    assert "prompt number 0" not in kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_persistence_none_neither_reads_nor_writes(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"session_id":"s","ts":1,"text":"old"}\n')
    history = PromptHistory.for_home(tmp_path, persistence="none")
    history.append("s", "secret")
    assert history.load() == []
    assert "secret" not in path.read_text()


def test_blank_prompts_are_not_saved(tmp_path: Path) -> None:
    history = PromptHistory.for_home(tmp_path)
    history.append("s", "   ")
    assert not (tmp_path / "history.jsonl").exists()
