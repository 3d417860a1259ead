"""Fixtures shared by the whole suite: a private CODEX_HOME, the real CLI in a subprocess, and
throwaway plugin distributions.

A test reads as a short story::

    def test_model_from_the_command_line_wins(write_config, run_codex):
        write_config('model = "gpt-5"\\n')
        result = run_codex("-m", "o3", "config", "show")
        assert 'model = "o3"  # from --model' in result.stdout
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (the shared mock model fixture)

# Variables that change what codex loads; every test starts without them.
_CODEX_VARIABLES = ("CODEX_PLUGINS", "CODEX_DISABLE_PLUGINS", "CODEX_DEBUG", "CODEX_TUI_PRELOAD")
# CI runs the whole suite a second time with CODEX_CACHE=0 to prove that nothing depends on a
# cache: that choice survives the per-test clean-up. Tests of the caches themselves are marked
# ``@pytest.mark.caching`` and always run with caches on.
SUITE_CACHE_SETTING = os.environ.get("CODEX_CACHE")


@pytest.fixture(autouse=True)
def cache_setting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """CODEX_CACHE as the suite was started with, or on for tests of the caches."""
    monkeypatch.delenv("CODEX_CACHE", raising=False)
    if request.node.get_closest_marker("caching") is not None:
        monkeypatch.setenv("CODEX_CACHE", "1")
    elif SUITE_CACHE_SETTING is not None:
        monkeypatch.setenv("CODEX_CACHE", SUITE_CACHE_SETTING)


@pytest.fixture
def codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty CODEX_HOME (set in the environment) and a private cache directory."""
    home = tmp_path / "codex-home"
    home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in _CODEX_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield home


@pytest.fixture
def write_config(codex_home: Path) -> Callable[[str], Path]:
    """Write ``$CODEX_HOME/config.toml`` (dedented) and return its path."""

    def write(text: str) -> Path:
        path = codex_home / "config.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@dataclass
class CodexRun:
    """What a user sees after running ``codex``: exit status, stdout, stderr."""

    returncode: int
    stdout: str
    stderr: str


RunCodex = Callable[..., CodexRun]


@pytest.fixture
def run_codex(codex_home: Path) -> RunCodex:
    """Run the real CLI in a subprocess: ``run_codex("config", "show", env={...}, cwd=...)``.

    It is started as ``python -m codex`` with this interpreter, in the environment the
    ``codex_home`` fixture prepared plus ``env``.
    """

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin: str | None = None,
        timeout: float = 60,
    ) -> CodexRun:
        full_env = {**os.environ, **(env or {})}
        completed = subprocess.run(
            [sys.executable, "-m", "codex", *args],
            env=full_env,
            cwd=cwd,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return CodexRun(completed.returncode, completed.stdout, completed.stderr)

    return run


class PluginSite:
    """A directory of fake installed distributions, each with a ``codex`` entry point.

    ``site.add("broken", "raise ImportError('boom')")`` makes a distribution ``codex-plugin-broken``
    whose module ``codex_test_broken`` runs that source on import. ``site.env`` puts the directory
    on PYTHONPATH, where importlib.metadata finds it like any site-packages.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, source: str, *, version: str = "1.0") -> str:
        """Create the distribution; return its module name."""
        dist = f"codex-plugin-{name}"
        module = f"codex_test_{name.replace('-', '_')}"
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[codex]\n{name} = {module}\n")
        (self.root / f"{module}.py").write_text(textwrap.dedent(source))
        return module

    @property
    def env(self) -> dict[str, str]:
        existing = os.environ.get("PYTHONPATH", "")
        return {"PYTHONPATH": os.pathsep.join(p for p in (str(self.root), existing) if p)}


@pytest.fixture
def plugin_site(tmp_path: Path) -> PluginSite:
    """Fake plugin distributions for subprocess runs (pass ``env=plugin_site.env``)."""
    return PluginSite(tmp_path / "site")


@pytest.fixture
def mock_model_config(codex_home: Path, mock_model: MockModelServer) -> MockModelServer:
    """config.toml pointing at the mock model (no retries), for runs that only need an answer."""
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml(request_max_retries=0, stream_max_retries=0),
        encoding="utf-8",
    )
    return mock_model


@pytest.fixture
def git_workspace(tmp_path: Path) -> Path:
    """An empty git repository to run codex in (``codex exec`` wants one)."""
    root = tmp_path / "work"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The common umask 022, under which a plain mkdir or open gives 0755/0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)
