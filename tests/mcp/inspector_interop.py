"""Interoperability check: the official MCP Inspector's CLI lists and calls `codex mcp`.

Not part of the pytest run (it needs Node and the npm registry). Run it by hand::

    /work/venv/bin/python tests/mcp/inspector_interop.py

It fetches ``@modelcontextprotocol/inspector`` through ``npx --yes`` (cached after the first
run), starts the mock model server, points a private CODEX_HOME at it and checks that the
Inspector sees both tools and gets the model's answer back from a `codex` call. Exit status 0
means it all worked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.mcp.harness import config_toml  # noqa: E402
from tests.mock_model import MockModelServer  # noqa: E402

INSPECTOR = ["npx", "--yes", "@modelcontextprotocol/inspector", "--cli"]
SERVER = [sys.executable, "-m", "codex", "mcp"]


def inspector(env: dict[str, str], *arguments: str) -> dict[str, object]:
    """Run one Inspector CLI method against `codex mcp`; its stdout is JSON."""
    completed = subprocess.run(
        [*INSPECTOR, *SERVER, *arguments], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"inspector failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    parsed: dict[str, object] = json.loads(completed.stdout)
    return parsed


def main() -> int:
    with MockModelServer() as mock, tempfile.TemporaryDirectory() as home:
        Path(home, "config.toml").write_text(config_toml(mock.base_url), encoding="utf-8")
        env = {**os.environ, "CODEX_HOME": home}

        listed = inspector(env, "--method", "tools/list")
        names = [tool["name"] for tool in listed["tools"]]  # type: ignore[attr-defined]
        assert names == ["codex", "codex-reply"], names

        mock.chat_text("Hello from codex through the inspector.")
        called = inspector(env, "--method", "tools/call", "--tool-name", "codex", "--tool-arg", "prompt=say hello")
        assert called["isError"] is False, called
        structured = called["structuredContent"]
        assert structured["content"] == "Hello from codex through the inspector.", called  # type: ignore[index]
    print("inspector interop: OK (tools/list and tools/call through @modelcontextprotocol/inspector --cli)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
