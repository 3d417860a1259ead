"""Fixtures for the ollama plugin tests: the fake server, the fake executable, a log path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]
# The plugin is normally found through its entry point; a fresh checkout may not have run
# `pip install -e .`, so make the core, the plugin and the fake importable from the tree.
for _path in (_REPO, _REPO / "plugins" / "ollama", _HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from fake_ollama import FakeOllama, write_fake_ollama  # noqa: E402
from ollama_fixtures import kill_from_pidfile  # noqa: E402


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A running fake Ollama with nothing installed."""
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_lmstudio() -> Iterator[FakeOllama]:
    """A running LM Studio look-alike (OpenAI-compatible endpoints only) with gpt-oss-20b."""
    with FakeOllama(flavor="openai", installed=["openai/gpt-oss-20b", "qwen/qwen3-8b"]) as fake:
        yield fake


@pytest.fixture
def ollama_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory holding the fake `ollama` executable; servers it starts are killed afterwards."""
    directory = tmp_path / "bin"
    write_fake_ollama(directory)
    pidfile = tmp_path / "ollama.pid"
    monkeypatch.setenv("FAKE_OLLAMA_PIDFILE", str(pidfile))
    monkeypatch.delenv("OLLAMA_CONTEXT_LENGTH", raising=False)
    yield directory
    kill_from_pidfile(pidfile)
