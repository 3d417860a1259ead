"""`codex login` / `login status` / `logout`, auth.json in the Rust peer's format, and the key and
base URL of the built-in `openai` provider, seen through the real CLI and a loopback mock model."""

from __future__ import annotations

import json
import os
import pty
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunCodex
from tests.mock_model import MockModelServer, mock_model  # noqa: F401  (fixture)

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
MASKED = "sk-proj-***56789"
# Byte for byte what `codex login --with-api-key` of the Rust CLI 0.169 writes.
PEER_AUTH_JSON = '{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "%s"\n}'
# The older peer format (before auth_mode), still found in many homes.
OLD_PEER_AUTH_JSON = '{"OPENAI_API_KEY": "%s", "tokens": null, "last_refresh": null}'
CHATGPT_AUTH_JSON = json.dumps({
    "OPENAI_API_KEY": None,
    "tokens": {"id_token": "x.y.z", "access_token": "a.b.c", "refresh_token": "r", "account_id": "acct"},
    "last_refresh": "2026-01-01T00:00:00Z",
})


@pytest.fixture(autouse=True)
def no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own key or proxy must not leak into these runs."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def write_auth(codex_home: Path, text: str, mode: int = 0o600) -> Path:
    path = codex_home / "auth.json"
    path.write_text(text)
    path.chmod(mode)
    return path


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# ------------------------------------------------------------------------------ login


def test_login_stores_the_key_from_stdin_in_the_peers_format(codex_home: Path, run_codex: RunCodex) -> None:
    result = run_codex("login", "--with-api-key", stdin=KEY + "\n")

    assert result.returncode == 0, result.stderr
    path = codex_home / "auth.json"
    assert json.loads(path.read_text()) == {"auth_mode": "apikey", "OPENAI_API_KEY": KEY}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MASKED in result.stdout and str(path) in result.stdout
    assert KEY not in result.stdout + result.stderr
    assert [p.name for p in codex_home.iterdir()] == ["auth.json"]  # no temporary file left behind


def test_login_replaces_a_previous_key(codex_home: Path, run_codex: RunCodex) -> None:
    write_auth(codex_home, OLD_PEER_AUTH_JSON % "sk-old-0000000000000000")

    result = run_codex("login", "--with-api-key", stdin=KEY)

    assert result.returncode == 0, result.stderr
    assert json.loads((codex_home / "auth.json").read_text())["OPENAI_API_KEY"] == KEY


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["login", KEY], "takes no key on the command line"),
        (["login", "--api-key", KEY], "--api-key is not supported"),
        (["login"], "API key only"),
    ],
)
def test_login_refuses_a_key_on_the_command_line(
    args: list[str], expected: str, codex_home: Path, run_codex: RunCodex
) -> None:
    result = run_codex(*args)

    assert result.returncode == 2
    assert expected in result.stderr
    assert "codex login --with-api-key" in result.stderr
    assert KEY not in result.stderr + result.stdout
    assert not (codex_home / "auth.json").exists()


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [("", "no API key on stdin"), ("  \n", "no API key on stdin"), ("sk-a\nsk-b\n", "not one API key")],
)
def test_login_refuses_empty_or_garbled_stdin(
    stdin: str, expected: str, codex_home: Path, run_codex: RunCodex
) -> None:
    write_auth(codex_home, PEER_AUTH_JSON % KEY)

    result = run_codex("login", "--with-api-key", stdin=stdin)

    assert result.returncode == 1
    assert expected in result.stderr and "nothing was stored" in result.stderr.lower()
    assert json.loads((codex_home / "auth.json").read_text())["OPENAI_API_KEY"] == KEY


def test_login_refuses_a_terminal_as_stdin(codex_home: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "codex", "login", "--with-api-key"],
            stdin=terminal, capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)

    assert completed.returncode == 2
    assert "stdin, which is a terminal here; pipe it in" in completed.stderr
    assert not (codex_home / "auth.json").exists()


# ------------------------------------------------------------------------------ status, logout


def test_status_reads_an_auth_json_the_peer_wrote(codex_home: Path, run_codex: RunCodex) -> None:
    for text in (PEER_AUTH_JSON % KEY, OLD_PEER_AUTH_JSON % KEY):
        path = write_auth(codex_home, text)

        result = run_codex("login", "status")

        assert result.returncode == 0, result.stderr
        assert f"stored in {path}: {MASKED}" in result.stdout
        assert KEY not in result.stdout


def test_status_says_the_environment_wins(codex_home: Path, run_codex: RunCodex) -> None:
    write_auth(codex_home, PEER_AUTH_JSON % "sk-stored-00000000000000")

    result = run_codex("login", "status", env={"OPENAI_API_KEY": KEY})

    assert result.returncode == 0
    assert f"environment variable OPENAI_API_KEY: {MASKED}" in result.stdout
    assert "also holds a key (sk-store***00000), used when OPENAI_API_KEY is unset" in result.stdout


def test_status_when_not_signed_in_exits_1(codex_home: Path, run_codex: RunCodex) -> None:
    result = run_codex("login", "status")

    assert result.returncode == 1
    assert "Not signed in" in result.stderr and "codex login --with-api-key" in result.stderr


def test_status_explains_a_chatgpt_sign_in(codex_home: Path, run_codex: RunCodex) -> None:
    write_auth(codex_home, CHATGPT_AUTH_JSON)

    result = run_codex("login", "status")

    assert result.returncode == 1
    assert "ChatGPT sign-in" in result.stderr and "cannot use" in result.stderr


def test_status_distrusts_an_auth_json_others_can_write(codex_home: Path, run_codex: RunCodex) -> None:
    path = write_auth(codex_home, PEER_AUTH_JSON % KEY, mode=0o666)

    result = run_codex("login", "status")

    assert result.returncode == 1
    assert f"{path}: not a regular file of yours that only you can write" in result.stderr
    assert f"chmod 600 {path}" in result.stderr


def test_logout_removes_the_key_and_says_so(codex_home: Path, run_codex: RunCodex) -> None:
    path = write_auth(codex_home, PEER_AUTH_JSON % KEY)

    first = run_codex("logout")
    second = run_codex("logout")

    assert first.returncode == 0 and f"Signed out: removed {path}" in first.stdout
    assert not path.exists()
    assert second.returncode == 0 and "Not signed in" in second.stdout
    assert run_codex("login", "status").returncode == 1


def test_logout_warns_that_the_environment_key_stays(codex_home: Path, run_codex: RunCodex) -> None:
    result = run_codex("logout", env={"OPENAI_API_KEY": KEY})

    assert result.returncode == 0
    assert "OPENAI_API_KEY is still set" in result.stderr


# ------------------------------------------------------------------------------ the openai provider


def openai_config(codex_home: Path, extra: str = "") -> None:
    (codex_home / "config.toml").write_text(
        'model = "gpt-test"\nmodel_provider = "openai"\n'
        "[model_providers.openai]\nrequest_max_retries = 0\nstream_max_retries = 0\n" + extra
    )


def test_openai_provider_uses_the_stored_key_and_openai_base_url(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    openai_config(codex_home)
    write_auth(codex_home, PEER_AUTH_JSON % KEY)
    mock_model.responses_text("stored key works")

    result = run_codex("exec", "hi", cwd=git_workspace, env={"OPENAI_BASE_URL": mock_model.base_url})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stored key works"
    [request] = mock_model.requests
    assert request.path == "/v1/responses"
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_the_environment_key_wins_over_auth_json(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    openai_config(codex_home)
    write_auth(codex_home, PEER_AUTH_JSON % "sk-stored-00000000000000")
    mock_model.responses_text("ok")

    result = run_codex(
        "exec", "hi", cwd=git_workspace, env={"OPENAI_BASE_URL": mock_model.base_url, "OPENAI_API_KEY": KEY}
    )

    assert result.returncode == 0, result.stderr
    assert mock_model.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_config_base_url_wins_over_openai_base_url(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    openai_config(codex_home, f'base_url = "{mock_model.base_url}"\n')
    mock_model.responses_text("from the config's base_url")

    result = run_codex(
        "exec", "hi", cwd=git_workspace, env={"OPENAI_BASE_URL": closed_port_url(), "OPENAI_API_KEY": KEY}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from the config's base_url"
    assert len(mock_model.requests) == 1


def test_without_any_key_exec_says_how_to_sign_in(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    openai_config(codex_home)

    result = run_codex("exec", "hi", cwd=git_workspace, env={"OPENAI_BASE_URL": mock_model.base_url})

    assert result.returncode == 1
    assert "set the environment variable OPENAI_API_KEY, or store one with `codex login --with-api-key`" in (
        result.stderr
    )
    assert mock_model.requests == []


def test_the_peers_openai_base_url_key_moves_the_openai_provider_above_the_variable(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    (codex_home / "config.toml").write_text(
        f'model = "gpt-test"\nmodel_provider = "openai"\nopenai_base_url = "{mock_model.base_url}"\n'
        "[model_providers.openai]\nrequest_max_retries = 0\nstream_max_retries = 0\n"
    )
    mock_model.responses_text("from openai_base_url")

    result = run_codex(
        "exec", "hi", cwd=git_workspace, env={"OPENAI_BASE_URL": closed_port_url(), "OPENAI_API_KEY": KEY}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from openai_base_url"
    assert "unknown" not in result.stderr
    shown = run_codex("config", "show", cwd=git_workspace).stdout
    assert f'base_url = "{mock_model.base_url}"  # from config.toml:3' in shown, shown
