"""`codex doctor`: each check against the real thing (a loopback provider, a closed port, a
server that never answers, real MCP servers, the real sandbox backends), through the real CLI."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CodexRun, RunCodex
from tests.mock_model import MockModelServer, Reply, mock_model  # noqa: F401  (fixture)

KEY_VARIABLE = "CODEX_TEST_DOCTOR_KEY"
KEY = "sk-doctor-0123456789abcdefghij"
FAKE_MCP_SERVER = str(Path(__file__).parent / "mcp" / "fake_server.py")
MODELS = Reply(status=200, headers=[("Content-Type", "application/json")],
               body=b'{"object": "list", "data": []}', stream=False)


@pytest.fixture(autouse=True)
def no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def provider_config(base_url: str, extra: str = "") -> str:
    return (
        'model = "mock-model"\nmodel_provider = "mock"\n'
        f'[model_providers.mock]\nname = "Mock"\nbase_url = "{base_url}"\nenv_key = "{KEY_VARIABLE}"\n' + extra
    )


def doctor_json(
    run_codex: RunCodex, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> tuple[CodexRun, dict[str, Any]]:
    result = run_codex("doctor", "--json", *args, cwd=cwd, env=env)
    document = json.loads(result.stdout)
    return result, {check["name"]: check for check in document["checks"]} | {"ok": document["ok"]}


@pytest.fixture
def silent_port() -> Iterator[str]:
    """A loopback URL whose server accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)  # the kernel completes the handshake; nobody ever reads the request
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_a_healthy_setup_passes_and_the_provider_is_asked(
    mock_model: MockModelServer, write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    write_config(provider_config(mock_model.base_url))
    mock_model.on("/v1/models", MODELS)

    result, checks = doctor_json(run_codex, cwd=git_workspace, env={KEY_VARIABLE: KEY})

    assert result.returncode == 0, result.stdout + result.stderr
    assert checks["ok"] is True
    assert checks["config"]["status"] == "ok"
    assert checks["key"]["status"] == "ok"
    assert checks["key"]["details"] == {
        "needed": True, "source": "env", "where": KEY_VARIABLE, "masked": "sk-docto***fghij",
    }
    assert checks["provider"]["status"] == "ok" and checks["provider"]["details"]["status"] == 200
    assert checks["git"]["status"] == "ok" and checks["git"]["details"]["repository"] == str(git_workspace)
    assert checks["codex"]["details"]["path"].endswith("codex")
    [request] = mock_model.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in result.stdout


def test_an_invalid_config_fails_with_its_line_and_skips_what_depends_on_it(
    write_config: Any, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    write_config("model = 3\n")

    result = run_codex("doctor", cwd=git_workspace)

    assert result.returncode == 1
    assert f"FAIL  config      {codex_home / 'config.toml'}:1:9: model: expected a string; got 3" in result.stdout
    assert f"fix: edit {codex_home / 'config.toml'}" in result.stdout
    assert "skip  provider    skipped: config.toml must load first" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_key_fails_and_says_where_to_put_it(
    mock_model: MockModelServer, write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    write_config(provider_config(mock_model.base_url))
    mock_model.on("/v1/models", MODELS)

    result, checks = doctor_json(run_codex, cwd=git_workspace)

    assert result.returncode == 1
    assert checks["key"]["status"] == "fail"
    assert f"none in ${KEY_VARIABLE}" in checks["key"]["summary"]
    assert checks["key"]["fix"] == f"set {KEY_VARIABLE}"
    assert checks["provider"]["status"] == "ok"  # reachable all the same
    assert "authorization" not in mock_model.requests[0].headers


def test_a_refused_key_fails(
    mock_model: MockModelServer, write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    write_config(provider_config(mock_model.base_url))
    mock_model.on("/v1/models", Reply(status=401, headers=[("Content-Type", "application/json")],
                                      body=b'{"error": {"message": "Incorrect API key provided"}}', stream=False))

    result, checks = doctor_json(run_codex, cwd=git_workspace, env={KEY_VARIABLE: KEY})

    assert result.returncode == 1
    assert checks["provider"]["status"] == "fail"
    assert "refused the key (HTTP 401)" in checks["provider"]["summary"]
    assert "Incorrect API key provided" in checks["provider"]["summary"]
    assert "codex login --with-api-key" in checks["provider"]["fix"]


def test_a_closed_port_fails_with_what_to_do(write_config: Any, git_workspace: Path, run_codex: RunCodex) -> None:
    url = closed_port_url()
    write_config(provider_config(url))

    result = run_codex("doctor", cwd=git_workspace, env={KEY_VARIABLE: KEY})

    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if line.startswith("FAIL  provider"))
    assert f"'mock' at {url}: cannot connect" in line
    assert f"fix: start the server at {url}, or fix model_providers.mock.base_url" in result.stdout


def test_a_provider_that_never_answers_is_given_up_on(
    silent_port: str, write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    write_config(provider_config(silent_port))

    result, checks = doctor_json(run_codex, "--timeout", "0.5", cwd=git_workspace, env={KEY_VARIABLE: KEY})

    assert result.returncode == 1
    assert checks["provider"]["summary"].endswith("no answer within 0.5 s")
    assert "--timeout" in checks["provider"]["fix"]


def test_the_openai_provider_is_checked_at_openai_base_url_with_the_stored_key(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    auth = codex_home / "auth.json"
    auth.write_text(json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": KEY}))
    auth.chmod(0o600)
    mock_model.on("/v1/models", MODELS)

    result, checks = doctor_json(run_codex, cwd=git_workspace, env={"OPENAI_BASE_URL": mock_model.base_url})

    assert result.returncode == 0, result.stdout
    assert checks["key"]["details"]["source"] == "auth.json"
    assert checks["key"]["summary"].endswith(f"from {auth}")
    assert mock_model.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_a_stored_key_others_can_read_is_a_warning(
    mock_model: MockModelServer, codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    auth = codex_home / "auth.json"
    auth.write_text(json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": KEY}))
    auth.chmod(0o644)
    mock_model.on("/v1/models", MODELS)

    result, checks = doctor_json(run_codex, cwd=git_workspace, env={"OPENAI_BASE_URL": mock_model.base_url})

    assert result.returncode == 0, result.stdout
    assert checks["key"]["status"] == "warn"
    assert checks["key"]["fix"] == f"chmod 600 {auth}"


def test_a_chatgpt_sign_in_is_named_as_unusable(
    codex_home: Path, git_workspace: Path, run_codex: RunCodex
) -> None:
    auth = codex_home / "auth.json"
    auth.write_text(json.dumps({"OPENAI_API_KEY": None, "tokens": {"access_token": "a.b.c"}, "last_refresh": None}))
    auth.chmod(0o600)

    result, checks = doctor_json(run_codex, cwd=git_workspace, env={"OPENAI_BASE_URL": closed_port_url()})

    assert result.returncode == 1
    assert checks["key"]["status"] == "fail"
    assert "ChatGPT sign-in of the Rust CLI, which codex-py cannot use" in checks["key"]["summary"]
    assert "codex login --with-api-key" in checks["key"]["fix"]


def test_each_mcp_server_is_started(
    mock_model: MockModelServer, write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    write_config(
        provider_config(mock_model.base_url)
        + f"[mcp_servers.files]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(FAKE_MCP_SERVER)}]\n"
        + '[mcp_servers.gone]\ncommand = "codex-test-no-such-server"\nstartup_timeout_sec = 5\n'
    )
    mock_model.on("/v1/models", MODELS)

    result, checks = doctor_json(run_codex, cwd=git_workspace, env={KEY_VARIABLE: KEY})

    assert result.returncode == 1
    assert checks["mcp:files"]["status"] == "ok" and checks["mcp:files"]["details"]["tools"] >= 1
    assert checks["mcp:gone"]["status"] == "fail"
    assert "'codex-test-no-such-server' was not found" in checks["mcp:gone"]["summary"]
    assert "[mcp_servers.gone]" in checks["mcp:gone"]["fix"]
    assert not [name for name, check in checks.items() if name != "ok" and check["status"] == "fail"
                and name != "mcp:gone"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux view of the backends")
def test_the_sandbox_check_names_only_this_systems_backends(
    git_workspace: Path, run_codex: RunCodex
) -> None:
    _, checks = doctor_json(run_codex, cwd=git_workspace)
    human = run_codex("doctor", cwd=git_workspace)

    backends = checks["sandbox"]["details"]["backends"]
    assert "landlock" in backends and "seatbelt" not in backends
    assert checks["sandbox"]["details"]["chosen"] == "landlock"
    assert "sandbox-exec" not in human.stdout and "seatbelt" not in human.stdout


def test_a_configured_backend_that_cannot_work_here_fails(
    write_config: Any, git_workspace: Path, run_codex: RunCodex
) -> None:
    other = "seatbelt" if sys.platform.startswith("linux") else "landlock"
    write_config(f'sandbox_backend = "{other}"\n')

    result, checks = doctor_json(run_codex, cwd=git_workspace)

    assert result.returncode == 1
    assert checks["sandbox"]["status"] == "fail"
    assert f"sandbox_backend = '{other}' cannot be used here" in checks["sandbox"]["summary"]


def test_outside_a_repository_git_is_a_warning_not_a_failure(
    mock_model: MockModelServer, write_config: Any, tmp_path: Path, run_codex: RunCodex
) -> None:
    write_config(provider_config(mock_model.base_url))
    mock_model.on("/v1/models", MODELS)
    outside = tmp_path / "plain"
    outside.mkdir()

    result, checks = doctor_json(run_codex, cwd=outside, env={KEY_VARIABLE: KEY})

    assert result.returncode == 0
    assert checks["git"]["status"] == "warn"
    assert "--skip-git-repo-check" in checks["git"]["fix"]
