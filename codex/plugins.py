"""Finding, loading and querying plugins.

``make_plugin_manager()`` is the one factory (no module-level manager): the CLI makes one per
process, tests make their own with ``autoload=False``. Core built-ins load first through the same
hooks as everyone else; then every entry point in the ``codex`` group, each inside its own error
guard so one broken plugin never takes the program down with it.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pluggy

from codex import hookspecs
from codex.errors import PluginError
from codex.references import load_reference

ENTRY_POINT_GROUP = "codex"

# The built-in observer that runs the `notify` program (idle in a session without one).
NOTIFY_PLUGIN = "core-notify"
# The core's own capabilities, registered through the public hooks (as pytest does).
CORE_PLUGINS: tuple[tuple[str, str], ...] = (
    ("core-tools", "codex.tools.plugin"),
    ("core-approval", "codex.approval.plugin"),
    ("core-sandbox", "codex.sandbox_none"),
    (NOTIFY_PLUGIN, "codex.notify"),
)


@dataclass
class PluginRecord:
    """What ``codex plugins`` shows for one plugin."""

    name: str
    module: str
    distribution: str
    version: str
    builtin: bool
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    # The plugin API version the module declares (``CODEX_PLUGIN_API``); "" when it declares none.
    api_version: str = ""
    provides: dict[str, list[str]] = field(default_factory=dict)

    @property
    def broken(self) -> bool:
        return self.error is not None


@dataclass
class HookAnswer:
    """One hook called through pluggy (see ``CodexPluginManager.call_hook``)."""

    hook: str
    # pluggy's result list: one value per implementation that returned one, wrappers applied.
    results: list[Any]
    # (plugin, value) of each plugin called on its own, in pluggy's call order: who offered what.
    contributions: list[tuple[str, Any]]
    # Plugins whose implementation raised, left out of ``results``.
    left_out: list[str]
    # Plugins with a wrapper on this hook, outermost first: the owners of what only wrappers add.
    wrappers: list[str] = field(default_factory=list)


class CodexPluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers where each plugin came from and what broke."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        # (plugin, hook, "Type: message") of every hook call that raised, for messages that name them.
        self.failures: list[tuple[str, str, str]] = []
        # (hook, sentence) of every name two plugins offered, for the session to say at its start.
        self.duplicates: list[tuple[str, str]] = []

    def register_module(
        self, name: str, module_name: str, *, distribution: str, version: str, builtin: bool
    ) -> None:
        """Import and register one plugin module; a failure is recorded, never raised."""
        record = PluginRecord(name, module_name, distribution, version, builtin)
        self.records[name] = record
        try:
            plugin = load_reference(module_name)
            record.api_version, refusal = check_api_version(plugin)
            if refusal:
                record.error = refusal
                return
            self.register(plugin, name=name)
        except Exception as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            return
        record.hooks = sorted(
            hook.name for hook in self.get_hookcallers(plugin) or [] if hook.name.startswith("codex_")
        )

    def register_object(self, plugin: object, name: str, *, distribution: str = "(test)") -> None:
        """Register an in-memory plugin object (tests, embedding); its API version is checked too."""
        record = PluginRecord(name, type(plugin).__module__, distribution, "", False)
        self.records[name] = record
        record.api_version, refusal = check_api_version(plugin)
        if refusal:
            record.error = refusal
            return
        self.register(plugin, name=name)
        self.records[name].hooks = sorted(h.name for h in self.get_hookcallers(plugin) or [])

    def call_hook(self, hook_name: str, *, attribute: bool = True, **kwargs: Any) -> HookAnswer:
        """Call a hook through pluggy, leaving out any plugin whose implementation raises.

        The answer is pluggy's own: wrappers (``wrapper=True`` and old ``hookwrapper=True``),
        ``tryfirst``/``trylast`` and last-registered-first order all apply. When the call
        raises, the plugin it came from (found in the traceback, or by leaving plugins out one
        at a time) is recorded as failed and the hook is called again without it, through
        ``subset_hook_caller``: at most once per plugin.

        With ``attribute``, the answer also says which plugin offered which value. Without
        wrappers that is read from pluggy's list (one value per implementation, in call
        order); when a wrapper could have changed the list, or an implementation returned
        None, each plugin is called once more on its own (through pluggy, its own wrappers
        included) to learn what it offers.
        """
        caller = getattr(self.hook, hook_name)
        plugins = _plugins_in_call_order(caller.get_hookimpls())
        left_out: list[str] = []
        results: list[Any] = []
        for _ in range(len(plugins) + 1):
            subset = self.subset_hook_caller(hook_name, remove_plugins=[plugins[n] for n in left_out])
            try:
                results = _quietly(subset, kwargs)
                break
            except Exception as exc:
                culprit = self.plugin_that_raised(hook_name, exc)
                if culprit is None or culprit in left_out:
                    culprit = self._find_culprit(hook_name, plugins, left_out, kwargs)
                self._record_failure(culprit or "(unknown)", hook_name, exc)
                if culprit is None:
                    results = []
                    break
                left_out.append(culprit)
        called = [impl for impl in reversed(caller.get_hookimpls()) if impl.plugin_name not in left_out]
        plain = [impl for impl in called if not (impl.wrapper or impl.hookwrapper)]
        contributions: list[tuple[str, Any]] = []
        if attribute and len(plain) == len(called) and len(results) == len(plain):
            # No wrapper touched the answer and every implementation gave a value: pluggy's list
            # holds them in the order it called them, so each is known to be its plugin's.
            contributions = [(impl.plugin_name, value) for impl, value in zip(plain, results, strict=True)]
        elif attribute:
            for name in plugins:
                if name in left_out:
                    continue
                others = [p for n, p in plugins.items() if n != name]
                try:
                    value = _quietly(self.subset_hook_caller(hook_name, remove_plugins=others), kwargs)
                except Exception:
                    continue  # it answered together with the others; alone it has nothing to name
                contributions.extend((name, part) for part in value)
        wrappers = [impl.plugin_name for impl in called if impl.wrapper or impl.hookwrapper]
        return HookAnswer(hook_name, results, contributions, left_out, wrappers)

    def _find_culprit(
        self, hook_name: str, plugins: dict[str, object], left_out: list[str], kwargs: dict[str, Any]
    ) -> str | None:
        """The plugin without which the hook no longer raises (for errors pluggy raises itself,
        such as a wrapper that did not yield, whose traceback holds no frame of the plugin)."""
        for name in plugins:
            if name in left_out:
                continue
            without = [plugins[n] for n in (*left_out, name)]
            try:
                _quietly(self.subset_hook_caller(hook_name, remove_plugins=without), kwargs)
            except Exception:
                continue
            return name
        return None

    def _record_failure(self, plugin: str, hook_name: str, exc: Exception) -> None:
        record = self.records.get(plugin)
        if record is not None and record.error is None:
            record.error = f"{hook_name} raised {type(exc).__name__}: {exc}"
        failure = (plugin, hook_name, f"{type(exc).__name__}: {exc}")
        if failure not in self.failures:
            self.failures.append(failure)

    def hook_failures(self, hook_name: str) -> list[tuple[str, str]]:
        """What went wrong in ``hook_name`` so far: (plugin, a sentence naming plugin and hook)."""
        return [
            (plugin, f"plugin {plugin!r} failed in {hook}: {error}")
            for plugin, hook, error in self.failures
            if hook == hook_name
        ]

    def hook_duplicates(self, hook_name: str) -> list[str]:
        """Sentences naming both plugins of every name offered twice through ``hook_name``."""
        return [sentence for hook, sentence in self.duplicates if hook == hook_name]

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


def check_api_version(plugin: object) -> tuple[str, str | None]:
    """The plugin API version ``plugin`` declares, and why it is refused (None: accepted).

    The rule (docs/plugins.md, ``codex.plugin``): the same major version as ours and a minor
    version no newer. A plugin that declares nothing is accepted as written for the first
    version; ``codex plugins`` notes that it should declare one.
    """
    from codex.plugin import API_DECLARATION, API_VERSION

    declared = getattr(plugin, API_DECLARATION, None)
    if declared is None:
        return "", None
    text = str(declared).strip()
    supported = f"this codex supports plugin API {API_VERSION} and older {API_VERSION.split('.')[0]}.x"
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?", text) if isinstance(declared, str | int) else None
    if match is None:
        return text, (
            f"{API_DECLARATION} = {declared!r} is not a version: declare it as \"MAJOR.MINOR\", "
            f"e.g. {API_DECLARATION} = \"{API_VERSION}\" ({supported})"
        )
    ours = [int(part) for part in API_VERSION.split(".")]
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    if major != ours[0] or minor > ours[1]:
        return text, (
            f"written for plugin API {text}, which this codex does not support ({supported}); "
            "install a release of the plugin made for this codex, or upgrade codex"
        )
    return text, None


def _quietly(caller: pluggy.HookCaller, kwargs: dict[str, Any]) -> Any:
    """``caller(**kwargs)`` without pluggy's warning about a raising old-style wrapper: the
    exception itself is what ``call_hook`` reports, naming the plugin, once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pluggy.PluggyTeardownRaisedWarning)
        return caller(**kwargs)


def _plugins_in_call_order(impls: list[pluggy.HookImpl]) -> dict[str, object]:
    """Plugin name -> plugin of a hook's implementations, in the order pluggy asks them for results.

    pluggy calls ``get_hookimpls()`` from its end: ``tryfirst`` before plain before ``trylast``,
    and within each, the plugin registered last first. Plugins with only a wrapper come after.
    """
    order: dict[str, object] = {}
    for impl in reversed(impls):
        if not (impl.wrapper or impl.hookwrapper):
            order.setdefault(impl.plugin_name, impl.plugin)
    for impl in reversed(impls):
        order.setdefault(impl.plugin_name, impl.plugin)
    return order


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

    When two plugins offer one name, the first in pluggy's answer is used (see
    ``collect_registry``) and ``conflicts`` holds a sentence naming both; an unknown name lists
    the known ones.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, tuple[T, str]] = {}
        self.conflicts: list[str] = []
        # Plugins whose registry hook raised: a name they would have offered is reported as theirs.
        self.failures: list[tuple[str, str]] = []

    def add(self, name: str, item: T, plugin: str) -> None:
        """Add ``name``, unless it is already there: then the first stays and the clash is noted."""
        if name in self._items:
            first = self._items[name][1]
            if first == plugin:
                sentence = f"{self.kind} {name!r} is offered twice by plugin {plugin!r}; using the first"
            else:
                sentence = (
                    f"{self.kind} {name!r} is offered by both plugin {first!r} and plugin {plugin!r}; "
                    f"using the one from {first!r} (disable the other with CODEX_DISABLE_PLUGINS={plugin})"
                )
            self.conflicts.append(sentence)
            return
        self._items[name] = (item, plugin)

    def get(self, name: str) -> T:
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


def _named(value: Any) -> list[tuple[str, Any]]:
    """The (name, item) pairs of one registry hook's value: a dict, or a list of items with ``.name``."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list | tuple):
        return [(item.name, item) for item in value if isinstance(getattr(item, "name", None), str)]
    return []


def named_entries(answer: HookAnswer) -> list[tuple[str, Any, str]]:
    """(name, item, plugin) of every entry in pluggy's answer, in its order.

    The plugin is the one that offered the name when called on its own; when several did, the
    n-th entry of that name is the n-th of them in pluggy's call order. A name only a wrapper
    added belongs to the outermost wrapper's plugin.
    """
    offered_by: dict[str, list[str]] = {}
    for plugin, value in answer.contributions:
        for name, _ in _named(value):
            owners = offered_by.setdefault(name, [])
            if plugin not in owners:
                owners.append(plugin)
    fallback = answer.wrappers[0] if answer.wrappers else "(unknown)"
    seen: dict[str, int] = {}
    entries: list[tuple[str, Any, str]] = []
    for value in answer.results:
        for name, item in _named(value):
            index = seen.get(name, 0)
            seen[name] = index + 1
            owners = offered_by.get(name) or [fallback]
            entries.append((name, item, owners[min(index, len(owners) - 1)]))
    return entries


def collect_registry(pm: CodexPluginManager, hook_name: str, kind: str, **kwargs: Any) -> Registry[Any]:
    """Build a registry from a hook returning ``{name: item}`` or a list of items with ``.name``.

    The hook is called through pluggy (wrappers, ``tryfirst``/``trylast``); a name offered twice
    keeps the entry that comes first in pluggy's answer: a ``tryfirst`` implementation's before a
    plain one's before a ``trylast`` one's, and among equals the plugin registered last, so an
    installed plugin's before a built-in's. The clash is recorded on the manager
    (``hook_duplicates``) for the session to say at its start.
    """
    registry: Registry[Any] = Registry(kind)
    for name, item, plugin in named_entries(pm.call_hook(hook_name, **kwargs)):
        registry.add(name, item, plugin)
    registry.failures = pm.hook_failures(hook_name)
    for sentence in registry.conflicts:
        if (hook_name, sentence) not in pm.duplicates:
            pm.duplicates.append((hook_name, sentence))
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
        for plugin, value in pm.call_hook(hook_name, **kwargs).contributions:
            names = [name for name, _ in _named(value)]
            record = pm.records.get(plugin)
            if record is not None and names:
                record.provides.setdefault(label, []).extend(names)
