"""The effective configuration: defaults < config.toml < profile < ``-c`` < dedicated flags.

A profile is a ``[profiles.NAME]`` table in config.toml, a ``$CODEX_HOME/NAME.config.toml`` file
(the Rust CLI's current form), or both: then the table applies first and the file on top of it,
so the file wins key by key.

Every value remembers where it came from, so ``codex config show`` can annotate it and a wrong
value is reported at its line in config.toml (or as the ``-c`` argument or flag that set it).
config.toml is parsed on every run; pydantic checks the merged data only when that exact data
has not passed before (a verdict kept by ``codex.memo``, never the data itself).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.config.errors import (
    DEFAULT,
    LocPath,
    Source,
    locate_keys,
    nearest,
    syntax_error_message,
    validation_message,
)
from codex.config.overrides import Override, format_key_path, nest, parse_overrides
from codex.errors import ConfigError, UsageError
from codex.home import codex_home as codex_home  # re-exported: its old home

if TYPE_CHECKING:
    from codex.config.model import Config, _Section
    from codex.memo import Memo

CONFIG_FILE = "config.toml"
PROFILE_FILE_SUFFIX = ".config.toml"  # $CODEX_HOME/NAME.config.toml is the profile NAME
OSS_PROVIDER = "oss"
OSS_MODEL = "gpt-oss:20b"

SourceFor = Callable[[LocPath], Source]


@dataclass
class LoadedConfig:
    """The validated configuration plus what the CLI needs to explain it.

    ``origins`` maps each dotted key path (``sandbox_workspace_write.network_access``) to where
    its value came from: ``default``, ``config.toml:LINE``, ``profile NAME``, ``-c``, ``--model``,
    ``plugin NAME``... ``warnings`` are for stderr (unknown keys, by default).
    """

    config: Config
    origins: dict[str, str]
    codex_home: Path
    config_path: Path
    cwd: Path
    warnings: list[str] = field(default_factory=list)


class _Layers:
    """Nested data merged layer by layer, remembering the Source of every leaf."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.sources: dict[LocPath, Source] = {}

    def overlay(self, layer: Mapping[str, Any], source_for: SourceFor) -> None:
        """Merge ``layer`` on top: tables merge key by key, anything else replaces."""
        self._merge(self.data, layer, (), source_for)

    def _merge(
        self, target: dict[str, Any], layer: Mapping[str, Any], path: LocPath, source_for: SourceFor
    ) -> None:
        for key, value in layer.items():
            here = (*path, key)
            if isinstance(value, Mapping):
                if not isinstance(target.get(key), dict):
                    self.forget(here)
                    target[key] = {}
                self._merge(target[key], value, here, source_for)
            else:
                self.forget(here)
                target[key] = copy.deepcopy(value)
                self.sources[here] = source_for(here)

    def forget(self, prefix: LocPath) -> None:
        """Drop the sources of ``prefix`` and everything below it (it is being replaced)."""
        for path in [p for p in self.sources if p[: len(prefix)] == prefix]:
            del self.sources[path]


def _constant(source: Source) -> SourceFor:
    return lambda _path: source


def _read_config_file(config_path: Path) -> tuple[dict[str, Any], SourceFor]:
    """Parse config.toml (a missing file is an empty one) and say where each key is."""
    try:
        raw = config_path.read_bytes()
    except FileNotFoundError:
        return {}, _constant(DEFAULT)
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read the configuration file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{config_path}:{line}: the file is not valid UTF-8 (byte {exc.start}); TOML files must be UTF-8"
        ) from None
    return parse_config_text(text, config_path)


def parse_config_text(text: str, config_path: Path) -> tuple[dict[str, Any], SourceFor]:
    """Parse TOML text as config.toml, raising a ConfigError that points at a syntax error."""
    # Parsed on every run, never read back from a cache: a cache is writable by more than
    # config.toml is (a sandboxed command may reach it), so it must not supply settings.
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(syntax_error_message(config_path, text, exc)) from None
    locations = locate_keys(text)
    name = config_path.name

    def source_for(path: LocPath) -> Source:
        for end in range(len(path), 0, -1):
            found = locations.get(path[:end])
            if found is not None:
                line, col = found
                return Source(f"{name}:{line}", f"{config_path}:{line}:{col}")
        return Source(name, str(config_path))

    return data, source_for


# --- unknown keys ----------------------------------------------------------------------------


def _schema_of(section: type[_Section], key: str) -> tuple[str, type[_Section]] | None:
    """How to walk below ``key``: ("table", S) for a section, ("map", S) for ``dict[str, S]``."""
    from codex.config.model import Config, field_types, section_type

    if section is Config and key == "profiles":
        # A profile may hold any top-level setting, so it is checked against Config itself.
        return ("map", Config)
    annotation = field_types(section).get(key)
    return None if annotation is None else section_type(annotation)


def find_unknown_keys(data: Mapping[str, Any], source_for: SourceFor) -> list[str]:
    """One message per key that config.toml's schema does not know, with a spelling hint.

    Keys of the Rust CLI's config that codex-py accepts without using are not unknown
    (``codex.config.peer_keys``); ``codex config show`` explains them instead.
    """
    from codex.config.model import Config, field_types
    from codex.config.peer_keys import peer_only_reason

    messages: list[str] = []

    def walk(model: type[_Section], table: Mapping[str, Any], path: LocPath) -> None:
        known = set(field_types(model))
        for key, value in table.items():
            here = (*path, key)
            if key not in known and peer_only_reason(here) is not None:
                continue
            if key not in known:
                import difflib  # only for the spelling hint of an unknown key

                close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]}?)" if close else ""
                messages.append(
                    f"{source_for(here).where}: unknown config key {format_key_path(here)}; "
                    f"it is ignored{hint}"
                )
                continue
            schema = _schema_of(model, key)
            if schema is None or not isinstance(value, Mapping):
                continue
            kind, child = schema
            if kind == "table":
                walk(child, value, here)
            else:
                for name, entry in value.items():
                    if isinstance(entry, Mapping):
                        walk(child, entry, (*here, name))

    walk(Config, data, ())
    return messages


# --- the layers ---------------------------------------------------------------------------------


@dataclass
class _Profile:
    """The selected profile: its ``[profiles.NAME]`` table and/or its NAME.config.toml file."""

    name: str
    table: Mapping[str, Any] | None
    file_data: Mapping[str, Any] | None = None
    file_source: SourceFor | None = None


def profile_file(home: Path, name: str) -> Path:
    """Where the profile ``name`` lives as a file: ``$CODEX_HOME/NAME.config.toml``."""
    return home / f"{name}{PROFILE_FILE_SUFFIX}"


def profile_files(home: Path) -> list[str]:
    """The names of the profiles defined as files in ``home``."""
    try:
        names = [p.name[: -len(PROFILE_FILE_SUFFIX)] for p in home.iterdir() if p.name.endswith(PROFILE_FILE_SUFFIX)]
    except OSError:
        return []
    return sorted(n for n in names if n)


def _select_profile(combined: _Layers, profile: str | None, home: Path) -> _Profile | None:
    """The chosen profile (``--profile`` beats ``profile =``): its table, its file, or both."""
    if profile is not None:
        name: Any = profile
        chosen_by = Source("--profile", f"--profile {profile}")
    else:
        name = combined.data.get("profile")
        chosen_by = combined.sources.get(("profile",), DEFAULT)
    if not isinstance(name, str):
        return None  # absent, or the wrong type, which validation reports with its line
    profiles = combined.data.get("profiles")
    profiles = profiles if isinstance(profiles, dict) else {}
    table = profiles.get(name)
    file = profile_file(home, name) if name and "/" not in name and name not in (".", "..") else None
    if file is not None and file.is_file():
        data, source = _read_config_file(file)
        return _Profile(name, table if isinstance(table, Mapping) else None, data, source)
    if table is None:
        defined = ", ".join(sorted({*profiles, *profile_files(home)})) or "none"
        raise ConfigError(
            f"{chosen_by.where}: profile {name!r} is not defined (profiles defined: {defined}); "
            f"create {profile_file(home, name) if file else home / ('NAME' + PROFILE_FILE_SUFFIX)} or add a "
            f"[profiles.{format_key_path((name,))}] table to config.toml, or pick another profile"
        )
    return _Profile(name, table) if isinstance(table, Mapping) else None


def _apply_flags(layers: _Layers, flags: Mapping[str, Any]) -> None:
    """Dedicated flags, highest precedence; an explicit -s/-a/-m beats a shortcut flag."""

    def put(key: str, value: Any, label: str) -> None:
        layers.overlay({key: value}, _constant(Source(label, label)))

    if flags.get("full_auto") and flags.get("dangerously_bypass"):
        raise UsageError(
            "--full-auto and --dangerously-bypass-approvals-and-sandbox cannot be used together; pick one"
        )
    if flags.get("full_auto"):
        put("sandbox_mode", "workspace-write", "--full-auto")
        put("approval_policy", "on-failure", "--full-auto")
    if flags.get("dangerously_bypass"):
        label = "--dangerously-bypass-approvals-and-sandbox"
        put("sandbox_mode", "danger-full-access", label)
        put("approval_policy", "never", label)
    if flags.get("oss"):
        provider = layers.data.get("oss_provider")
        put("model_provider", provider if isinstance(provider, str) and provider else OSS_PROVIDER, "--oss")
        oss_model = layers.data.get("oss_model")
        put("model", oss_model if isinstance(oss_model, str) and oss_model else OSS_MODEL, "--oss")
    for key, flag, label in (
        ("model", "model", "--model"),
        ("sandbox_mode", "sandbox_mode", "--sandbox"),
        ("approval_policy", "approval_policy", "--ask-for-approval"),
    ):
        if flags.get(flag) is not None:
            put(key, flags[flag], label)
    if flags.get("cwd") is not None:
        put("cwd", str(flags["cwd"]), "--cd")


def _merge_providers(
    layers: _Layers,
    plugin_providers: Mapping[str, Mapping[str, Any]],
    provider_plugins: Mapping[str, str],
    file_source: SourceFor,
) -> None:
    """Plugin entries first, then the user's tables field by field; every entry gets its ``id``."""
    user = layers.data.get("model_providers", {})
    if not isinstance(user, dict):
        return  # validation reports the wrong type with its line
    merged = _Layers()
    for provider_id, entry in plugin_providers.items():
        plugin = provider_plugins.get(provider_id)
        label = f"plugin {plugin}" if plugin else "plugin"
        merged.overlay({provider_id: dict(entry)}, _constant(Source(label, f"the {label}")))
    openai_base_url = layers.data.get("openai_base_url")
    if isinstance(openai_base_url, str) and openai_base_url.strip() and "openai" in plugin_providers:
        # The peer's key for moving its built-in provider: above OPENAI_BASE_URL (which the
        # plugin read), below an explicit [model_providers.openai] base_url.
        source = layers.sources.get(("openai_base_url",), DEFAULT)
        merged.overlay({"openai": {"base_url": openai_base_url.strip()}}, _constant(source))
    for provider_id, entry in user.items():
        if not isinstance(entry, dict):
            continue
        if provider_id not in plugin_providers and "base_url" not in entry:
            under = [s for p, s in layers.sources.items() if p[:2] == ("model_providers", provider_id)]
            from_file = any(s.label.startswith(CONFIG_FILE) for s in under)
            where = under[0].where if under and not from_file else file_source(("model_providers", provider_id)).where
            known = ", ".join(sorted(plugin_providers)) or "none"
            raise ConfigError(
                f"{where}: model_providers.{format_key_path((provider_id,))}: base_url is required "
                f"for a provider that no plugin defines (plugin providers: {known}); add "
                f'base_url = "https://..." to the table'
            )
        merged.overlay(
            {provider_id: entry},
            lambda path: layers.sources.get(("model_providers", *path), DEFAULT),
        )
    for provider_id, entry in merged.data.items():
        if isinstance(entry, dict):
            entry["id"] = provider_id
    layers.forget(("model_providers",))
    layers.data["model_providers"] = merged.data
    layers.sources.update({("model_providers", *p): s for p, s in merged.sources.items()})


def _validate(layers: _Layers, profile_name: str | None) -> Config:
    """The Config of the merged data, checked by pydantic unless this very data passed before.

    The memo holds only the verdict for a digest of the exact data: a forged entry can at most
    skip checking data codex already holds (the user's own), never change a value.
    """
    from codex.config.model import Config

    key = _validity_key(layers.data)
    memo = _validity_memo()
    if memo.get(key) is not True:
        _check(layers, profile_name)
        memo.put(key, True)
    return Config.from_data(layers.data)


def _validity_memo() -> Memo:
    from codex.memo import Memo

    return Memo.shared("config-verdicts")


def _validity_key(data: dict[str, Any]) -> str:
    """A digest of the merged data (``repr`` tells "5" from 5 and dates from strings) and of
    the content of the code that checks it, so an upgrade or an edited schema is a miss."""
    import hashlib
    import importlib.util

    from codex import __version__
    from codex.config import model
    from codex.memo import file_digest

    checker = os.path.join(os.path.dirname(model.__file__), "schema.py")
    found = importlib.util.find_spec("pydantic")
    pydantic_version = os.path.join(os.path.dirname(found.origin), "version.py") if found and found.origin else None
    parts = [__version__, file_digest(model.__file__), file_digest(checker), file_digest(pydantic_version), repr(data)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _check(layers: _Layers, profile_name: str | None) -> None:
    from pydantic import ValidationError

    from codex.config.schema import validate

    try:
        validate(layers.data)
        return
    except ValidationError as exc:
        errors = exc.errors()
    error_locs = {tuple(e["loc"]) for e in errors}
    messages: list[str] = []
    for error in errors:
        loc = tuple(error["loc"])
        source = nearest(layers.sources, loc) or DEFAULT
        if profile_name is not None and ("profiles", profile_name, *loc) in error_locs:
            continue  # the same bad value is reported once, under its [profiles.NAME] key
        message = validation_message(source.where, loc, error)
        if message not in messages:
            messages.append(message)
    raise ConfigError("\n".join(messages))


def _check_plugin_tables(config: Config, layers: _Layers, schemas: Mapping[str, Any], strict: bool) -> list[str]:
    """Check ``[plugins.<name>]`` against the declared schemas; return the warnings for undeclared tables."""
    from codex.config.plugin_tables import check_plugin_tables, undeclared_tables

    def where_of(loc: LocPath) -> str:
        found = nearest(layers.sources, loc)
        if found is None:  # a table: point at its first value
            found = next((s for p, s in layers.sources.items() if p[: len(loc)] == loc), DEFAULT)
        return found.where

    warnings = undeclared_tables(config.plugins, schemas, where_of)
    if strict and warnings:
        raise ConfigError(
            "\n".join(warnings) + "\n(--strict-config turns unknown keys into errors; remove or fix them)"
        )
    checked, shown, errors = check_plugin_tables(config.plugins, schemas, where_of)
    if errors:
        raise ConfigError("\n".join(errors))
    config.plugins.update(shown)
    config.__dict__["_plugin_configs"] = checked
    return warnings


def _leaves(value: Any, path: LocPath = ()) -> list[LocPath]:
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    return [path] if path else []


def load_config(
    *,
    home: Path | None = None,
    cli_overrides: Sequence[str] = (),
    profile: str | None = None,
    flags: Mapping[str, Any] | None = None,
    strict: bool = False,
    plugin_providers: Mapping[str, Mapping[str, Any]] | None = None,
    cwd: Path | None = None,
    provider_plugins: Mapping[str, str] | None = None,
    config_text: str | None = None,
    plugin_schemas: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Merge every layer and validate the result.

    ``flags`` holds the dedicated CLI flags: ``model``, ``sandbox_mode``, ``approval_policy``,
    ``oss``, ``full_auto``, ``dangerously_bypass``, ``cwd``. ``plugin_providers`` are the
    built-in provider entries (``provider_plugins`` names the plugin of each, for origins).
    ``cwd`` is the directory a relative ``--cd`` is resolved against (default: the process's).
    ``config_text`` stands in for the file's content (``codex config set`` checks an edit with it).
    ``plugin_schemas`` are the ``[plugins.<name>]`` schemas plugins declare (``codex_config_schema``):
    declared tables are checked against them, others warned about; None leaves the tables unchecked.
    Raises ConfigError (or UsageError for conflicting flags) with a message that says where.

    Example::

        loaded = load_config(cli_overrides=["model=o3"], flags={"full_auto": True})
        loaded.config.sandbox_mode        # "workspace-write"
        loaded.origins["model"]           # "-c"
    """
    home = codex_home() if home is None else home
    config_path = home / CONFIG_FILE
    flags = flags or {}
    if config_text is None:
        file_data, file_source = _read_config_file(config_path)
    else:
        file_data, file_source = parse_config_text(config_text, config_path)
    overrides: list[Override] = parse_overrides(cli_overrides)

    warnings = find_unknown_keys(file_data, file_source)
    for override in overrides:
        warnings += find_unknown_keys(nest(override.path, override.value), _constant(Source("-c", override.where)))
    if strict and warnings:
        raise ConfigError(
            "\n".join(warnings) + "\n(--strict-config turns unknown keys into errors; remove or fix them)"
        )

    # -c may choose the profile or edit one, so the profile is picked from file + -c.
    combined = _Layers()
    combined.overlay(file_data, file_source)
    for override in overrides:
        combined.overlay(nest(override.path, override.value), _constant(Source("-c", override.where)))
    selected = _select_profile(combined, profile, home)

    layers = _Layers()
    layers.overlay(file_data, file_source)
    profile_name = None
    if selected is not None:
        profile_name = chosen = selected.name
        label = f"profile {profile_name}"

        def profile_source(path: LocPath) -> Source:
            inner = combined.sources.get(("profiles", chosen, *path), DEFAULT)
            return Source(label, inner.where)

        if selected.table is not None:
            layers.overlay(selected.table, profile_source)
        if selected.file_data is not None and selected.file_source is not None:
            # The file wins over the table key by key; origins name the file and line.
            profile_warnings = find_unknown_keys(selected.file_data, selected.file_source)
            if strict and profile_warnings:
                raise ConfigError(
                    "\n".join(profile_warnings)
                    + "\n(--strict-config turns unknown keys into errors; remove or fix them)"
                )
            warnings += profile_warnings
            layers.overlay(selected.file_data, selected.file_source)
    for override in overrides:
        layers.overlay(nest(override.path, override.value), _constant(Source("-c", override.where)))
    if profile is not None:
        layers.overlay({"profile": profile}, _constant(Source("--profile", f"--profile {profile}")))
    _apply_flags(layers, flags)
    _merge_providers(layers, plugin_providers or {}, provider_plugins or {}, file_source)

    config = _validate(layers, profile_name)
    if plugin_schemas is not None:
        warnings += _check_plugin_tables(config, layers, plugin_schemas, strict)
    resolved_cwd = _resolve_cwd(config.cwd, cwd, layers.sources.get(("cwd",), DEFAULT))
    _apply_project_trust(config, layers, resolved_cwd)
    origins: dict[str, str] = {}
    for path in _leaves(config.to_data(by_alias=True)):
        origins[format_key_path(path)] = (nearest(layers.sources, path) or DEFAULT).label
    return LoadedConfig(
        config=config,
        origins=origins,
        codex_home=home,
        config_path=config_path,
        cwd=resolved_cwd,
        warnings=warnings,
    )


def _apply_project_trust(config: Config, layers: _Layers, cwd: Path) -> None:
    """The Rust CLI's defaults for a folder listed in ``[projects]``, where no layer set the key.

    The project is ``cwd`` itself, else the repository around it (as the Rust CLI looks it up).
    A listed project runs ``sandbox_mode = "workspace-write"``, trusted or not (what 0.169 does);
    an untrusted one also ``approval_policy = "untrusted"``, so every command is shown first.
    """
    if not config.projects:
        return
    candidates = [cwd, *(d for d in cwd.parents if (d / ".git").exists())][:2]
    by_path: dict[Path, tuple[str, str | None]] = {}
    for key, project in config.projects.items():
        try:
            by_path.setdefault(Path(key).expanduser().resolve(), (key, project.trust_level))
        except (OSError, RuntimeError):
            continue
    for candidate in candidates:
        found = by_path.get(candidate)
        if found is None:
            continue
        key, trust = found
        where = nearest(layers.sources, ("projects", key, "trust_level")) or DEFAULT
        label = f"projects.{format_key_path((key,))}.trust_level ({where.label})"
        if trust is None:
            return
        if ("sandbox_mode",) not in layers.sources:
            config.sandbox_mode = "workspace-write"
            layers.sources[("sandbox_mode",)] = Source(label, where.where)
        if trust == "untrusted" and ("approval_policy",) not in layers.sources:
            config.approval_policy = "untrusted"
            layers.sources[("approval_policy",)] = Source(label, where.where)
        return


def _resolve_cwd(configured: str | None, base: Path | None, source: Source) -> Path:
    base = Path(os.getcwd()) if base is None else base
    if configured is None:
        return base
    target = (base / Path(configured).expanduser()).resolve()
    if not target.is_dir():
        message = f"{source.where}: {configured}: no such directory"
        raise UsageError(message) if source.label == "--cd" else ConfigError(message)
    return target
