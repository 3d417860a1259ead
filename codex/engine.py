"""Opening a session: plugins -> services -> provider startup -> rollout -> Session.

Every face calls ``open_session``; it is the one place where a new or resumed session is put
together, so exec, the MCP server and the terminal behave alike.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from codex.errors import CodexError, PluginError
from codex.protocol import Message
from codex.rollout import RolloutRecorder, read_session
from codex.services import resolve_services
from codex.session import Session

if TYPE_CHECKING:
    from codex.config.loader import LoadedConfig
    from codex.plugins import CodexPluginManager
    from codex.ui import ProviderUI


def prepare_provider(pm: CodexPluginManager, loaded: LoadedConfig, ui: ProviderUI) -> None:
    """Let plugins make the provider ready (launch Ollama, pull a model) before the first turn."""
    provider = loaded.config.provider()
    try:
        pm.hook.codex_provider_startup(provider=provider, config=loaded.config, ui=ui)
    except CodexError:
        raise
    except Exception as exc:
        plugin = pm.plugin_that_raised("codex_provider_startup", exc) or "(unknown)"
        raise PluginError(
            f"plugin {plugin!r} failed in codex_provider_startup: {type(exc).__name__}: {exc}. "
            f"Fix the plugin, or disable it with CODEX_DISABLE_PLUGINS={plugin}"
        ) from exc
    # Fail before a session (and its rollout file) exists when the key is missing.
    loaded.config.provider().api_key()


async def open_session(
    pm: CodexPluginManager,
    loaded: LoadedConfig,
    *,
    resume: Path | None = None,
    record: bool = True,
    unread: frozenset[type] = frozenset(),
) -> Session:
    """A started session, new or resumed from a rollout file; ``unread``: event types the face
    ignores (see ``Session.unread``)."""
    from codex import __version__

    services = resolve_services(pm, loaded)
    mcp = None
    if loaded.config.mcp_servers:  # the MCP SDK is imported only when servers are configured
        from codex.tools.mcp_client import start_mcp_servers

        mcp = await start_mcp_servers(loaded.config, cwd=loaded.cwd, log_dir=loaded.codex_home / "log")
        for tool in mcp.tools:
            # The MCP client bounds each call by its server's own tool_timeout_sec.
            tool.timeout_sec = math.inf
        services.tools.extend(mcp.tools)
    if resume is not None:
        saved = read_session(resume)
        rollout = RolloutRecorder.reopen(resume) if record else None
        session = Session(loaded, services, session_id=saved.session_id, history=saved.items, rollout=rollout)
        if any(isinstance(item, Message) and item.images for item in saved.items):
            from codex.images import reload_images  # the rollout keeps paths and hashes, not bytes

            session.notices.extend(reload_images(session.history))
    else:
        session = Session(loaded, services)
        rollout = None
        if record:
            rollout = RolloutRecorder.create(
                loaded.codex_home,
                session.session_id,
                {
                    "cwd": str(loaded.cwd),
                    "model": loaded.config.model,
                    "model_provider": services.provider.id,
                    "originator": "codex_py",
                    "cli_version": __version__,
                },
            )
        session.rollout = rollout
    session.unread = unread
    session.notices.extend(services.notices)
    if mcp is not None:
        session.closers.append(mcp.aclose)
        session.notices.extend(mcp.startup_messages())
    await session.start()
    return session
