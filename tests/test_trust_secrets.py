"""Secrets stay out of commands and CODEX_HOME stays private (issue 14, section 5).

The end-to-end story: the provider's key lives in a variable with an unremarkable name
(``MOCK_CRED``), config.toml carries a credential header, and the model asks for ``env``. Neither
reaches the command, so neither reaches the model, the rollout or the terminal.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex.config.model import Config, McpServerConfig, ModelProviderInfo, ShellEnvironmentPolicy
from codex.execution import build_env
from codex.history import PromptHistory
from tests.conftest import RunCodex
from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

PROVIDER_KEY = "mock-cred-0f3e9a51c2d84b76"
HEADER_SECRET = "hdr-cred-5b2c7d9e1a4f6083"
DB_PASSWORD = "db-pass-77aa19"


def _repository(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=30)
    return path


def _outputs(body: dict[str, Any]) -> dict[str, str]:
    return {i["call_id"]: i["output"] for i in body["input"] if i.get("type") == "function_call_output"}


def test_the_provider_key_and_config_credentials_never_reach_a_command(
    mock_model: MockModelServer, codex_home: Path, run_codex: RunCodex, tmp_path: Path
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
        + 'env_key = "MOCK_CRED"\n'
        + f'http_headers = {{ "X-Team" = "Bearer {HEADER_SECRET}" }}\n',
        encoding="utf-8",
    )
    mock_model.responses_turn(Call("shell", {"command": ["env"]}, "call_env"))
    mock_model.responses_turn(Text("listed"))
    work = _repository(tmp_path / "work")
    env = {
        "MOCK_CRED": PROVIDER_KEY,
        "COPY_OF_THE_KEY": PROVIDER_KEY,  # the same value under an innocent name
        "TEAM_HEADER_VALUE": HEADER_SECRET,
        "DB_PASSWORD": DB_PASSWORD,
        "MYSQL_PWD": DB_PASSWORD,
        "VISIBLE_MARKER": "still-here",
    }

    result = run_codex("exec", "--full-auto", "show the environment", env=env, cwd=work)

    assert result.returncode == 0, result.stderr
    requests = mock_model.requests
    assert requests[0].headers.get("authorization") == f"Bearer {PROVIDER_KEY}"  # the key did work
    output = _outputs(requests[1].json)["call_env"]
    assert "VISIBLE_MARKER=still-here" in output  # the command did print its environment
    assert "PWD=" in output  # *_PWD spares the working directory
    for secret in (PROVIDER_KEY, HEADER_SECRET, DB_PASSWORD):
        assert secret not in output
        assert secret not in result.stdout + result.stderr
        for rollout in (codex_home / "sessions").rglob("*.jsonl"):
            assert secret not in rollout.read_text(encoding="utf-8")
    assert "MOCK_CRED" not in output and "COPY_OF_THE_KEY" not in output


def test_command_secrets_cover_every_credential_in_config() -> None:
    from codex.execution import command_secrets

    config = Config(
        model_providers={
            "p": ModelProviderInfo(
                name="P", base_url="http://127.0.0.1:1/v1", env_key="ODD_NAME",
                env_http_headers={"X-Org": "ORG_HEADER_VAR"}, http_headers={"Authorization": "Bearer abcdefgh12345678"},
            )
        },
        mcp_servers={
            "files": McpServerConfig(
                command="srv",
                env={"GITHUB_PAT": "ghp-123456789", "DEBUG": "1", "PATH": "/usr/bin:/bin", "CACHE": "/var/cache/x"},
                bearer_token_env_var="MCP_BEARER",
            )
        },
    )
    base = {
        "ODD_NAME": "provider-key-value",
        "ORG_HEADER_VAR": "org-id-value-1234",
        "MCP_BEARER": "bearer-value-1234",
        "ALIAS_OF_BEARER": "bearer-value-1234",
        "URL_WITH_KEY": "https://x.test/?k=abcdefgh12345678",
        "PAT_COPY": "ghp-123456789",
        "DEBUG": "1",
        "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": "/var/cache/x",
        "GIT_AUTHOR_NAME": "A. Person",
        "PWD": "/work",
        "OLDPWD": "/",
    }
    secrets = command_secrets(config, base)

    env = build_env(ShellEnvironmentPolicy(), base, secrets=secrets)
    assert env == {
        "DEBUG": "1", "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": "/var/cache/x", "GIT_AUTHOR_NAME": "A. Person",
        "PWD": "/work", "OLDPWD": "/",
    }
    # Neither turning the default filter off nor asking for the variable lets it through.
    opened = ShellEnvironmentPolicy(ignore_default_excludes=True, include_only=["ODD_NAME", "PATH"])
    assert build_env(opened, base, secrets=secrets) == {"PATH": "/usr/bin:/bin"}


@pytest.mark.parametrize(
    "name",
    ["DB_PASSWORD", "pgpassword", "SMB_PASSWD", "GPG_PASSPHRASE", "MYSQL_PWD", "AWS_SHARED_CREDENTIALS_FILE",
     "GOOGLE_APPLICATION_CREDENTIALS", "SSH_PRIVATE_KEY", "SESSION_COOKIE", "GH_TOKEN", "OPENAI_API_KEY"],
)
def test_the_default_filter_covers_the_usual_credential_names(name: str) -> None:
    assert build_env(ShellEnvironmentPolicy(), {name: "x", "HOME": "/h"}) == {"HOME": "/h"}


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_everything_codex_creates_under_codex_home_is_private(
    mock_model: MockModelServer,
    run_codex: RunCodex,
    tmp_path: Path,
    permissive_umask: None,
) -> None:
    home = tmp_path / "fresh" / "codex-home"  # codex creates it
    mock_model.responses_turn(Call("shell", {"command": ["true"]}, "call_1"))
    mock_model.responses_turn(Text("done"))
    provider = mock_model.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    env = {"CODEX_HOME": str(home)}
    set_model = run_codex("config", "set", "model", "mock-model", env=env)
    assert set_model.returncode == 0, set_model.stderr
    with (home / "config.toml").open("a", encoding="utf-8") as handle:
        handle.write('model_provider = "mock"\n' + provider)
    work = _repository(tmp_path / "work")

    ran = run_codex("exec", "--full-auto", "go", env=env, cwd=work)
    assert ran.returncode == 0, ran.stderr
    PromptHistory.for_home(home).append("s1", "a prompt")

    modes = _modes(home)
    assert any(name.endswith(".jsonl") and name.startswith("sessions") for name in modes), modes
    assert "history.jsonl" in modes and "config.toml" in modes
    wide = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert wide == {}
    assert stat.S_IMODE(home.parent.stat().st_mode) == 0o700  # a parent codex had to create
