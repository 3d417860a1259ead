"""``[plugins.<name>]`` tables, checked against the schema each plugin declares.

A plugin declares its table through ``codex_config_schema`` as a pydantic model class or a JSON
Schema dict. These tables are checked on every run, apart from the verdict memo of the rest of
config.toml: they are small, and the memo's key does not cover the installed plugins' schemas.
A table no plugin declares is warned about once, naming it; a declared one never is.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from codex.config.errors import LocPath, describe_expectation
from codex.config.overrides import format_key_path, format_value

if TYPE_CHECKING:
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
    # requires) and this exact table has not passed this exact schema before: importing
    # jsonschema costs ~160 ms, more than the rest of loading the configuration.
    messages: list[str] = []
    if table or schema.get("required"):
        key = _verdict_key(schema, table)
        memo = _verdict_memo() if key is not None else None
        if memo is None or memo.get(key or "") is not True:
            messages = _json_schema_errors(name, schema, table, where_of)
            if not messages and memo is not None and key is not None:
                memo.put(key, True)
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
    import importlib

    # By name: jsonschema ships no type information (its stubs are a separate package).
    jsonschema: Any = importlib.import_module("jsonschema")
    validator_class = jsonschema.validators.validator_for(schema)
    errors = sorted(validator_class(schema).iter_errors(table), key=lambda e: [str(p) for p in e.absolute_path])
    return [_json_schema_message(("plugins", name, *error.absolute_path), error, where_of) for error in errors]


def _verdict_memo() -> Any:
    from codex.memo import Memo

    return Memo.shared("config-verdicts")


def _verdict_key(schema: Mapping[str, Any], table: dict[str, Any]) -> str | None:
    """A digest of the schema, the table (``repr`` tells "5" from 5) and the checking code, or
    None when the schema has no JSON form to digest. Only a verdict is kept under it, never a
    value: a forged entry could at most skip checking the user's own table."""
    import hashlib
    import importlib.util
    import json
    import os

    from codex.memo import file_digest

    try:
        schema_text = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        return None
    found = importlib.util.find_spec("jsonschema")
    checker = os.path.join(os.path.dirname(found.origin), "validators.py") if found and found.origin else None
    parts = ["plugin-table", file_digest(__file__), file_digest(checker), schema_text, repr(table)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _json_schema_message(loc: LocPath, error: Any, where_of: WhereOf) -> str:
    """``where: plugins.NAME.KEY: expected X; got Y`` for one jsonschema error."""
    kind = error.validator
    if kind == "required":
        match = re.match(r"'(.+)' is a required property", error.message)
        missing = (*loc, match.group(1)) if match else loc
        table = format_key_path(loc[:2])
        return f"{where_of(loc)}: {format_key_path(missing)}: required key is missing; add it to [{table}]"
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        keys = ", ".join(format_key_path((*loc, key)) for key in extra)
        first = (*loc, extra[0]) if extra else loc
        return f"{where_of(first)}: {keys}: unknown key; the plugin's schema does not allow it"
    got = "a table" if isinstance(error.instance, dict) else format_value(error.instance)
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        expected = " or ".join(_JSON_TYPES.get(str(t), str(t)) for t in wanted)
    elif kind == "enum":
        expected = "one of " + ", ".join(format_value(v) for v in error.validator_value)
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}
        expected = f"a value {words[kind]} {error.validator_value}"
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
