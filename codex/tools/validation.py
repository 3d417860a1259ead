"""The one validator of tool arguments: JSON Schema, checked by ``jsonschema-rs``.

Every tool (built-in, plugin, MCP) declares its parameters as JSON Schema, so one checker
serves them all. jsonschema-rs reads every draft, ``$ref`` within the schema, ``anyOf`` and
``oneOf``, the schemas MCP servers send; pydantic can only check schemas it generated itself.
It replaced the ``jsonschema`` package, whose import cost ~42 ms of a session's first tool call
(its format checkers, ``referencing``, attrs classes); jsonschema-rs is imported and a tool's
validator built in ~4 ms there (``codex.json_schema`` says how validators are built: offline,
formats as annotations). The validator of a tool is built on its first call (a session without
tool calls never imports it) and a call costs a few microseconds after that.

Problems are reported for the model to fix, one per field, naming it and what was expected:
``plan[0].status: expected one of "pending", "in_progress", "completed"; got "done"``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema_rs

_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}
# A schema's bound keywords, in the order they are shown, and their words.
_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
}
# Problems listed before the rest is summarised: the model needs the first few, not a wall.
MAX_PROBLEMS = 8


class SchemaDeclarationError(Exception):
    """A tool's parameters are not a usable JSON Schema (the message says why)."""


def check_declaration(schema: Any, tool: str) -> dict[str, Any]:
    """The cheap checks a schema must pass to be offered to a model (no validator is built).

    Model APIs take an object schema; anything else is a plugin's mistake, reported at start.
    """
    if not isinstance(schema, Mapping):
        raise SchemaDeclarationError(
            f"tool {tool!r}: parameters must be a JSON Schema object (a dict), a pydantic model class "
            f"or a 'module:Class' reference; got {type(schema).__name__}"
        )
    if schema.get("type") != "object":
        raise SchemaDeclarationError(
            f'tool {tool!r}: parameters must describe a JSON object ({{"type": "object", "properties": ...}}); '
            f"got type {schema.get('type')!r}"
        )
    try:
        json.dumps(schema)
    except (TypeError, ValueError) as exc:
        raise SchemaDeclarationError(f"tool {tool!r}: parameters are not JSON data: {exc}") from None
    return dict(schema)


class ArgumentValidator:
    """Checks the arguments of one tool against its schema; built once, used for every call."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        from codex.json_schema import SchemaProblem, build_validator

        self.schema = schema
        try:
            self._validator = build_validator(schema)
        except SchemaProblem as problem:
            where = _path(problem.where) or "the schema"
            raise SchemaDeclarationError(
                f"its parameters are not a valid JSON Schema ({where}: {problem.message})"
            ) from None
        self._defaults = {
            key: spec["default"]
            for key, spec in (schema.get("properties") or {}).items()
            if isinstance(spec, Mapping) and "default" in spec
        }

    def problems(self, arguments: Mapping[str, Any]) -> list[str]:
        """One sentence per field that does not match, in the order of the fields; [] when valid."""
        from codex.json_schema import errors_of

        try:
            found = errors_of(self._validator, arguments)
        except TypeError as exc:  # a plugin that rewrote the arguments put in a value JSON has no form for
            return [f"(the arguments): not JSON data: {exc}"]
        errors = sorted(found, key=lambda e: [str(p) for p in e.instance_path])
        described = [_describe(error, self.schema) for error in errors]
        if len(described) > MAX_PROBLEMS:
            described = [*described[:MAX_PROBLEMS], f"and {len(described) - MAX_PROBLEMS} more"]
        return described

    def with_defaults(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments with each missing top-level property's ``default`` filled in."""
        for key, value in self._defaults.items():
            if key not in arguments:
                arguments[key] = copy.deepcopy(value)
        return arguments


def _path(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _subschema(schema: Any, path: Sequence[str | int]) -> Any:
    """The part of ``schema`` at ``path`` (an error's ``schema_path``, references already
    followed), or None where the path leaves the document (a ``$ref`` to an embedded ``$id``)."""
    for part in path:
        found = isinstance(schema, Mapping) and isinstance(part, str) and part in schema
        indexed = isinstance(schema, list) and isinstance(part, int) and 0 <= part < len(schema)
        if not (found or indexed):
            return None
        schema = schema[part]
    return schema


def _expected_type(schema: Any) -> str:
    """``an integer (at least 1)`` for ``{"type": "integer", "minimum": 1}``."""
    if not isinstance(schema, Mapping):
        return "a value"
    if "enum" in schema:
        return "one of " + ", ".join(_shown(v) for v in schema["enum"])
    if "const" in schema:
        return _shown(schema["const"])
    kinds = schema.get("type")
    names = [_TYPES.get(str(k), str(k)) for k in (kinds if isinstance(kinds, list) else [kinds])] if kinds else []
    bounds = [f"{_BOUNDS[k]} {schema[k]}" for k in _BOUNDS if k in schema]
    text = " or ".join(names) or "a value"
    return f"{text} ({', '.join(bounds)})" if bounds else text


def _describe(error: jsonschema_rs.ValidationError, schema: Mapping[str, Any]) -> str:
    """One sentence from the error's structured kind; its own message only for rarer keywords."""
    from jsonschema_rs import ValidationErrorKind as Kind

    where = _path(error.instance_path)
    field = where or "(the arguments)"
    kind = error.kind
    got = _shown(error.instance)
    # The schema object that holds the failed keyword (the last part of the path is the keyword).
    holder = _subschema(schema, error.schema_path[:-1])
    if isinstance(kind, Kind.Required):
        return f"{_path([*error.instance_path, kind.property])}: required, but missing"
    if isinstance(kind, Kind.AdditionalProperties):
        allowed = sorted(holder.get("properties") or {}) if isinstance(holder, Mapping) else []
        names = ", ".join(_path([*error.instance_path, key]) for key in sorted(kind.unexpected)) or field
        hint = f" (known: {', '.join(allowed)})" if allowed else ""
        return f"{names}: unknown property{hint}"
    if isinstance(kind, Kind.Type):
        # The holder also tells its bounds or choices ("an integer (at least 1)").
        expected = _expected_type(holder if isinstance(holder, Mapping) else {"type": kind.types})
        return f"{field}: expected {expected}; got {got}"
    if isinstance(kind, Kind.Enum):
        return f"{field}: expected one of {', '.join(_shown(v) for v in kind.options)}; got {got}"
    if isinstance(kind, (Kind.Minimum, Kind.Maximum, Kind.ExclusiveMinimum, Kind.ExclusiveMaximum)):
        keyword = str(error.schema_path[-1])
        return f"{field}: expected a value {_BOUNDS.get(keyword, keyword)} {kind.limit}; got {got}"
    if isinstance(kind, (Kind.AnyOf, Kind.OneOfNotValid)):
        # A branch of the right type that failed a constraint says more than "matches none".
        branch_errors = [e for branch in kind.context for e in branch]
        deeper = [e for e in branch_errors if not isinstance(e.kind, (Kind.Type, Kind.AnyOf, Kind.OneOfNotValid))]
        if deeper:
            return _describe(min(deeper, key=lambda e: len(e.instance_path)), schema)
        branches = _subschema(schema, error.schema_path)
        options = " or ".join(_expected_type(b) for b in branches) if isinstance(branches, list) else "a value"
        return f"{field}: expected {options}; got {got}"
    if isinstance(kind, (Kind.MinLength, Kind.MinItems)) and kind.limit == 1:
        return f"{field}: must not be empty"
    return f"{field}: {error.message}"
