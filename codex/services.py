"""Resolving a config into the implementations a session uses, through the plugin registries."""

from __future__ import annotations

import functools
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from codex.errors import CodexError, PluginError, SandboxError
from codex.plugins import CodexPluginManager, collect_registry
from codex.sandbox import SandboxBackend, SandboxMode, SandboxPolicy

if TYPE_CHECKING:
    from codex.approval.policy import ApprovalPolicy
    from codex.config.loader import LoadedConfig
    from codex.config.model import ModelProviderInfo
    from codex.tools.base import Tool
    from codex.wire import WireApi


@dataclass
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


_T = TypeVar("_T")


class _Guarded:
    """A plugin's object whose every method call turns a stray exception into a PluginError.

    The error names the object, its plugin and the method, so a broken sandbox backend or
    approval policy ends as one clear message (a failed tool call) instead of a traceback deep
    inside a tool. ``CodexError``s pass unchanged: they already speak to people.
    """

    def __init__(self, target: object, label: str, limit: float | None = None) -> None:
        self._target = target
        self._label = label
        self._limit = limit

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

        limit = self._limit if name in _BOUNDED_METHODS else None

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                if limit is None:
                    return value(*args, **kwargs)
                return _within(limit, value, args, kwargs, f"{label} did not return from {name} within {limit:g} s")
            except CodexError:
                raise
            except Exception as exc:
                raise fault(exc) from exc

        return call

    def __repr__(self) -> str:
        return f"<{self._label}>"


# Decisions a plugin makes synchronously while a turn waits: a call that never returns ends at
# the session's tool_timeout_sec instead of hanging codex.
_BOUNDED_METHODS = frozenset({"decide_command", "decide_patch", "after_sandbox_denial", "prepare"})


def _within(limit: float, function: Any, args: Any, kwargs: Any, late: str) -> Any:
    """``function(*args, **kwargs)`` run in a worker thread, waited for at most ``limit`` seconds.

    A call still running then is abandoned (a daemon thread cannot be stopped) and ``late``
    becomes a PluginError; the session goes on without its answer.
    """
    import threading

    outcome: list[tuple[bool, Any]] = []

    def work() -> None:
        try:
            outcome.append((True, function(*args, **kwargs)))
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome.append((False, exc))

    worker = threading.Thread(target=work, name="codex-plugin-call", daemon=True)
    worker.start()
    worker.join(limit)
    if not outcome:
        raise PluginError(late)
    returned, result = outcome[0]
    if returned:
        return result
    raise result


def guarded(target: _T, label: str, limit: float | None = None) -> _T:
    """``target`` behind a guard (see ``_Guarded``), typed as itself for its callers; with
    ``limit``, its synchronous decisions (``_BOUNDED_METHODS``) end after ``limit`` seconds."""
    return cast(_T, _Guarded(target, label, limit))


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


def select_sandbox(
    pm: CodexPluginManager, name: str, policy: SandboxPolicy, limit: float | None = None
) -> SandboxBackend | None:
    """The backend that enforces ``policy``, or None when nothing needs enforcing or nothing can.

    A named backend that is unavailable is an error with its reason. ``auto`` picks the available
    backend with the highest priority; when none is available it returns None and the approval
    policy decides (ask, or reject under ``never``): never a silent unconfined run.
    """
    registry = collect_registry(pm, "codex_sandboxes", "sandbox backend")
    if name != "auto":
        chosen = registry.get(name)  # an unknown name: the error lists the known ones
        label = _label("sandbox backend", name, registry.plugin_of(name))
        backend: SandboxBackend = guarded(chosen, label, limit)
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
        guarded(b, _label("sandbox backend", n, registry.plugin_of(n)), limit)
        for n, b in registry.items()
        if b.priority > 0
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
        name: guarded(item, _label("approval policy", name, registered.plugin_of(name)), config.tool_timeout_sec)
        for name, item in registered.items()
    }
    registered.get(config.approval_policy)  # an unknown name: the error lists the known ones
    policy = policies[config.approval_policy]
    offered = collect_registry(pm, "codex_tools", "tool", config=config)
    tools: list[Tool] = [tool for _, tool in offered.items()]
    owners = {name: offered.plugin_of(name) for name in offered.names()}
    sandbox_policy = sandbox_policy_for(loaded)
    backend = select_sandbox(pm, config.sandbox_backend, sandbox_policy, config.tool_timeout_sec)
    if backend is not None:
        backend_name = backend.name
    elif sandbox_policy.is_restrictive:
        backend_name = "unavailable"
    else:
        backend_name = "none"
    hooks = ("codex_tools", "codex_approval_policies", "codex_sandboxes", "codex_wire_apis")
    notices = [
        f"{sentence}; going on without it (fix it, or disable it with CODEX_DISABLE_PLUGINS={plugin})"
        for hook in hooks
        for plugin, sentence in pm.hook_failures(hook)
    ]
    # Two plugins offering one name: the session starts with the first (see collect_registry).
    notices.extend(sentence for hook in hooks for sentence in pm.hook_duplicates(hook))
    return SessionServices(
        provider,
        wire,
        tools,
        policy,
        sandbox_policy,
        backend,
        backend_name,
        policies,
        tool_owners=owners,
        wire_owner=wires.plugin_of(provider.wire_api),
        notices=notices,
    )
