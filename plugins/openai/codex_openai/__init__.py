"""The openai plugin: the ``responses`` and ``chat`` wire APIs and the built-in ``openai`` provider.

Importing this module costs next to nothing: the wire classes (and httpx, on first use) are
imported when the hooks are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codex.plugin import hookimpl

if TYPE_CHECKING:
    from codex.plugin import WireApi

# The version of the public plugin API (codex.plugin) this plugin is written for.
CODEX_PLUGIN_API = "1.0"

OPENAI_PROVIDER: dict[str, Any] = {
    "name": "OpenAI",
    "base_url": "https://api.openai.com/v1",
    "env_key": "OPENAI_API_KEY",
    "env_key_instructions": (
        "Create a key at https://platform.openai.com/api-keys, then run "
        "`export OPENAI_API_KEY=sk-...` (or add it to your shell profile) and start codex again."
    ),
    "wire_api": "responses",
}


@hookimpl
def codex_wire_apis() -> dict[str, WireApi]:
    """The Responses API (``responses``) and Chat Completions (``chat``) clients."""
    from codex.plugin import LazyWireApi

    # Lazy: a session streams through one of them; the other module need not load.
    return {
        "responses": LazyWireApi("responses", "codex_openai.responses:ResponsesApi"),
        "chat": LazyWireApi("chat", "codex_openai.chat:ChatCompletionsApi"),
    }


@hookimpl
def codex_model_providers() -> dict[str, dict[str, Any]]:
    """The ``openai`` provider: the Responses API at api.openai.com with ``OPENAI_API_KEY``."""
    return {"openai": dict(OPENAI_PROVIDER)}
