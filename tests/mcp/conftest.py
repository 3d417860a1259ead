"""Fixtures for the MCP tests: the mock model server and one shared `codex mcp` process.

Starting `codex mcp` costs seconds (the SDK is large), so the tests that need no special
connection share one server; each call points it at the test's own mock model through the
`config` tool parameter, and works in the test's own directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mcp.harness import SdkClient, config_toml
from tests.mock_model import mock_model  # noqa: F401  (the fixture)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkClient]:
    """An SDK client connected to a `codex mcp` that every test of the module reuses."""
    home = tmp_path_factory.mktemp("codex-home")
    # The real base_url comes with each call (see `codex_call`); this one is never contacted.
    (home / "config.toml").write_text(config_toml("http://127.0.0.1:9/v1"), encoding="utf-8")
    with SdkClient(home, tmp_path_factory.mktemp("server-cwd")) as client:
        yield client


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The directory a test's session works in."""
    path = tmp_path / "work"
    path.mkdir()
    return path
