"""Shared helpers for the landlock tests: victim directories and a runner for sandboxed commands.

Everything a broken sandbox could damage lives in directories these helpers create under
/var/tmp (never /tmp: workspace-write grants /tmp, which would make an "outside" victim there
meaningless) and removes afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_landlock import helper
from codex_landlock.backend import LandlockBackend

from codex.execution import confine
from codex.sandbox import SandboxMode, SandboxPolicy

LINUX = sys.platform.startswith("linux")
LANDLOCK_ABI = helper.landlock_abi() if LINUX else 0
RUN_TIMEOUT_SECONDS = 60

# Wraps a test snippet so the sandboxed Python reports what happened in one line on stdout:
# "ALLOWED", "DENIED <errno name>", or whatever the snippet itself prints.
ATTEMPT = """
import errno, os, sys
try:
{body}
except OSError as error:
    print("DENIED", errno.errorcode.get(error.errno, error.errno))
else:
    print("ALLOWED")
"""


def victim_base() -> Path:
    """A scratch base outside every root workspace-write grants (/tmp and $TMPDIR)."""
    granted = [Path("/tmp").resolve(), Path(tempfile.gettempdir()).resolve()]
    for candidate in (Path("/var/tmp"), Path(__file__).resolve().parent):
        resolved = candidate.resolve()
        outside_grants = all(g != resolved and g not in resolved.parents for g in granted)
        if resolved.is_dir() and os.access(resolved, os.W_OK) and outside_grants:
            return resolved
    raise RuntimeError("no writable directory outside /tmp and $TMPDIR for the victim files")


def make_scratch_dir(prefix: str) -> Path:
    """A fresh directory under ``victim_base()``; the caller removes it."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=victim_base())).resolve()


def make_project(prefix: str) -> Path:
    """A scratch project directory with .git/config, .codex/config.toml and src/hello.txt."""
    root = make_scratch_dir(prefix)
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".codex").mkdir()
    (root / ".codex" / "config.toml").write_text('model = "o3"\n')
    (root / "src").mkdir()
    (root / "src" / "hello.txt").write_text("hello\n")
    return root


def make_outside(prefix: str) -> Path:
    """A scratch directory outside every writable root, holding victim.txt ("original")."""
    root = make_scratch_dir(prefix)
    (root / "victim.txt").write_text("original\n")
    return root


def remove_tree(path: Path) -> None:
    """Remove a scratch tree even if a test left it read-only."""
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o700)
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Sandbox:
    """Runs real commands through the backend's helper, rooted in ``workspace``."""

    workspace: Path
    backend: LandlockBackend

    def command(
        self,
        argv: Sequence[str],
        mode: str = "workspace-write",
        network: bool = False,
        layers: str = "all",
        policy_keys: dict[str, object] | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """The wrapped argv and environment the engine would spawn.

        ``layers="landlock-only"`` asks the helper to skip the mount namespace, as it must on a
        machine without one, to show what Landlock and seccomp hold on their own.
        ``policy_keys`` adds helper policy keys the backend does not send (``mask_sockets``).
        """
        policy = SandboxPolicy.build(SandboxMode(mode), cwd=self.workspace, network_access=network)
        prepared = confine(self.backend, list(argv), policy, self.workspace)
        wrapped = list(prepared.argv)
        extra = dict(policy_keys or {})
        if layers == "landlock-only":
            extra["mount_namespace"] = False
        if extra:
            index = wrapped.index("--policy") + 1
            wrapped[index] = json.dumps({**json.loads(wrapped[index]), **extra})
        return wrapped, {**os.environ, **prepared.env}

    def run(
        self,
        *argv: str,
        mode: str = "workspace-write",
        network: bool = False,
        layers: str = "all",
        policy_keys: dict[str, object] | None = None,
        stdin: int | None = subprocess.DEVNULL,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` confined and wait for it (bounded)."""
        wrapped, env = self.command(argv, mode, network, layers, policy_keys)
        return subprocess.run(
            wrapped,
            env=env,
            cwd=self.workspace,
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )

    def python(self, code: str, **options: object) -> subprocess.CompletedProcess[str]:
        """Run a Python snippet confined, with this interpreter."""
        return self.run(sys.executable, "-c", code, **options)  # type: ignore[arg-type]

    def attempt(self, body: str, **options: object) -> str:
        """Run ``body`` confined; return "ALLOWED", "DENIED <ERRNO>" or what the body printed."""
        indented = "\n".join("    " + line for line in body.strip().splitlines())
        result = self.python(ATTEMPT.format(body=indented), **options)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()
