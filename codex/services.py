"""Resolving a config into the implementations a session uses, through the plugin registries."""

from __future__ import annotations

import functools
import inspect
import sys
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from codex.errors import CodexError, PluginError, SandboxError
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
    # Which plugin offered each tool, and the wire API: error messages name them.
    tool_owners: dict[str, str] = field(default_factory=dict)
    wire_owner: str = ""
    # Plugins that failed while the session was put together, said to the person at its start.
    notices: list[str] = field(default_factory=list)
    # Asked about every tool call and told every event (codex_before_tool_call, codex_event).
    plugin_manager: CodexPluginManager | None = field(default=None, repr=False)


_T = TypeVar("_T")


class _Guarded:
    """A plugin's object whose every method call turns a stray exception into a PluginError.

    The error names the object, its plugin and the method, so a broken sandbox backend or
    approval policy ends as one clear message (a failed tool call) instead of a traceback deep
    inside a tool. ``CodexError``s pass unchanged: they already speak to people.
    """

    def __init__(self, target: object, label: str) -> None:
        self._target = target
        self._label = label

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name.startswith("_") or not callable(value):
            return value
        label = self._label

        def fault(exc: Exception) -> PluginError:
            return PluginError(f"{label} failed in {name}: {type(exc).__name__}: {exc}")

        if inspect.iscoroutinefunction(value):

            @functools.wraps(value)
            async def call_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await value(*args, **kwargs)
                except CodexError:
                    raise
                except Exception as exc:
                    raise fault(exc) from exc

            return call_async

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except CodexError:
                raise
            except Exception as exc:
                raise fault(exc) from exc

        return call

    def __repr__(self) -> str:
        return f"<{self._label}>"


def guarded(target: _T, label: str) -> _T:
    """``target`` behind a guard (see ``_Guarded``), typed as itself for its callers."""
    return cast(_T, _Guarded(target, label))


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
    created by a sandboxed command, with planted files in it, before codex makes it. Under
    ``CODEX_CACHE=0`` codex writes nothing to the cache, not even the directory: then it is
    protected only if it already exists (its memos hold verdicts keyed by content, never values).
    """
    from codex.memo import cache_dir, caching_enabled
    from codex.private import make_private_dirs

    cache = Path(cache_dir())
    for directory in (home, cache) if caching_enabled() else (home,):
        try:
            make_private_dirs(directory)
        except OSError:
            pass  # e.g. a read-only home: then no command can create it either
    return [home, cache]


def select_sandbox(pm: CodexPluginManager, name: str, policy: SandboxPolicy) -> SandboxBackend | None:
    """The backend that enforces ``policy``, or None when nothing needs enforcing or nothing can.

    A named backend that is unavailable is an error with its reason. ``auto`` picks the available
    backend with the highest priority; when none is available it returns None and the approval
    policy decides (ask, or reject under ``never``): never a silent unconfined run.
    """
    registry = collect_registry(pm, "codex_sandboxes", "sandbox backend")
    if name != "auto":
        backend: SandboxBackend = guarded(registry.get(name), _label("sandbox backend", name, registry.plugin_of(name)))
        status = backend.availability()
        if not status.available:
            raise SandboxError(
                f"sandbox_backend {name!r} is not available here: {status.reason}. "
                "Use sandbox_backend = \"auto\", or -s danger-full-access to run without a sandbox."
            )
        return backend
    if not policy.is_restrictive:
        return None
    candidates = [
        guarded(b, _label("sandbox backend", n, registry.plugin_of(n))) for n, b in registry.items() if b.priority > 0
    ]
    for backend in sorted(candidates, key=lambda b: -b.priority):
        try:
            available = backend.availability().available
        except PluginError:
            continue  # a backend that cannot even answer is not available
        if available:
            return backend
    return None


def _label(kind: str, name: str, plugin: str) -> str:
    return f"{kind} {name!r} (plugin {plugin!r})"


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
    wires = collect_registry(pm, "codex_wire_apis", "wire API")
    wire = wires.get(provider.wire_api)
    registered = collect_registry(pm, "codex_approval_policies", "approval policy")
    policies = {
        name: guarded(item, _label("approval policy", name, registered.plugin_of(name)))
        for name, item in registered.items()
    }
    registered.get(config.approval_policy)  # an unknown name: the error lists the known ones
    policy = policies[config.approval_policy]
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    for plugin, offered in pm.call_each("codex_tools", config=config):
        for tool in offered:
            if tool.name in seen:
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
    notices = [
        f"{sentence}; going on without it (fix it, or disable it with CODEX_DISABLE_PLUGINS={plugin})"
        for hook in ("codex_tools", "codex_approval_policies", "codex_sandboxes", "codex_wire_apis")
        for plugin, sentence in pm.hook_failures(hook)
    ]
    return SessionServices(
        provider,
        wire,
        tools,
        policy,
        sandbox_policy,
        backend,
        backend_name,
        policies,
        tool_owners=seen,
        wire_owner=wires.plugin_of(provider.wire_api),
        notices=notices,
        plugin_manager=pm,
    )
