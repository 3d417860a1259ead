"""Fixtures for the interactive terminal tests: a mock model, a workspace, and codex in a pty."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (the fixture)
from tests.tui.pty_harness import PtyCodex


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A git repository with one committed file, where codex is started."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "README.md").write_text("# demo\n", encoding="utf-8")
    quiet = {"capture_output": True, "check": True, "cwd": root}
    subprocess.run(["git", "init", "-q"], **quiet)  # type: ignore[call-overload]
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "add", "."], **quiet)  # type: ignore[call-overload]
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init"], **quiet
    )  # type: ignore[call-overload]
    return root


@pytest.fixture
def tui_env(codex_home: Path, mock_model: MockModelServer) -> dict[str, str]:
    """The environment for codex: private CODEX_HOME whose config points at the mock model."""
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n\n'
        + mock_model.provider_toml(request_max_retries=0, stream_max_retries=0),
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    return env


@pytest.fixture
def start_codex(tui_env: dict[str, str], workspace: Path) -> Iterator[Callable[..., PtyCodex]]:
    """Start ``codex ARGS`` in a pty in the workspace; every process is killed after the test."""
    started: list[PtyCodex] = []

    def start(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, columns: int = 80, rows: int = 40
    ) -> PtyCodex:
        term = PtyCodex.start(
            list(args), env={**tui_env, **(env or {})}, cwd=cwd or workspace, columns=columns, rows=rows
        )
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()
