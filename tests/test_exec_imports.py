"""What a one-answer ``codex exec`` does not import once it has run before.

Start-up is most of such a run, and each of these costs tens of milliseconds: pydantic (config
checks and tool schemas are remembered), httpx (requests go through codex.http1), and the wire
APIs and flows the session does not use. A change that drags one back in fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

NOT_IMPORTED = ("pydantic", "httpx", "httpcore", "anyio", "codex_openai.chat", "codex_ollama.wire",
                "codex_ollama.startup", "codex.tools.arguments", "codex.config.schema")


def imported_modules(stderr: str) -> set[str]:
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \| \s*(\S+)$", stderr, re.MULTILINE))


@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_second_exec_imports_no_heavy_module(
    codex_home: Path, run_codex: RunCodex, mock_model: MockModelServer, tmp_path: Path, wire: str
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", wire, request_max_retries=0, stream_max_retries=0)
    )
    imports = []
    for answer in ("first", "second"):
        if wire == "responses":
            mock_model.responses_turn(Text(answer))
        else:
            mock_model.chat_turn(Text(answer))
        result = run_codex("exec", "--skip-git-repo-check", "hello", cwd=tmp_path,
                           env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == answer
        imports.append(imported_modules(result.stderr))
    assert "codex.engine" in imports[1]  # the probe sees our own modules
    assert "pydantic" in imports[0]  # the first run checked the config and built the schemas
    assert sorted(m for m in NOT_IMPORTED if m in imports[1]) == []


def test_second_exec_with_a_shell_call_imports_no_pydantic(
    codex_home: Path, run_codex: RunCodex, mock_model: MockModelServer, tmp_path: Path
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )
    imports = []
    for answer in ("first", "second"):
        mock_model.responses_turn(Call("shell", {"command": ["echo", f"ran-{answer}"]}, f"call_{answer}"))
        mock_model.responses_turn(Text(answer))
        result = run_codex("exec", "--skip-git-repo-check", "--full-auto", "hello", cwd=tmp_path,
                           env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == answer
        imports.append(imported_modules(result.stderr))
    tool_output = mock_model.requests[-1].json["input"][-1]["output"]
    assert "ran-second" in tool_output  # the command really ran, and its output came back
    assert "codex.tools.shell" in imports[1]
    assert sorted(m for m in NOT_IMPORTED if m in imports[1]) == []
