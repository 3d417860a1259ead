"""The startup flow: probe, launch `ollama serve` (the fake executable), install advice, pull,
provider selection between Ollama and LM Studio."""

from __future__ import annotations

import platform
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from codex_ollama.client import probe_ollama
from codex_ollama.install import install_instructions
from codex_ollama.startup import StartupEnv, prepare_local_provider, select_local_provider
from fake_ollama import FakeOllama
from ollama_fixtures import RecordingUI, free_port, make_config

from codex.config.model import ModelProviderInfo
from codex.errors import CodexError, ConfigError, ProviderError

DEAD_URL = "http://127.0.0.1:9/v1"


def startup_env(tmp_path: Path, bin_dir: Path | None, **kw: object) -> StartupEnv:
    import os

    path = str(bin_dir) if bin_dir is not None else str(tmp_path / "empty-path")

    def which(name: str) -> str | None:
        return shutil.which(name, path=path)

    exits: list[Callable[[], None]] = []
    env = StartupEnv(
        env=dict(os.environ),
        which=which,
        log_path=tmp_path / "logs" / "ollama-serve.log",
        at_exit=exits.append,
        **kw,  # type: ignore[arg-type]
    )
    env.exits = exits  # type: ignore[attr-defined]
    return env


# ---------------------------------------------------------------------------- a running server


def test_running_server_with_the_model_is_used_as_is(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    fake_ollama.installed.append("gpt-oss:20b")
    config = make_config(fake_ollama.base_url, context_window=65536)
    ui = RecordingUI()
    assert prepare_local_provider(config.provider("oss"), config, ui, startup_env(tmp_path, None)) is True
    assert ui.infos == [f"Ollama 0.12.3 at {fake_ollama.root}"]
    assert fake_ollama.paths() == ["GET /api/version", "GET /api/tags"]
    # The window is fixed on the provider entry, where the wire API reads it for every request.
    assert config.provider("oss").context_window == 65536


def test_missing_model_is_pulled(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    config = make_config(fake_ollama.base_url)
    ui = RecordingUI()
    prepare_local_provider(config.provider("oss"), config, ui, startup_env(tmp_path, None))
    assert "Model gpt-oss:20b is not in Ollama yet; downloading it (about 14 GB)." in ui.infos
    assert "POST /api/pull" in fake_ollama.paths()
    assert ui.progresses[0].final is not None and ui.progresses[0].final.startswith("pulled gpt-oss:20b")
    assert fake_ollama.installed == ["gpt-oss:20b"]


def test_a_user_window_on_the_provider_entry_wins(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    fake_ollama.installed.append("gpt-oss:20b")
    config = make_config(fake_ollama.base_url, context_window=65536)
    config.model_providers["oss"] = ModelProviderInfo(
        id="oss", base_url=fake_ollama.base_url, wire_api="ollama", context_window=8192
    )
    prepare_local_provider(config.provider("oss"), config, RecordingUI(), startup_env(tmp_path, None))
    assert config.provider("oss").context_window == 8192


def test_chat_wire_against_ollama_is_warned_about(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    fake_ollama.installed.append("gpt-oss:20b")
    config = make_config(fake_ollama.base_url, oss_wire="chat")
    ui = RecordingUI()
    prepare_local_provider(config.provider("oss"), config, ui, startup_env(tmp_path, None))
    assert len(ui.warnings) == 1 and 'wire_api = "ollama"' in ui.warnings[0]


# ---------------------------------------------------------------------------- launching


def test_autostart_launches_ollama_serve_then_pulls(ollama_bin: Path, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    config = make_config(url, autostart=True)
    ui = RecordingUI()
    env = startup_env(tmp_path, ollama_bin)
    prepare_local_provider(config.provider("oss"), config, ui, env)

    log = tmp_path / "logs" / "ollama-serve.log"
    assert ui.infos[0] == f"Starting Ollama (`{ollama_bin / 'ollama'} serve`); waiting up to 30 s for it at http://127.0.0.1:{port}..."
    assert ui.infos[1].startswith(f"Ollama 0.12.3 is up at http://127.0.0.1:{port} (started in ")
    assert ui.infos[1].endswith(f"Log: {log}")
    assert "It stays running for later sessions" in ui.infos[2]
    assert f"OLLAMA_HOST=127.0.0.1:{port} OLLAMA_CONTEXT_LENGTH=32768" in log.read_text()
    # The server outlives the flow, and now has the model.
    status = probe_ollama(url)
    assert status.reachable and status.has_model("gpt-oss:20b")
    assert env.exits == []  # type: ignore[attr-defined]


def test_stop_on_exit_registers_a_stop(ollama_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_MODELS", "gpt-oss:20b")
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = make_config(url, autostart=True, stop_on_exit=True)
    ui = RecordingUI()
    env = startup_env(tmp_path, ollama_bin)
    prepare_local_provider(config.provider("oss"), config, ui, env)
    assert "It will be stopped when codex exits (oss.stop_on_exit = true)." in ui.infos
    [stop] = env.exits  # type: ignore[attr-defined]
    assert probe_ollama(url).reachable
    stop()
    assert not probe_ollama(url).reachable


def test_interactive_yes_starts_it(ollama_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_MODELS", "gpt-oss:20b")
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = make_config(url)
    ui = RecordingUI(interactive=True, answers=[True])
    prepare_local_provider(config.provider("oss"), config, ui, startup_env(tmp_path, ollama_bin))
    assert ui.questions == [f"Ollama is not running at {url[:-3]}. Start it now (`ollama serve`)?"]
    assert probe_ollama(url).reachable


def test_assume_yes_starts_it_without_asking(ollama_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_MODELS", "gpt-oss:20b")
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = make_config(url)
    ui = RecordingUI(interactive=False, assume_yes=True)
    prepare_local_provider(config.provider("oss"), config, ui, startup_env(tmp_path, ollama_bin))
    assert ui.questions == []
    assert probe_ollama(url).reachable


@pytest.mark.parametrize("ui", [RecordingUI(interactive=False), RecordingUI(interactive=True, answers=[False])])
def test_not_allowed_to_start_explains_how(ollama_bin: Path, tmp_path: Path, ui: RecordingUI) -> None:
    config = make_config(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(ProviderError) as caught:
        prepare_local_provider(config.provider("oss"), config, ui, startup_env(tmp_path, ollama_bin))
    message = str(caught.value)
    assert f"Ollama is installed ({ollama_bin / 'ollama'}) but not running" in message
    assert "`ollama serve`" in message and "oss.autostart = true" in message and "--yes" in message
    assert not (tmp_path / "ollama.pid").exists(), "nothing was started"


def test_a_server_that_exits_is_reported_with_its_log(
    ollama_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_CRASH", "1")
    config = make_config(f"http://127.0.0.1:{free_port()}/v1", autostart=True)
    with pytest.raises(ProviderError) as caught:
        prepare_local_provider(config.provider("oss"), config, RecordingUI(), startup_env(tmp_path, ollama_bin))
    assert "`ollama serve` exited with status 1 before answering" in str(caught.value)
    assert "bind: address already in use" in str(caught.value)


def test_a_server_that_never_answers_is_stopped_after_the_timeout(
    ollama_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_START_DELAY", "30")
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = make_config(url, autostart=True)
    env = startup_env(tmp_path, ollama_bin, start_timeout=1.0)
    with pytest.raises(ProviderError, match=r"did not answer at .* within 1 s of starting `ollama serve`"):
        prepare_local_provider(config.provider("oss"), config, RecordingUI(), env)
    [server] = env.launched
    assert server.process.poll() is not None  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- not installed


def test_not_installed_non_interactive_fails_with_install_advice(tmp_path: Path) -> None:
    config = make_config(f"http://127.0.0.1:{free_port()}/v1", autostart=True)
    with pytest.raises(CodexError) as caught:
        prepare_local_provider(config.provider("oss"), config, RecordingUI(), startup_env(tmp_path, None))
    assert str(caught.value) == install_instructions()
    assert caught.value.exit_code == 1


def test_installer_runs_only_on_an_explicit_yes(tmp_path: Path) -> None:
    config = make_config(f"http://127.0.0.1:{free_port()}/v1")
    # Offer the installer on a machine that has one; the person declines.
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("sh", "curl", "brew", "winget"):
        (tools / name).write_text("#!/bin/sh\nexit 99\n")
        (tools / name).chmod(0o755)
    env = startup_env(tmp_path, tools)
    ui = RecordingUI(interactive=True, answers=[False])
    with pytest.raises(ProviderError):
        prepare_local_provider(config.provider("oss"), config, ui, env)
    if platform.system() in ("Linux", "Darwin", "Windows"):
        assert len(ui.questions) == 1 and ui.questions[0].startswith("Run `")
    # --yes is not a person's yes to running a downloaded installer.
    ui_yes = RecordingUI(interactive=True, assume_yes=True, answers=[True])
    with pytest.raises(ProviderError):
        prepare_local_provider(config.provider("oss"), config, ui_yes, env)
    assert ui_yes.questions == []


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("Linux", "curl -fsSL https://ollama.com/install.sh | sh"),
        ("Darwin", "brew install ollama"),
        ("Windows", "winget install Ollama.Ollama"),
        ("Plan9", "https://ollama.com/download"),
    ],
)
def test_install_advice_per_system(system: str, expected: str) -> None:
    assert expected in install_instructions(system)


def test_remote_server_not_answering_is_not_launched(ollama_bin: Path, tmp_path: Path) -> None:
    config = make_config("http://192.0.2.1:11434/v1", autostart=True)
    env = startup_env(tmp_path, ollama_bin)
    env.probe = lambda url: probe_ollama(url, read_timeout=0.5)
    with pytest.raises(ProviderError, match=r"no answer from Ollama at http://192\.0\.2\.1:11434") as caught:
        prepare_local_provider(config.provider("oss"), config, RecordingUI(), env)
    assert "CODEX_OSS_BASE_URL" in str(caught.value)
    assert env.launched == []


def test_bad_port_variable_is_a_config_error(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    config = make_config(fake_ollama.base_url)
    env = startup_env(tmp_path, None)
    env.env = {"CODEX_OSS_PORT": "eleven"}
    with pytest.raises(ConfigError, match="CODEX_OSS_PORT='eleven' is not a TCP port"):
        prepare_local_provider(config.provider("oss"), config, RecordingUI(), env)


# ---------------------------------------------------------------------------- LM Studio and selection


def test_oss_falls_back_to_a_running_lm_studio(fake_lmstudio: FakeOllama, tmp_path: Path) -> None:
    config = make_config(DEAD_URL, lmstudio_url=fake_lmstudio.base_url)
    ui = RecordingUI()
    prepare_local_provider(config.provider("oss"), config, ui, startup_env(tmp_path, None))
    assert config.model_provider == "lmstudio"
    assert config.model == "openai/gpt-oss-20b"
    assert ui.infos[0].startswith("Ollama is not running at http://127.0.0.1:9, but LM Studio answers")


def test_explicit_oss_provider_does_not_fall_back(fake_lmstudio: FakeOllama, tmp_path: Path) -> None:
    config = make_config(DEAD_URL, lmstudio_url=fake_lmstudio.base_url)
    config.oss_provider = "oss"
    with pytest.raises(CodexError):
        prepare_local_provider(config.provider("oss"), config, RecordingUI(), startup_env(tmp_path, None))
    assert config.model_provider == "oss"


def test_lm_studio_not_running(tmp_path: Path) -> None:
    config = make_config(DEAD_URL, lmstudio_url=DEAD_URL)
    with pytest.raises(ProviderError, match=r"LM Studio's server is not answering .* `lms server start`"):
        prepare_local_provider(config.provider("lmstudio"), config, RecordingUI(), startup_env(tmp_path, None))


def test_lm_studio_without_the_model(fake_lmstudio: FakeOllama, tmp_path: Path) -> None:
    config = make_config(DEAD_URL, model="gpt-oss:120b", lmstudio_url=fake_lmstudio.base_url)
    with pytest.raises(ProviderError) as caught:
        prepare_local_provider(config.provider("lmstudio"), config, RecordingUI(), startup_env(tmp_path, None))
    assert "lms get openai/gpt-oss-120b" in str(caught.value)
    assert "openai/gpt-oss-20b, qwen/qwen3-8b" in str(caught.value)


def test_selection_prefers_ollama_then_lm_studio(
    fake_ollama: FakeOllama, fake_lmstudio: FakeOllama, tmp_path: Path
) -> None:
    env = startup_env(tmp_path, None)
    assert select_local_provider(make_config(fake_ollama.base_url, lmstudio_url=fake_lmstudio.base_url), env) == "oss"
    assert select_local_provider(make_config(DEAD_URL, lmstudio_url=fake_lmstudio.base_url), env) == "lmstudio"
    assert select_local_provider(make_config(DEAD_URL, lmstudio_url=DEAD_URL), env) is None
    chosen = make_config(DEAD_URL, lmstudio_url=DEAD_URL)
    chosen.oss_provider = "lmstudio"
    assert select_local_provider(chosen, env) == "lmstudio"


def test_other_providers_are_left_alone(tmp_path: Path) -> None:
    config = make_config(DEAD_URL)
    openai = ModelProviderInfo(id="openai", base_url="https://api.openai.com/v1", wire_api="responses")
    assert prepare_local_provider(openai, config, RecordingUI(), startup_env(tmp_path, None)) is False
