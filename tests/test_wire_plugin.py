"""The openai plugin as the engine sees it: registered wire APIs and the built-in provider."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import codex_openai
import pytest

from codex.config.model import ModelProviderInfo
from codex.errors import ProviderError
from codex.plugins import collect_registry, make_plugin_manager
from codex.wire import LazyWireApi, WireApi
from tests.mock_model import MockModelServer, mock_model  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    paths = [str(ROOT), str(ROOT / "plugins" / "openai"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def test_plugin_registers_both_wire_apis() -> None:
    pm = make_plugin_manager(autoload=False, builtins=False, extra=[("openai", codex_openai)])
    wires = collect_registry(pm, "codex_wire_apis", "wire API")
    assert sorted(wires.names()) == ["chat", "responses"]
    for name, api in wires.items():
        assert isinstance(api, WireApi)
        assert api.name == name


def test_registered_wire_apis_load_their_module_on_first_use() -> None:
    pm = make_plugin_manager(autoload=False, builtins=False, extra=[("openai", codex_openai)])
    wires = collect_registry(pm, "codex_wire_apis", "wire API")
    chat = wires.get("chat")
    assert isinstance(chat, LazyWireApi)
    resolved = chat.resolve()
    from codex_openai.chat import ChatCompletionsApi

    assert isinstance(resolved, ChatCompletionsApi) and chat.resolve() is resolved


def test_a_wire_api_that_cannot_load_says_which_and_why() -> None:
    broken = LazyWireApi("mine", "codex_openai.nowhere:Api")
    with pytest.raises(ProviderError, match=r"wire API 'mine': cannot load 'codex_openai.nowhere:Api'"):
        broken.resolve()


def test_builtin_openai_provider() -> None:
    pm = make_plugin_manager(autoload=False, builtins=False, extra=[("openai", codex_openai)])
    providers = collect_registry(pm, "codex_model_providers", "provider")
    openai = ModelProviderInfo(id="openai", **providers.get("openai"))
    assert openai.base_url == "https://api.openai.com/v1"
    assert openai.wire_api == "responses"
    assert openai.env_key == "OPENAI_API_KEY"


def test_missing_openai_key_tells_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    openai = ModelProviderInfo(id="openai", **codex_openai.codex_model_providers()["openai"])
    with pytest.raises(ProviderError) as info:
        openai.api_key()
    assert "OPENAI_API_KEY" in str(info.value)
    assert "https://platform.openai.com/api-keys" in str(info.value)


def test_importing_the_plugin_does_not_import_httpx() -> None:
    code = "import sys, codex_openai; codex_openai.codex_wire_apis(); print('httpx2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "False"


def test_another_process_can_use_the_mock_server(mock_model: MockModelServer) -> None:
    mock_model.chat_text("hello from the other side")
    script = textwrap.dedent(f"""
        import asyncio
        from codex.config.model import ModelProviderInfo
        from codex.protocol import Message, OutputTextDelta, Prompt
        from codex.wire import stream_with_retries
        from codex_openai import codex_wire_apis

        async def main():
            provider = ModelProviderInfo(id="mock", base_url={mock_model.base_url!r}, wire_api="chat")
            prompt = Prompt(model="m", instructions="", input=[Message("user", "hi")])
            async for event in stream_with_retries(codex_wire_apis()["chat"], prompt, provider):
                if isinstance(event, OutputTextDelta):
                    print(event.delta, end="")

        asyncio.run(main())
    """)
    result = subprocess.run([sys.executable, "-c", script], env=child_env(), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from the other side"
    assert mock_model.requests[0].json["messages"] == [{"role": "user", "content": "hi"}]


def test_provider_toml_points_at_the_server(mock_model: MockModelServer) -> None:
    import tomllib

    table = tomllib.loads(mock_model.provider_toml("local", wire_api="chat", stream_max_retries=0))
    entry = ModelProviderInfo(id="local", **table["model_providers"]["local"])
    assert entry.base_url == mock_model.base_url
    assert entry.wire_api == "chat" and entry.stream_max_retries == 0
