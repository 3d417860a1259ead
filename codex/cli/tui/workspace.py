"""The workspace as the terminal face sees it: its files (for @-completion) and its git diff."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def list_workspace_files(cwd: Path, limit: int = 20000) -> list[str]:
    """Files under ``cwd`` for @-completion: git's view when it is a repository, else a walk."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=cwd, capture_output=True, timeout=10, stdin=subprocess.DEVNULL,
        )
        if listed.returncode == 0:
            return sorted(p for p in listed.stdout.decode("utf-8", "replace").split("\0") if p)[:limit]
    except (OSError, subprocess.TimeoutExpired):
        pass
    found: list[str] = []
    for root, directories, files in os.walk(cwd):
        directories[:] = sorted(d for d in directories if not d.startswith(".") and d not in ("node_modules",
                                                                                               "__pycache__"))
        for name in sorted(files):
            found.append(os.path.relpath(os.path.join(root, name), cwd))
            if len(found) >= limit:
                return found
    return found



def workspace_diff(cwd: Path) -> str | None:
    """Tracked changes against HEAD plus untracked files as additions; None outside a git repo."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "--no-pager", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )

    try:
        inside = git("rev-parse", "--is-inside-work-tree")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    has_head = git("rev-parse", "--verify", "-q", "HEAD").returncode == 0
    tracked = git("diff", "--no-color", "--no-ext-diff", *(["HEAD"] if has_head else ["--cached"])).stdout
    untracked = git("ls-files", "--others", "--exclude-standard", "-z").stdout.split("\0")
    parts = [tracked]
    for path in filter(None, untracked):
        added = git("diff", "--no-color", "--no-index", "--", "/dev/null", path).stdout
        parts.append(added)
    return "".join(parts)
