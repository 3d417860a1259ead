"""The ollama plugin: ``codex --oss`` runs gpt-oss locally through Ollama (or LM Studio).

It registers the ``ollama`` wire API (Ollama's native ``/api/chat``), the ``oss`` and
``lmstudio`` provider entries, and the startup step that finds or launches the server and
pulls the model. Importing this module is cheap: httpx2 and the flow modules load when a hook
needs them.

The ``oss`` base URL is ``http://localhost:11434/v1``; ``CODEX_OSS_BASE_URL`` (a full URL) or
``CODEX_OSS_PORT`` override it, and a ``[model_providers.oss]`` table in config.toml overrides
any field::

    [model_providers.oss]
    base_url = "http://gpu-box.lan:11434/v1"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codex.plugin import hookimpl
from codex_ollama.providers import LMSTUDIO_DEFAULT_BASE_URL, is_local_provider, oss_base_url

if TYPE_CHECKING:
    from codex.plugin import Config, ModelProviderInfo, ProviderUI, WireApi

# The version of the public plugin API (codex.plugin) this plugin is written for.
CODEX_PLUGIN_API = "1.0"


@hookimpl
def codex_wire_apis() -> dict[str, WireApi]:
    """The ``ollama`` wire API: native ``/api/chat`` with a fixed ``num_ctx`` and ``thinking``."""
    from codex.plugin import LazyWireApi

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
