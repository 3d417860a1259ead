"""Keys of the Rust CLI's config.toml that codex-py accepts without using, and why.

One config.toml serves both programs (the Rust CLI writes some of these itself, such as
``[projects]`` and ``[tui]``), so these keys are not "unknown": they load silently, whatever their
value, and ``codex config show`` lists the ones present in a section of their own, each with the
reason it does nothing here. Keys the two programs share are declared in ``codex.config.model``.

The list follows the Rust CLI's documented config (its config reference and config schema,
0.169). A path with ``*`` matches any entry name of a map table (``mcp_servers.*.enabled``).
"""

from __future__ import annotations

_SUBAGENTS = "codex-py runs one agent per session; there are no sub-agent threads"
_CHATGPT = "codex-py signs in with API keys only; there is no ChatGPT account sign-in"
_REALTIME = "there is no realtime voice conversation in codex-py"
_APPS = "ChatGPT apps and connectors are not available in codex-py"
_SERVER = "the Rust CLI's app-server and desktop app settings; codex-py has no app server"
_WEBSOCKET = "requests are HTTP streams (SSE); there is no websocket transport"
_OTEL = "codex-py exports no telemetry; use a codex_event observer plugin to record events"
_INSTRUCTIONS = "codex-py builds its prompt from base_instructions, instructions and AGENTS.md only"

PEER_ONLY: dict[str, str] = {
    # top level
    "agents": _SUBAGENTS,
    "allow_login_shell": "the shell tool runs exactly the argv the model sends; there is no login-shell switch",
    "approvals_reviewer": "approval questions always go to the person (or the MCP client); there is no reviewer agent",
    "apps": _APPS,
    "apps_mcp_product_sku": _APPS,
    "audio": _REALTIME,
    "auto_review": "approval questions always go to the person; there is no automatic reviewer",
    "background_terminal_max_timeout": "commands run in the foreground; there are no background terminals",
    "chatgpt_base_url": _CHATGPT,
    "check_for_update_on_startup": "codex-py never checks for updates; upgrade it with pip",
    "cli_auth_credentials_store": _CHATGPT,
    "compact_prompt": "/compact uses codex-py's own summary prompt",
    "debug": "use --debug or CODEX_DEBUG=1 for tracebacks",
    "default_permissions": "permissions profiles are not supported; use sandbox_mode and [sandbox_workspace_write]",
    "desktop": _SERVER,
    "developer_instructions": _INSTRUCTIONS,
    "disable_paste_burst": "the terminal UI reads pastes as bracketed paste; there is no burst detection",
    "experimental_compact_prompt_file": "/compact uses codex-py's own summary prompt",
    "experimental_realtime_start_instructions": _REALTIME,
    "experimental_realtime_ws_backend_prompt": _REALTIME,
    "experimental_realtime_ws_base_url": _REALTIME,
    "experimental_realtime_ws_model": _REALTIME,
    "experimental_realtime_ws_startup_context": _REALTIME,
    "experimental_thread_config_endpoint": _SERVER,
    "experimental_thread_store": "sessions are always JSONL files under CODEX_HOME/sessions",
    "experimental_use_unified_exec_tool": "the shell tool is the one command tool; tools come from plugins",
    "features": "the Rust CLI's feature flags; codex-py's features are plugins (see `codex plugins`)",
    "feedback": "codex-py sends no feedback or usage reports",
    "forced_chatgpt_workspace_id": _CHATGPT,
    "forced_login_method": _CHATGPT,
    "ghost_snapshot": "codex-py takes no git snapshots of the workspace",
    "hooks": "lifecycle hooks are plugins here (codex_event observers, the tool gate); see docs/plugins.md",
    "include_apps_instructions": _INSTRUCTIONS,
    "include_collaboration_mode_instructions": _INSTRUCTIONS,
    "include_environment_context": "the environment context is always sent; the model needs the sandbox and cwd",
    "include_permissions_instructions": _INSTRUCTIONS,
    "log_dir": "codex-py writes no log files; use --debug",
    "marketplaces": "plugins are Python distributions installed with pip, not marketplace entries",
    "mcp_oauth_callback_port": "MCP servers authenticate with bearer_token_env_var or http_headers; no OAuth login",
    "mcp_oauth_callback_url": "MCP servers authenticate with bearer_token_env_var or http_headers; no OAuth login",
    "mcp_oauth_credentials_store": "MCP servers authenticate with bearer_token_env_var or http_headers; no OAuth login",
    "memories": "codex-py keeps no memories between sessions; put lasting guidance in AGENTS.md",
    "model_auto_compact_token_limit_scope": "auto-compaction counts the whole context",
    "model_catalog_json": "models are whatever the provider serves; there is no model catalog",
    "model_instructions_file": "set base_instructions (the text) instead",
    "model_supports_reasoning_summaries": "reasoning summaries are asked for whenever the model reasons",
    "notice": "the Rust CLI's record of notices it has shown",
    "otel": _OTEL,
    "permissions": "permissions profiles are not supported; use sandbox_mode and [sandbox_workspace_write]",
    "personality": "the model's style comes from the prompt and AGENTS.md",
    "plan_mode_reasoning_effort": "there is no plan mode; set model_reasoning_effort",
    "project_root_markers": "the project root is the nearest directory with .git",
    "realtime": _REALTIME,
    "service_tier": "requests use the provider's default service tier",
    "skills": "skills are not supported; tools come from plugins and MCP servers",
    "sqlite_home": "codex-py keeps no SQLite state; sessions are JSONL files",
    "suppress_unstable_features_warning": "there are no unstable feature flags to warn about",
    "tool_suggest": "tools come from plugins and MCP servers; nothing is suggested for installation",
    "tools.web_search": "codex-py has no web search tool; a plugin can add one",
    "tui": "the Rust CLI's terminal UI settings (keymaps, notifications, theme); codex-py's UI has its own",
    "web_search": "there is no web search tool in codex-py",
    "windows": "Windows sandbox settings; codex-py's sandboxes are Landlock (Linux) and Seatbelt (macOS)",
    # inside tables codex-py declares
    "shell_environment_policy.experimental_use_profile": "commands never run through a login profile",
    "mcp_servers.*.enabled_tools": "every tool of a server is offered; the tool gate can refuse calls",
    "mcp_servers.*.disabled_tools": "every tool of a server is offered; the tool gate can refuse calls",
    "mcp_servers.*.default_tools_approval_mode": "MCP tool calls are approved by the approval policy",
    "mcp_servers.*.tools": "MCP tool calls are approved by the approval policy",
    "mcp_servers.*.env_vars": "list the variables in env instead",
    "mcp_servers.*.environment_id": _SERVER,
    "mcp_servers.*.name": "the table's name is the server's name",
    "mcp_servers.*.oauth": "MCP servers authenticate with bearer_token_env_var or http_headers; no OAuth login",
    "mcp_servers.*.oauth_resource": "MCP servers authenticate with bearer_token_env_var or http_headers",
    "mcp_servers.*.scopes": "MCP servers authenticate with bearer_token_env_var or http_headers; no OAuth login",
    "mcp_servers.*.required": "a server that fails to start is reported and the session goes on",
    "mcp_servers.*.startup_timeout_ms": "set startup_timeout_sec",
    "mcp_servers.*.supports_parallel_tool_calls": "tool calls of one turn run one after another",
    "mcp_servers.*.env_http_headers": "set http_headers (or bearer_token_env_var)",
    "model_providers.*.experimental_bearer_token": "put the key in the variable named by env_key",
    "model_providers.*.auth": "put the key in the variable named by env_key",
    "model_providers.*.supports_websockets": _WEBSOCKET,
    "model_providers.*.websocket_connect_timeout_ms": _WEBSOCKET,
}


def peer_only_reason(path: tuple[str | int, ...]) -> str | None:
    """Why the Rust CLI's key at ``path`` does nothing here, or None when it is not one of them.

    A key inside a profile (``profiles.NAME.KEY``) is looked up as the top-level ``KEY``.
    """
    if len(path) >= 3 and path[0] == "profiles":
        path = path[2:]
    if len(path) == 2 and path[0] == "plugins" and "@" in str(path[1]):
        # The Rust CLI keys its plugins NAME@MARKETPLACE; a Python plugin's name has no "@".
        return "a plugin of the Rust CLI's marketplaces; codex-py plugins are Python distributions"
    for pattern, reason in PEER_ONLY.items():
        parts = pattern.split(".")
        if len(parts) == len(path) and all(p in ("*", str(k)) for p, k in zip(parts, path, strict=True)):
            return reason
    return None


def split_peer_only(data: dict[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """``data`` without the Rust CLI's unused keys, and those keys (dotted paths) with their reasons."""
    from codex.config.overrides import format_key_path

    found: dict[str, str] = {}

    def walk(node: dict[str, object], path: tuple[str, ...]) -> dict[str, object]:
        kept: dict[str, object] = {}
        for key, value in node.items():
            here = (*path, key)
            reason = peer_only_reason(here)
            if reason is not None:
                found[format_key_path(here)] = reason
            elif isinstance(value, dict):
                kept[key] = walk(value, here)
            else:
                kept[key] = value
        return kept

    return walk(data, ()), found
