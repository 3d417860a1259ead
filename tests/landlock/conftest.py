"""Fixtures for the landlock tests: import paths, a workspace, an outside victim, a runner."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
# The plugin is normally installed through its entry point; a source checkout may not have run
# `pip install -e .` yet, so make both the core and the plugin importable from the tree.
for _path in (_REPO, _REPO / "plugins" / "landlock"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from codex_landlock.backend import LandlockBackend  # noqa: E402
from landlock_fixtures import Sandbox, make_outside, make_project, remove_tree  # noqa: E402


@pytest.fixture(scope="session")
def backend() -> LandlockBackend:
    """One backend for the whole run, so the availability probe runs once."""
    return LandlockBackend()


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A project directory with .git/config, .codex/config.toml and src/hello.txt."""
    root = make_project("codex-landlock-workspace-")
    yield root
    remove_tree(root)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside every writable root, holding victim.txt ("original")."""
    root = make_outside("codex-landlock-outside-")
    yield root
    remove_tree(root)


@pytest.fixture
def sandbox(workspace: Path, backend: LandlockBackend) -> Sandbox:
    """Runs confined commands with ``workspace`` as the project directory."""
    return Sandbox(workspace, backend)
