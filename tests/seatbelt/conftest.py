"""Fixtures for the seatbelt tests: import paths, sample workspaces and golden-file checks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
# The plugin is normally installed through its entry point; a source checkout may not have run
# `pip install -e .` yet, so make both the core and the plugin importable from the tree.
for _path in (_REPO, _REPO / "plugins" / "seatbelt"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from seatbelt_fixtures import GOLDEN_DIR, Golden, Workspace  # noqa: E402


@pytest.fixture
def golden() -> Golden:
    """The golden-file checker for tests/seatbelt/golden."""
    return Golden(GOLDEN_DIR)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """tmp/project (with .git/config) and tmp/extra (with .codex/), canonicalised."""
    return Workspace.create(tmp_path)
