"""Resolving a config into the implementations a session uses, through the plugin registries."""

from __future__ import annotations

import sys
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from codex.errors import SandboxError
from codex.plugins import CodexPluginManager, collect_registry
from codex.records import record
from codex.sandbox import SandboxBackend, SandboxMode, SandboxPolicy

if TYPE_CHECKING:
    from codex.approval.policy import ApprovalPolicy
    from codex.config.loader import LoadedConfig
    from codex.config.model import ModelProviderInfo
    from codex.tools.base import Tool
    from codex.wire import WireApi


@record
class SessionServices:
    """Everything pluggable a session needs, already chosen."""

    provider: ModelProviderInfo
    wire: WireApi
    tools: list[Tool]
    approval_policy: ApprovalPolicy
    sandbox_policy: SandboxPolicy
    sandbox_backend: SandboxBackend | None
    sandbox_backend_name: str
    # Every registered policy, so a face can switch policies mid-session (`/approvals`).
    approval_policies: dict[str, ApprovalPolicy] = field(default_factory=dict)


def sandbox_policy_for(loaded: LoadedConfig) -> SandboxPolicy:
    """The session's SandboxPolicy from ``sandbox_mode`` and ``[sandbox_workspace_write]``."""
    config = loaded.config
    ww = config.sandbox_workspace_write
    mode = SandboxMode(config.sandbox_mode)
    state_dirs = codex_state_dirs(loaded.codex_home) if mode is SandboxMode.WORKSPACE_WRITE else []
    return SandboxPolicy.build(
        mode,
        loaded.cwd,
        ww.writable_roots,
        ww.network_access,
        ww.exclude_tmpdir_env_var,
        ww.exclude_slash_tmp,
        ww.allow_git_writes,
        state_dirs,
    )


def codex_state_dirs(home: Path) -> list[Path]:
    """CODEX_HOME and the cache directory, created (0700) if missing so a sandbox can cover them.

    A read-only mount needs an existing directory; one that did not exist could otherwise be
    created by a sandboxed command, with planted configuration in it, before codex makes it.
    """
    from codex.memo import cache_dir

    dirs = [home, Path(cache_dir())]
    for directory in dirs:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            pass  # e.g. a read-only home: then no command can create it either
    return dirs


def select_sandbox(pm: CodexPluginManager, name: str, policy: SandboxPolicy) -> SandboxBackend | None:
    """The backend that enforces ``policy``, or None when nothing needs enforcing or nothing can.

    A named backend that is unavailable is an error with its reason. ``auto`` picks the available
    backend with the highest priority; when none is available it returns None and the approval
    policy decides (ask, or reject under ``never``): never a silent unconfined run.
    """
    registry = collect_registry(pm, "codex_sandboxes", "sandbox backend")
    if name != "auto":
        backend: SandboxBackend = registry.get(name)
        status = backend.availability()
        if not status.available:
            raise SandboxError(
                f"sandbox_backend {name!r} is not available here: {status.reason}. "
                "Use sandbox_backend = \"auto\", or -s danger-full-access to run without a sandbox."
            )
        return backend
    if not policy.is_restrictive:
        return None
    candidates = [b for _, b in registry.items() if b.priority > 0]
    for backend in sorted(candidates, key=lambda b: -b.priority):
        if backend.availability().available:
            return backend
    return None


def no_sandbox_explanation(pm: CodexPluginManager) -> str:
    """Why no backend could be chosen, for the person: what is missing and the opt-out."""
    registry = collect_registry(pm, "codex_sandboxes", "sandbox backend")
    reasons = [f"{name}: {b.availability().reason}" for name, b in registry.items() if b.priority > 0]
    found = "; ".join(reasons) or "no sandbox plugin is installed"
    return (
        f"no sandbox backend is available on {sys.platform} ({found}). Commands will be refused or "
        "need approval. Fix the backend, or run with -s danger-full-access to opt out explicitly."
    )


def resolve_services(pm: CodexPluginManager, loaded: LoadedConfig) -> SessionServices:
    """Pick provider, wire API, tools, approval policy and sandbox backend for this config."""

    config = loaded.config
    provider = config.provider()
    wire = collect_registry(pm, "codex_wire_apis", "wire API").get(provider.wire_api)
    policies = collect_registry(pm, "codex_approval_policies", "approval policy")
    policy = policies.get(config.approval_policy)
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    for plugin, offered in pm.call_each("codex_tools", config=config):
        for tool in offered:
            if tool.name in seen:
                from codex.errors import PluginError

                raise PluginError(f"tool {tool.name!r} is registered by both {seen[tool.name]!r} and {plugin!r}")
            seen[tool.name] = plugin
            tools.append(tool)
    sandbox_policy = sandbox_policy_for(loaded)
    backend = select_sandbox(pm, config.sandbox_backend, sandbox_policy)
    if backend is not None:
        backend_name = backend.name
    elif sandbox_policy.is_restrictive:
        backend_name = "unavailable"
    else:
        backend_name = "none"
    return SessionServices(
        provider, wire, tools, policy, sandbox_policy, backend, backend_name, dict(policies.items())
    )
