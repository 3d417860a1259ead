"""Finding, loading and querying plugins.

``make_plugin_manager()`` is the one factory (no module-level manager): the CLI makes one per
process, tests make their own with ``autoload=False``. Core built-ins load first through the same
hooks as everyone else; then every entry point in the ``codex`` group, each inside its own error
guard so one broken plugin never takes the program down with it.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Iterable
from dataclasses import field
from typing import Any, Generic, TypeVar

import pluggy

from codex import hookspecs
from codex.errors import PluginError
from codex.records import record
from codex.references import load_reference

ENTRY_POINT_GROUP = "codex"

# The core's own capabilities, registered through the public hooks (as pytest does).
CORE_PLUGINS: tuple[tuple[str, str], ...] = (
    ("core-tools", "codex.tools.plugin"),
    ("core-approval", "codex.approval.plugin"),
    ("core-sandbox", "codex.sandbox_none"),
    ("core-notify", "codex.notify"),
)


@record
class PluginRecord:
    """What ``codex plugins`` shows for one plugin."""

    name: str
    module: str
    distribution: str
    version: str
    builtin: bool
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    provides: dict[str, list[str]] = field(default_factory=dict)

    @property
    def broken(self) -> bool:
        return self.error is not None


_ABSENT = object()
_MARKER = hookspecs.PROJECT + "_impl"  # the attribute pluggy's HookimplMarker sets


class CodexPluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers where each plugin came from and what broke."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        # (plugin, hook, "Type: message") of every hook call that raised, for messages that name them.
        self.failures: list[tuple[str, str, str]] = []

    def register_module(
        self, name: str, module_name: str, *, distribution: str, version: str, builtin: bool
    ) -> None:
        """Import and register one plugin module; a failure is recorded, never raised."""
        record = PluginRecord(name, module_name, distribution, version, builtin)
        self.records[name] = record
        try:
            plugin = load_reference(module_name)
            self.register(plugin, name=name)
        except Exception as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            return
        record.hooks = sorted(
            hook.name for hook in self.get_hookcallers(plugin) or [] if hook.name.startswith("codex_")
        )

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        """pluggy's answer, without its descriptor-safe lookup for what is plainly no hook.

        Registering looks at every name in a plugin module (its imports included) through
        ``inspect.getattr_static``: ~130 lookups per start. A module's plain function without
        our marker, or any value pluggy would not consider (not a function or method), is
        skipped here; everything else still goes through pluggy.
        """
        if isinstance(plugin, types.ModuleType):
            value = plugin.__dict__.get(name, _ABSENT)
            if isinstance(value, types.FunctionType):
                if _MARKER not in value.__dict__:
                    return None
            elif value is not _ABSENT and not isinstance(value, staticmethod | classmethod | types.MethodType):
                return None
        return super().parse_hookimpl_opts(plugin, name)

    def register_object(self, plugin: object, name: str, *, distribution: str = "(test)") -> None:
        """Register an in-memory plugin object (tests, embedding)."""
        self.records[name] = PluginRecord(name, type(plugin).__module__, distribution, "", False)
        self.register(plugin, name=name)
        self.records[name].hooks = sorted(h.name for h in self.get_hookcallers(plugin) or [])

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a hook separately, returning (plugin name, result).

        Knowing which plugin returned what lets registries name both sides of a duplicate, and
        a plugin that raises is marked broken instead of failing the whole call.
        """
        caller = getattr(self.hook, hook_name)
        results: list[tuple[str, Any]] = []
        # pluggy calls the last-registered first; walk in registration order instead.
        for impl in reversed(caller.get_hookimpls()):
            try:
                value = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:
                record = self.records.get(impl.plugin_name)
                if record is not None and record.error is None:
                    record.error = f"{hook_name} raised {type(exc).__name__}: {exc}"
                failure = (impl.plugin_name, hook_name, f"{type(exc).__name__}: {exc}")
                if failure not in self.failures:
                    self.failures.append(failure)
                continue
            if value is not None:
                results.append((impl.plugin_name, value))
        return results

    def hook_failures(self, hook_name: str) -> list[tuple[str, str]]:
        """What went wrong in ``hook_name`` so far: (plugin, a sentence naming plugin and hook)."""
        return [
            (plugin, f"plugin {plugin!r} failed in {hook}: {error}")
            for plugin, hook, error in self.failures
            if hook == hook_name
        ]

    def plugin_that_raised(self, hook_name: str, exc: BaseException) -> str | None:
        """The plugin whose ``hook_name`` implementation ``exc`` came out of, found in its traceback.

        For hooks called through pluggy itself (firstresult, wrappers), where the exception does
        not say whose it is.
        """
        codes = {
            getattr(impl.function, "__code__", None): impl.plugin_name
            for impl in getattr(self.hook, hook_name).get_hookimpls()
        }
        tb = exc.__traceback__
        found: str | None = None
        while tb is not None:  # the innermost implementation frame is the one that raised
            found = codes.get(tb.tb_frame.f_code, found)
            tb = tb.tb_next
        return found


def _name_filter(env: dict[str, str]) -> Callable[[str], bool]:
    only = {n.strip() for n in env.get("CODEX_PLUGINS", "").split(",") if n.strip()}
    disabled = {n.strip() for n in env.get("CODEX_DISABLE_PLUGINS", "").split(",") if n.strip()}

    def wanted(name: str) -> bool:
        if name in disabled:
            return False
        return not only or name in only

    return wanted


def make_plugin_manager(
    *,
    autoload: bool = True,
    builtins: bool = True,
    extra: Iterable[tuple[str, object]] = (),
    env: dict[str, str] | None = None,
) -> CodexPluginManager:
    """Build a plugin manager: core built-ins, then entry points, then ``extra`` objects.

    ``CODEX_PLUGINS=a,b`` loads only those entry-point plugins; ``CODEX_DISABLE_PLUGINS=a``
    skips some (core built-ins are always loaded, like pytest's own plugins).
    """
    from codex import __version__

    pm = CodexPluginManager()
    if builtins:
        for name, module_name in CORE_PLUGINS:
            pm.register_module(name, module_name, distribution="codex-py", version=__version__, builtin=True)
    if autoload:
        wanted = _name_filter(dict(os.environ) if env is None else env)
        for ep, dist_name, dist_version in _entry_points():
            if not wanted(ep.name):
                continue
            if ep.name in pm.records:
                pm.records[f"{ep.name}!{dist_name}"] = PluginRecord(
                    ep.name, ep.value, dist_name, dist_version, False,
                    error=f"plugin name {ep.name!r} is already used by {pm.records[ep.name].distribution}",
                )
                continue
            pm.register_module(ep.name, ep.value, distribution=dist_name, version=dist_version, builtin=False)
    for name, plugin in extra:
        pm.register_object(plugin, name)
    return pm


def _entry_points() -> list[tuple[Any, str, str]]:
    """Entry points of the ``codex`` group: (entry point, distribution name, version).

    Read from the installed distributions on every run (never from a cache a sandboxed command
    could write: an entry point names code to import). importlib.metadata lets the first
    distribution of a name on ``sys.path`` win; an entry point two distributions both declare
    is loaded once.
    """
    from importlib.metadata import entry_points

    found: list[tuple[Any, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if (point.name, point.value) in seen:
            continue
        seen.add((point.name, point.value))
        dist = point.dist
        name = dist.name if dist is not None else ""
        version = dist.version if dist is not None else ""
        found.append((point, name, version))
    return found


T = TypeVar("T")


class Registry(Generic[T]):
    """Names resolved to implementations, with errors that teach.

    Duplicate names are an error naming both plugins; an unknown name lists the known ones.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, tuple[T, str]] = {}
        self.conflicts: list[str] = []
        # Plugins whose registry hook raised: a name they would have offered is reported as theirs.
        self.failures: list[tuple[str, str]] = []

    def add(self, name: str, item: T, plugin: str) -> None:
        if name in self._items:
            other = self._items[name][1]
            self.conflicts.append(f"{self.kind} {name!r} is registered by both {other!r} and {plugin!r}")
            return
        self._items[name] = (item, plugin)

    def get(self, name: str) -> T:
        for conflict in self.conflicts:
            if conflict.split("'")[1] == name:
                raise PluginError(conflict + "; disable one with CODEX_DISABLE_PLUGINS=<name>")
        try:
            return self._items[name][0]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            broken = "".join(
                f"; {sentence} (fix it, or disable it with CODEX_DISABLE_PLUGINS={plugin})"
                for plugin, sentence in self.failures
            )
            raise PluginError(f"unknown {self.kind} {name!r}; known: {known}{broken}") from None

    def plugin_of(self, name: str) -> str:
        return self._items[name][1]

    def names(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        return [(name, item) for name, (item, _) in self._items.items()]

    def __contains__(self, name: object) -> bool:
        return name in self._items


def collect_registry(pm: CodexPluginManager, hook_name: str, kind: str, **kwargs: Any) -> Registry[Any]:
    """Build a registry from a hook returning ``{name: item}`` or a list of items with ``.name``."""
    registry: Registry[Any] = Registry(kind)
    for plugin, value in pm.call_each(hook_name, **kwargs):
        if isinstance(value, dict):
            for name, item in value.items():
                registry.add(name, item, plugin)
        else:
            for item in value:
                registry.add(item.name, item, plugin)
    registry.failures = pm.hook_failures(hook_name)
    return registry


def describe_provides(pm: CodexPluginManager, config: Any = None) -> None:
    """Fill each record's ``provides`` by asking the registry hooks (for ``codex plugins``)."""
    hooks: list[tuple[str, str, dict[str, Any]]] = [
        ("codex_wire_apis", "wire APIs", {}),
        ("codex_model_providers", "providers", {}),
        ("codex_sandboxes", "sandboxes", {}),
        ("codex_approval_policies", "approval policies", {}),
    ]
    if config is not None:
        hooks.append(("codex_tools", "tools", {"config": config}))
    for hook_name, label, kwargs in hooks:
        for plugin, value in pm.call_each(hook_name, **kwargs):
            names = list(value) if isinstance(value, dict) else [item.name for item in value]
            record = pm.records.get(plugin)
            if record is not None and names:
                record.provides.setdefault(label, []).extend(names)
