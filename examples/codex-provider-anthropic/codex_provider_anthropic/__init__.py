"""codex-provider-anthropic: drive Claude models through the Anthropic Messages API.

It adds the ``anthropic`` wire API and the ``anthropic`` provider (api.anthropic.com, the key in
``ANTHROPIC_API_KEY``). Importing it costs nothing: the wire module loads when codex asks.
"""

from __future__ import annotations

from typing import Any

from codex.plugin import hookimpl

CODEX_PLUGIN_API = "1.0"

PROVIDER: dict[str, Any] = {
    "name": "Anthropic",
    "base_url": "https://api.anthropic.com/v1",
    "env_key": "ANTHROPIC_API_KEY",
    "env_key_instructions": "Create a key at https://console.anthropic.com/settings/keys and export it.",
    "wire_api": "anthropic",
}


@hookimpl
def codex_wire_apis() -> dict[str, Any]:
    """The ``anthropic`` wire API."""
    from codex_provider_anthropic.wire import AnthropicApi

    return {"anthropic": AnthropicApi()}


@hookimpl
def codex_model_providers() -> dict[str, dict[str, Any]]:
    """The ``anthropic`` provider; select it with ``model_provider = "anthropic"``."""
    return {"anthropic": dict(PROVIDER)}
