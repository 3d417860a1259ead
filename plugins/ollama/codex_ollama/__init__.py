"""The ollama plugin: ``codex --oss`` runs gpt-oss locally through Ollama (or LM Studio).

It registers the ``ollama`` wire API (Ollama's native ``/api/chat``), the ``oss`` and
``lmstudio`` provider entries, and the startup step that finds or launches the server and
pulls the model. Importing this module is cheap: httpx and the flow modules load when a hook
needs them.

The ``oss`` base URL is ``http://localhost:11434/v1``; ``CODEX_OSS_BASE_URL`` (a full URL) or
``CODEX_OSS_PORT`` override it, and a ``[model_providers.oss]`` table in config.toml overrides
any field::

    [model_providers.oss]
    base_url = "http://gpu-box.lan:11434/v1"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from codex.hookspecs import hookimpl

if TYPE_CHECKING:
    from codex.config.model import Config, ModelProviderInfo
    from codex.ui import ProviderUI
    from codex.wire import WireApi

OLLAMA_DEFAULT_BASE_URL = "http://localhost:11434/v1"
LMSTUDIO_DEFAULT_BASE_URL = "http://localhost:1234/v1"


def oss_base_url(env: Mapping[str, str] | None = None) -> str:
    """The ``oss`` provider's base URL: ``CODEX_OSS_BASE_URL``, else ``CODEX_OSS_PORT`` on localhost.

    An unusable ``CODEX_OSS_PORT`` is ignored here (hooks must not fail while registering);
    startup reports it.
    """
    env = os.environ if env is None else env
    url = env.get("CODEX_OSS_BASE_URL", "").strip()
    if url:
        return url
    port = env.get("CODEX_OSS_PORT", "").strip()
    if port.isdigit() and 0 < int(port) < 65536:
        return f"http://localhost:{int(port)}/v1"
    return OLLAMA_DEFAULT_BASE_URL


OLLAMA_ID = "oss"
LMSTUDIO_ID = "lmstudio"


def is_ollama(provider: ModelProviderInfo) -> bool:
    """Whether the provider is served by Ollama (the ``oss`` entry or the ``ollama`` wire API)."""
    return provider.id == OLLAMA_ID or provider.wire_api == "ollama"


def is_local_provider(provider: ModelProviderInfo) -> bool:
    """Whether this plugin prepares ``provider`` (``oss``, ``lmstudio``, or an ``ollama``-wire entry)."""
    return is_ollama(provider) or provider.id == LMSTUDIO_ID


@hookimpl
def codex_wire_apis() -> dict[str, WireApi]:
    """The ``ollama`` wire API: native ``/api/chat`` with a fixed ``num_ctx`` and ``thinking``."""
    from codex.wire import LazyWireApi

    return {"ollama": LazyWireApi("ollama", "codex_ollama.wire:OllamaChatApi")}


@hookimpl
def codex_model_providers() -> dict[str, dict[str, Any]]:
    """``oss`` (Ollama, native wire API) and ``lmstudio`` (LM Studio, Chat Completions)."""
    return {
        "oss": {"name": "Ollama", "base_url": oss_base_url(), "wire_api": "ollama"},
        "lmstudio": {"name": "LM Studio", "base_url": LMSTUDIO_DEFAULT_BASE_URL, "wire_api": "chat"},
    }


@hookimpl
def codex_provider_startup(provider: ModelProviderInfo, config: Config, ui: ProviderUI) -> bool | None:
    """Find or launch Ollama, pull the model with progress, fix the window; LM Studio: check it.

    Returns None for providers that are not local, so other plugins may handle them.
    """
    if not is_local_provider(provider):
        return None
    from codex_ollama.startup import prepare_local_provider

    return prepare_local_provider(provider, config, ui)
