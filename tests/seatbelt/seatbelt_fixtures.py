"""Helpers shared by the seatbelt tests: golden-file checks and a sample workspace.

A uniquely named module (not conftest) so test files can import these types without clashing
with other test directories' conftest modules.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex.sandbox import SandboxMode, SandboxPolicy

GOLDEN_DIR = Path(__file__).parent / "golden"
REGEN_VARIABLE = "CODEX_REGEN_GOLDEN"


@dataclass
class Golden:
    """Compare generated text with a reviewed file; ``CODEX_REGEN_GOLDEN=1`` rewrites it."""

    directory: Path

    def check(self, name: str, actual: str) -> None:
        """Assert ``actual`` equals golden file ``name`` (or rewrite it when regenerating)."""
        path = self.directory / name
        if os.environ.get(REGEN_VARIABLE) == "1":
            path.write_text(actual, encoding="utf-8")
        if not path.exists():
            pytest.fail(f"golden file {path} is missing: run with {REGEN_VARIABLE}=1 and review it")
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, (
            f"generated text differs from {path}; if the change is intended, rerun with "
            f"{REGEN_VARIABLE}=1 and review the diff before committing"
        )

    def check_params(self, name: str, params: dict[str, str], base: Path) -> None:
        """Compare parameters as JSON, with the machine-specific ``base`` shown as ``<tmp>``."""
        prefix = os.path.realpath(base)
        portable = {key: value.replace(prefix, "<tmp>", 1) for key, value in params.items()}
        self.check(name, json.dumps(portable, indent=2) + "\n")


@dataclass
class Workspace:
    """A project directory with a .git, plus a second root with a .codex, under tmp_path."""

    base: Path
    project: Path
    extra: Path

    def read_only(self) -> SandboxPolicy:
        """The read-only policy (no roots, no network)."""
        return SandboxPolicy(SandboxMode.READ_ONLY)

    def two_roots(self) -> SandboxPolicy:
        """workspace-write over the project and the extra root, network off."""
        return SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (self.project, self.extra), False)

    def with_network(self) -> SandboxPolicy:
        """workspace-write over the project only, network on."""
        return SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (self.project,), True)

    def repo_subdirectory(self) -> SandboxPolicy:
        """workspace-write as a session builds it: codex started in project/sub, ``base`` writable.

        Adds a nested repository (project/vendor/lib/.git), a worktree-style ``.git`` file
        (project/wt/.git -> project/.git/worktrees/wt) and a CODEX_HOME under ``base``.
        """
        sub = self.project / "sub"
        nested = self.project / "vendor" / "lib" / ".git"
        gitdir = self.project / ".git" / "worktrees" / "wt"
        home = self.base / "codex-home"
        for directory in (sub, nested, gitdir, self.project / "wt", home):
            directory.mkdir(parents=True, exist_ok=True)
        (self.project / "wt" / ".git").write_text(f"gitdir: {gitdir}\n", encoding="utf-8")
        return SandboxPolicy.build(
            SandboxMode.WORKSPACE_WRITE,
            cwd=sub,
            writable_roots=[self.base],
            exclude_slash_tmp=True,
            exclude_tmpdir_env_var=True,
            state_dirs=[home],
        )

    @classmethod
    def create(cls, tmp_path: Path) -> Workspace:
        """Lay out tmp/project (with .git/config, main.py) and tmp/extra (with .codex/)."""
        base = Path(os.path.realpath(tmp_path))
        project = base / "project"
        (project / ".git").mkdir(parents=True)
        (project / ".git" / "config").write_text("[core]\n", encoding="utf-8")
        (project / "main.py").write_text("print('hi')\n", encoding="utf-8")
        extra = base / "extra"
        (extra / ".codex").mkdir(parents=True)
        return cls(base, project, extra)
