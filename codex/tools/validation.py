"""The one validator of tool arguments: JSON Schema, checked by ``jsonschema``.

Every tool (built-in, plugin, MCP) declares its parameters as JSON Schema, so one checker
serves them all. ``jsonschema`` is the reference implementation (every draft, ``$ref``,
``anyOf``, the schemas MCP servers send) and already a dependency of codex and of the MCP SDK;
pydantic can only check schemas it generated itself. The validator of a tool is built on its
first call (the import costs ~70 ms, once per session; a session without tool calls never pays
it) and a call costs tens of microseconds after that.

Problems are reported for the model to fix, one per field, naming it and what was expected:
``plan[0].status: expected one of "pending", "in_progress", "completed"; got "done"``.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Mapping
from typing import Any

_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}
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
    """The cheap checks a schema must pass to be offered to a model (no jsonschema import).

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
        self.schema = schema
        # By name: jsonschema ships no type information (its stubs are a separate package).
        jsonschema: Any = importlib.import_module("jsonschema")
        validator_class = jsonschema.validators.validator_for(schema)
        try:
            validator_class.check_schema(schema)
        except jsonschema.exceptions.SchemaError as exc:
            where = _path(exc.absolute_path) if exc.absolute_path else "the schema"
            raise SchemaDeclarationError(
                f"its parameters are not a valid JSON Schema ({where}: {exc.message})"
            ) from None
        self._validator = validator_class(schema)
        self._defaults = {
            key: spec["default"]
            for key, spec in (schema.get("properties") or {}).items()
            if isinstance(spec, Mapping) and "default" in spec
        }

    def problems(self, arguments: Mapping[str, Any]) -> list[str]:
        """One sentence per field that does not match, in the order of the fields; [] when valid."""
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: [str(p) for p in e.absolute_path])
        described = [_describe(error) for error in errors]
        if len(described) > MAX_PROBLEMS:
            described = [*described[:MAX_PROBLEMS], f"and {len(described) - MAX_PROBLEMS} more"]
        return described

    def with_defaults(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments with each missing top-level property's ``default`` filled in."""
        for key, value in self._defaults.items():
            if key not in arguments:
                arguments[key] = copy.deepcopy(value)
        return arguments


def _path(parts: Any) -> str:
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


def _describe(error: Any) -> str:
    where = _path(error.absolute_path)
    field = where or "(the arguments)"
    kind = error.validator
    got = _shown(error.instance)
    if kind == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        return f"{_path([*error.absolute_path, missing])}: required, but missing"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties") or {})
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        names = ", ".join(_path([*error.absolute_path, key]) for key in extra) or field
        hint = f" (known: {', '.join(allowed)})" if allowed else ""
        return f"{names}: unknown property{hint}"
    if kind == "type":
        return f"{field}: expected {_expected_type(error.schema)}; got {got}"
    if kind == "enum":
        return f"{field}: expected one of {', '.join(_shown(v) for v in error.validator_value)}; got {got}"
    if kind in _BOUNDS:
        return f"{field}: expected a value {_BOUNDS[kind]} {error.validator_value}; got {got}"
    if kind in ("anyOf", "oneOf"):
        # A branch of the right type that failed a constraint says more than "matches none".
        deeper = [e for e in (error.context or []) if e.validator not in ("type", "anyOf", "oneOf")]
        if deeper:
            return _describe(min(deeper, key=lambda e: len(e.absolute_path)))
        options = " or ".join(_expected_type(branch) for branch in error.validator_value)
        return f"{field}: expected {options}; got {got}"
    if kind in ("minLength", "minItems") and error.validator_value == 1:
        return f"{field}: must not be empty"
    return f"{field}: {error.message}"
