"""``[plugins.<name>]`` tables, checked against the schema each plugin declares.

A plugin declares its table through ``codex_config_schema`` as a pydantic model class or a JSON
Schema dict. These tables are checked on every run, apart from the verdict memo of the rest of
config.toml: they are small, and the memo's key does not cover the installed plugins' schemas.
A table no plugin declares is warned about once, naming it; a declared one never is.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from codex.config.errors import LocPath, describe_expectation
from codex.config.overrides import format_key_path, format_value

if TYPE_CHECKING:
    import jsonschema_rs

    from codex.config.model import Config

WhereOf = Callable[[LocPath], str]

_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "an array",
    "object": "a table",
    "null": "nothing",
}


def is_pydantic_model(schema: Any) -> bool:
    """Whether ``schema`` is a pydantic model class (without importing pydantic for a dict)."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(schema, type) and issubclass(schema, pydantic.BaseModel)


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` cannot describe a table (None when it can)."""
    if is_pydantic_model(schema):
        return None
    if not isinstance(schema, Mapping):
        return f"expected a pydantic model class or a JSON Schema dict, got {type(schema).__name__}"
    if schema.get("type", "object") != "object":
        return f'a config table\'s JSON Schema must have "type": "object", not {schema.get("type")!r}'
    return None


def undeclared_tables(tables: Mapping[str, Any], schemas: Mapping[str, Any], where_of: WhereOf) -> list[str]:
    """One warning per ``[plugins.<name>]`` table that no installed plugin declares.

    The Rust CLI's own plugin tables (``[plugins."NAME@MARKETPLACE"]``) are not warned about:
    ``codex config show`` lists them as accepted and unused.
    """
    from codex.config.peer_keys import peer_only_reason

    tables = {name: table for name, table in tables.items() if peer_only_reason(("plugins", name)) is None}
    declared = ", ".join(sorted(schemas)) or "none"
    return [
        f"{where_of(('plugins', name))}: [plugins.{format_key_path((name,))}]: no installed plugin declares "
        f"a config table {name!r}; it is ignored (declared tables: {declared}; see `codex plugins`)"
        for name in tables
        if name not in schemas
    ]


def check_plugin_tables(
    tables: Mapping[str, Mapping[str, Any]], schemas: Mapping[str, Any], where_of: WhereOf
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    """Check each declared plugin's table (an absent one is checked as empty).

    Returns the checked objects by name (model instances or dicts), their plain data for
    ``codex config show`` (defaults included), and one error message per problem.
    """
    checked: dict[str, Any] = {}
    shown: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for name, schema in schemas.items():
        table = dict(tables.get(name, {}))
        if is_pydantic_model(schema):
            problems = _check_model(name, schema, table, where_of, checked, shown)
        else:
            problems = _check_json_schema(name, schema, table, where_of, checked, shown)
        errors.extend(problems)
    return checked, shown, errors


def _check_model(
    name: str, model: Any, table: dict[str, Any], where_of: WhereOf, checked: dict[str, Any], shown: dict[str, Any]
) -> list[str]:
    from pydantic import ValidationError

    try:
        instance = model.model_validate(table)
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            loc: LocPath = ("plugins", name, *error["loc"])
            where = where_of(loc)
            if error.get("type") == "missing":
                messages.append(f"{where}: {format_key_path(loc)}: required key is missing; add it to "
                                f"[plugins.{format_key_path((name,))}]")
                continue
            got = error.get("input")
            got_text = "a table" if isinstance(got, dict) else format_value(got)
            messages.append(f"{where}: {format_key_path(loc)}: expected {describe_expectation(error)}; got {got_text}")
        return messages
    checked[name] = instance
    shown[name] = instance.model_dump(mode="json", by_alias=True, exclude_none=True)
    return []


def _check_json_schema(
    name: str,
    schema: Mapping[str, Any],
    table: dict[str, Any],
    where_of: WhereOf,
    checked: dict[str, Any],
    shown: dict[str, Any],
) -> list[str]:
    # The validator runs only when there is something to check (a table, or keys the schema
    # requires). It runs on every run, with no verdict kept between runs: importing jsonschema-rs
    # and checking a table costs a few milliseconds (the ``jsonschema`` package it replaced cost
    # ~160 ms, which a verdict memo used to save).
    if table or schema.get("required"):
        messages = _json_schema_errors(name, schema, table, where_of)
        if messages:
            return messages
    filled = dict(table)
    for key, spec in (schema.get("properties") or {}).items():
        if key not in filled and isinstance(spec, Mapping) and "default" in spec:
            filled[key] = spec["default"]
    checked[name] = filled
    shown[name] = filled
    return []


def _json_schema_errors(name: str, schema: Mapping[str, Any], table: dict[str, Any], where_of: WhereOf) -> list[str]:
    from codex.json_schema import SchemaProblem, build_validator, errors_of

    loc: LocPath = ("plugins", name)
    try:
        validator = build_validator(schema)
    except SchemaProblem as problem:
        inside = "/".join(["#", *(str(part) for part in problem.where)])
        return [f"{where_of(loc)}: [plugins.{format_key_path((name,))}]: the plugin's JSON Schema for this table is "
                f"not valid (at {inside}: {problem.message}); the plugin's author must fix its codex_config_schema"]
    odd = _first_non_json(table, loc)
    if odd is not None:
        # A TOML date or time has no JSON type: no JSON Schema can say whether it is right.
        return [f"{where_of(odd)}: {format_key_path(odd)}: expected JSON data (a string, number, boolean, array or "
                f"table); got a TOML date or time; quote it to make it a string"]
    errors = sorted(errors_of(validator, table), key=lambda e: [str(p) for p in e.instance_path])
    return [_json_schema_message((*loc, *error.instance_path), error, where_of) for error in errors]


def _first_non_json(value: Any, loc: LocPath) -> LocPath | None:
    """Where in ``value`` the first value that JSON has no type for is (None: it is all JSON)."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_non_json(item, (*loc, key))
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_non_json(item, (*loc, index))
            if found is not None:
                return found
        return None
    return None if value is None or isinstance(value, str | int | float | bool) else loc


def _json_schema_message(loc: LocPath, error: jsonschema_rs.ValidationError, where_of: WhereOf) -> str:
    """``where: plugins.NAME.KEY: expected X; got Y`` for one error, from its structured kind."""
    from jsonschema_rs import ValidationErrorKind as Kind

    kind = error.kind
    if isinstance(kind, Kind.Required):
        table = format_key_path(loc[:2])
        return (f"{where_of(loc)}: {format_key_path((*loc, kind.property))}: required key is missing; "
                f"add it to [{table}]")
    if isinstance(kind, Kind.AdditionalProperties):
        extra = sorted(kind.unexpected)
        keys = ", ".join(format_key_path((*loc, key)) for key in extra)
        first = (*loc, extra[0]) if extra else loc
        return f"{where_of(first)}: {keys}: unknown key; the plugin's schema does not allow it"
    got = "a table" if isinstance(error.instance, dict) else format_value(error.instance)
    if isinstance(kind, Kind.Type):
        expected = " or ".join(_JSON_TYPES.get(str(t), str(t)) for t in kind.types)
    elif isinstance(kind, Kind.Enum):
        expected = "one of " + ", ".join(format_value(v) for v in kind.options)
    elif isinstance(kind, (Kind.Minimum, Kind.Maximum, Kind.ExclusiveMinimum, Kind.ExclusiveMaximum)):
        words = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}
        keyword = str(error.schema_path[-1])
        expected = f"a value {words.get(keyword, keyword)} {kind.limit}"
    else:
        return f"{where_of(loc)}: {format_key_path(loc)}: {error.message}"
    return f"{where_of(loc)}: {format_key_path(loc)}: expected {expected}; got {got}"


def default_config(schemas: Mapping[str, Any]) -> Config:
    """The built-in defaults, each declared plugin table filled with its schema's defaults.

    For code that shows what plugins offer out of the box (``codex plugins``): their hooks read
    ``config.plugin_config(name)`` as they would in a session. A table whose schema requires keys
    has no defaults and is left as an empty dict.
    """
    from codex.config.model import Config

    config = Config()
    checked, shown, _errors = check_plugin_tables({}, schemas, lambda _loc: "built-in default")
    config.plugins.update(shown)
    config.__dict__["_plugin_configs"] = checked
    return config
