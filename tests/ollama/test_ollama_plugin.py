"""The plugin as codex sees it: entry point, hooks, provider entries, cheap import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import codex_ollama
import pytest
from fake_ollama import FakeOllama
from ollama_fixtures import RecordingUI, make_config

from codex.plugins import collect_registry, make_plugin_manager

REPO = Path(__file__).resolve().parents[2]


def test_registered_through_its_entry_point() -> None:
    pm = make_plugin_manager()
    assert pm.records["ollama"].error is None, pm.records["ollama"].error
    wires = collect_registry(pm, "codex_wire_apis", "wire API")
    assert wires.plugin_of("ollama") == "ollama"
    providers = collect_registry(pm, "codex_model_providers", "provider")
    assert providers.plugin_of("oss") == "ollama" and providers.plugin_of("lmstudio") == "ollama"


def test_provider_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_OSS_BASE_URL", raising=False)
    monkeypatch.delenv("CODEX_OSS_PORT", raising=False)
    entries = codex_ollama.codex_model_providers()
    assert entries["oss"] == {"name": "Ollama", "base_url": "http://localhost:11434/v1", "wire_api": "ollama"}
    assert entries["lmstudio"] == {"name": "LM Studio", "base_url": "http://localhost:1234/v1", "wire_api": "chat"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CODEX_OSS_PORT": "11500"}, "http://localhost:11500/v1"),
        ({"CODEX_OSS_BASE_URL": "http://gpu.lan:11434/v1", "CODEX_OSS_PORT": "1"}, "http://gpu.lan:11434/v1"),
        ({"CODEX_OSS_PORT": "not-a-port"}, "http://localhost:11434/v1"),
        ({}, "http://localhost:11434/v1"),
    ],
)
def test_base_url_follows_the_environment(env: dict[str, str], expected: str) -> None:
    assert codex_ollama.oss_base_url(env) == expected


def test_startup_hook_handles_local_providers_only(fake_ollama: FakeOllama) -> None:
    from codex.config.model import ModelProviderInfo

    fake_ollama.installed.append("gpt-oss:20b")
    config = make_config(fake_ollama.base_url)
    ui = RecordingUI()
    assert codex_ollama.codex_provider_startup(config.provider("oss"), config, ui) is True
    assert ui.infos == [f"Ollama 0.12.3 at {fake_ollama.root}"]
    openai = ModelProviderInfo(id="openai", base_url="https://api.openai.com/v1")
    assert codex_ollama.codex_provider_startup(openai, config, ui) is None


def test_import_is_cheap_and_never_touches_the_openai_plugin() -> None:
    script = (
        "import sys, codex_ollama\n"
        "codex_ollama.codex_model_providers()\n"
        "heavy = [m for m in ('httpx2', 'pydantic', 'codex_openai') if m in sys.modules]\n"
        "codex_ollama.codex_wire_apis()\n"
        "print(','.join(heavy), 'codex_openai' in sys.modules)\n"
    )
    env_path = f"{REPO}:{REPO / 'plugins' / 'ollama'}"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env={"PYTHONPATH": env_path}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"], "nothing heavy at import, and never codex_openai"
