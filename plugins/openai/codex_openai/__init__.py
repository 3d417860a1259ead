"""The openai plugin: the ``responses`` and ``chat`` wire APIs and the built-in ``openai`` provider.

Importing this module costs next to nothing: the wire classes (and httpx2, on first use) are
imported when the hooks are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codex.plugin import hookimpl

if TYPE_CHECKING:
    from codex.plugin import WireApi

# The version of the public plugin API (codex.plugin) this plugin is written for.
CODEX_PLUGIN_API = "1.0"

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# The peer's variable for pointing the built-in provider at a proxy or a compatible server.
BASE_URL_VARIABLE = "OPENAI_BASE_URL"

OPENAI_PROVIDER: dict[str, Any] = {
    "name": "OpenAI",
    "base_url": DEFAULT_BASE_URL,
    "env_key": "OPENAI_API_KEY",
    # The key may also come from $CODEX_HOME/auth.json (`codex login --with-api-key`); the core
    # resolves it, the environment variable winning, as for the peer's built-in provider.
    "requires_openai_auth": True,
    "env_key_instructions": (
        "Create a key at https://platform.openai.com/api-keys, then run "
        "`export OPENAI_API_KEY=sk-...` or `codex login --with-api-key` and start codex again."
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
    """The ``openai`` provider: the Responses API at api.openai.com (or ``$OPENAI_BASE_URL``),
    with the key from ``OPENAI_API_KEY`` or ``codex login``.

    A ``[model_providers.openai]`` table in config.toml (or ``-c``) overrides these defaults
    field by field, so its ``base_url`` wins over ``OPENAI_BASE_URL`` (the peer ignores such a
    table for its built-in providers; here the explicit setting is honoured).
    """
    import os

    entry = dict(OPENAI_PROVIDER)
    base_url = os.environ.get(BASE_URL_VARIABLE, "").strip()
    if base_url:
        entry["base_url"] = base_url
    return {"openai": entry}
