"""The local providers this plugin prepares: their ids, default addresses, and how to tell them.

Both the plugin's hooks and the start-up flow read these, so they live here rather than in
the package, which imports the flow lazily.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.plugin import ModelProviderInfo

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
