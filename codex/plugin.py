"""The public plugin API of codex: everything a plugin needs, in one module.

A plugin imports from ``codex.plugin`` and from nothing else in codex (``codex.testing``, the
conformance kit, is the one other public module, for a plugin's own tests). Every other module
of codex is internal and may change in any release; the names here change only with
``API_VERSION``. The guide is docs/plugins.md.

A plugin module declares the version of this API it was written for and marks its hook
implementations with ``hookimpl``::

    from codex.plugin import hookimpl

    CODEX_PLUGIN_API = "1.1"

    @hookimpl
    def codex_model_providers():
        return {"acme": {"name": "Acme", "base_url": "https://api.acme.test/v1",
                         "env_key": "ACME_API_KEY", "wire_api": "chat"}}

**Versions.** ``API_VERSION`` is ``"MAJOR.MINOR"``. A minor release only adds names and
optional hook arguments; a major release may remove or change them. 1.1 added tools declared
as JSON Schema (their handlers receive a dict), ``ToolContext.run_command`` with
``CommandResult``/``CommandRefused``, and the generic ``ToolCallBegin``/``ToolCallEnd`` events.
codex accepts a plugin that declares the same major version and a minor version no newer than
its own (a plugin for "1.0" loads in a codex that speaks "1.3"; one for "1.4" or "2.0" does not). A plugin declaring a
version codex does not support is not registered: ``codex plugins`` lists it as BROKEN with a
message naming both versions, and every command keeps working without it. A plugin that
declares nothing still loads (as written for "1.0") and ``codex plugins`` notes it.

**Cheap to import.** ``import codex.plugin`` costs pluggy and nothing more: every other name is
imported from its home module on first access (PEP 562 ``__getattr__``), so a plugin's
``__init__`` that only uses ``hookimpl`` keeps ``codex --version`` fast. Import heavier names
inside the hook implementation that needs them, as the examples in docs/plugins.md do.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from codex.hookspecs import hookimpl

# The version of this module's contract, and the name a plugin module declares it under.
API_VERSION = "1.1"
API_DECLARATION = "CODEX_PLUGIN_API"

# Public name -> the internal module it lives in (imported on first access).
_HOMES: dict[str, str] = {
    # errors
    "CodexError": "codex.errors",
    "ConfigError": "codex.errors",
    "PluginError": "codex.errors",
    "ProviderError": "codex.errors",
    "SandboxError": "codex.errors",
    # configuration a hook receives
    "Config": "codex.config.model",
    "ModelProviderInfo": "codex.config.model",
    # tools
    "CommandRefused": "codex.tools.base",
    "CommandResult": "codex.tools.base",
    "Tool": "codex.tools.base",
    "ToolContext": "codex.tools.base",
    "ToolResult": "codex.tools.base",
    "TurnAborted": "codex.tools.base",
    # the conversation and a wire's stream events (docs/wire-contract.md)
    "Completed": "codex.protocol",
    "Created": "codex.protocol",
    "CustomToolCall": "codex.protocol",
    "CustomToolCallOutput": "codex.protocol",
    "FunctionCall": "codex.protocol",
    "FunctionCallOutput": "codex.protocol",
    "ImageInput": "codex.protocol",
    "InputItem": "codex.protocol",
    "Message": "codex.protocol",
    "OutputItemDone": "codex.protocol",
    "OutputTextDelta": "codex.protocol",
    "Prompt": "codex.protocol",
    "Reasoning": "codex.protocol",
    "ReasoningContentDelta": "codex.protocol",
    "ReasoningSummaryDelta": "codex.protocol",
    "ResponseEvent": "codex.protocol",
    "TokenUsage": "codex.protocol",
    "ToolSpec": "codex.protocol",
    # wire APIs
    "ContextWindowExceeded": "codex.wire",
    "LazyWireApi": "codex.wire",
    "RetryableError": "codex.wire",
    "WireApi": "codex.wire",
    # HTTP helpers for a wire (they import httpx2 when called, not when imported)
    "ClientCache": "codex.http",
    "endpoint_url": "codex.http",
    "error_for_event": "codex.http",
    "error_for_status": "codex.http",
    "finish_sse": "codex.http",
    "is_loopback": "codex.http",
    "post_sse": "codex.http",
    "post_stream": "codex.http",
    "provider_label": "codex.http",
    "request_headers": "codex.http",
    "server_error_details": "codex.http",
    "SSEDecoder": "codex.http",
    # small helpers
    "new_call_id": "codex.ids",
    "cache_dir": "codex.memo",
    "caching_enabled": "codex.memo",
    "prepare_cache_dir": "codex.memo",
    "read_private_file": "codex.private",
    "write_private_file": "codex.private",
    # sandbox backends
    "Availability": "codex.sandbox",
    "ConfinedSpawner": "codex.sandbox",
    "SANDBOX_SETUP_FAILED": "codex.sandbox",
    "SandboxBackend": "codex.sandbox",
    "SandboxedCommand": "codex.sandbox",
    "SandboxSetupError": "codex.sandbox",
    "SETUP_FAILURE_PREFIX": "codex.sandbox",
    "SandboxMode": "codex.sandbox",
    "SandboxPolicy": "codex.sandbox",
    "sandbox_env": "codex.sandbox",
    # approval policies
    "Action": "codex.approval.policy",
    "ApprovalPolicy": "codex.approval.policy",
    "CommandFacts": "codex.approval.policy",
    "Decision": "codex.approval.policy",
    "PatchFacts": "codex.approval.policy",
    # the tool-call gate and the event observer
    "Allow": "codex.hook_types",
    "Ask": "codex.hook_types",
    "Deny": "codex.hook_types",
    "HookContext": "codex.hook_types",
    "Rewrite": "codex.hook_types",
    "ToolCall": "codex.hook_types",
    "ToolDecision": "codex.hook_types",
    "Event": "codex.events",
    "EventMsg": "codex.events",
    # provider start-up
    "Progress": "codex.ui",
    "ProviderUI": "codex.ui",
    "format_bytes": "codex.ui",
}

# Whole modules offered as namespaces: ``events`` holds every event kind an observer may see
# (``isinstance(event.msg, events.TaskComplete)``).
_MODULES: dict[str, str] = {"events": "codex.events"}

__all__ = [
    "API_DECLARATION",
    "API_VERSION",
    "SANDBOX_SETUP_FAILED",
    "SETUP_FAILURE_PREFIX",
    "Action",
    "Allow",
    "ApprovalPolicy",
    "Ask",
    "Availability",
    "ClientCache",
    "CodexError",
    "CommandFacts",
    "CommandRefused",
    "CommandResult",
    "Completed",
    "Config",
    "ConfigError",
    "ConfinedSpawner",
    "ContextWindowExceeded",
    "Created",
    "CustomToolCall",
    "CustomToolCallOutput",
    "Decision",
    "Deny",
    "Event",
    "EventMsg",
    "FunctionCall",
    "FunctionCallOutput",
    "HookContext",
    "ImageInput",
    "InputItem",
    "LazyWireApi",
    "Message",
    "ModelProviderInfo",
    "OutputItemDone",
    "OutputTextDelta",
    "PatchFacts",
    "PluginError",
    "Progress",
    "Prompt",
    "ProviderError",
    "ProviderUI",
    "Reasoning",
    "ReasoningContentDelta",
    "ReasoningSummaryDelta",
    "ResponseEvent",
    "RetryableError",
    "Rewrite",
    "SSEDecoder",
    "SandboxBackend",
    "SandboxError",
    "SandboxMode",
    "SandboxPolicy",
    "SandboxSetupError",
    "SandboxedCommand",
    "TokenUsage",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolDecision",
    "ToolResult",
    "ToolSpec",
    "TurnAborted",
    "WireApi",
    "cache_dir",
    "caching_enabled",
    "endpoint_url",
    "error_for_event",
    "error_for_status",
    "events",
    "finish_sse",
    "format_bytes",
    "hookimpl",
    "is_loopback",
    "new_call_id",
    "post_sse",
    "post_stream",
    "prepare_cache_dir",
    "provider_label",
    "read_private_file",
    "request_headers",
    "sandbox_env",
    "server_error_details",
    "write_private_file",
]

if TYPE_CHECKING:  # the real types, for mypy and IDEs; at run time __getattr__ supplies them
    from codex import events
    from codex.approval.policy import Action, ApprovalPolicy, CommandFacts, Decision, PatchFacts
    from codex.config.model import Config, ModelProviderInfo
    from codex.errors import CodexError, ConfigError, PluginError, ProviderError, SandboxError
    from codex.events import Event, EventMsg
    from codex.hook_types import Allow, Ask, Deny, HookContext, Rewrite, ToolCall, ToolDecision
    from codex.http import (
        ClientCache,
        SSEDecoder,
        endpoint_url,
        error_for_event,
        error_for_status,
        finish_sse,
        is_loopback,
        post_sse,
        post_stream,
        provider_label,
        request_headers,
        server_error_details,
    )
    from codex.ids import new_call_id
    from codex.memo import cache_dir, caching_enabled, prepare_cache_dir
    from codex.private import read_private_file, write_private_file
    from codex.protocol import (
        Completed,
        Created,
        CustomToolCall,
        CustomToolCallOutput,
        FunctionCall,
        FunctionCallOutput,
        ImageInput,
        InputItem,
        Message,
        OutputItemDone,
        OutputTextDelta,
        Prompt,
        Reasoning,
        ReasoningContentDelta,
        ReasoningSummaryDelta,
        ResponseEvent,
        TokenUsage,
        ToolSpec,
    )
    from codex.sandbox import (
        SANDBOX_SETUP_FAILED,
        SETUP_FAILURE_PREFIX,
        Availability,
        ConfinedSpawner,
        SandboxBackend,
        SandboxedCommand,
        SandboxMode,
        SandboxPolicy,
        SandboxSetupError,
        sandbox_env,
    )
    from codex.tools.base import CommandRefused, CommandResult, Tool, ToolContext, ToolResult, TurnAborted
    from codex.ui import Progress, ProviderUI, format_bytes
    from codex.wire import ContextWindowExceeded, LazyWireApi, RetryableError, WireApi


def __getattr__(name: str) -> Any:
    """Import a public name from its home module the first time it is asked for (PEP 562)."""
    if name in _MODULES:
        value: Any = importlib.import_module(_MODULES[name])
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'codex.plugin' has no attribute {name!r}; see docs/plugins.md")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
