"""Accepting a tool call's arguments without pydantic when they are plainly valid.

Importing pydantic and building a model costs ~100 ms on a small machine: most of the first
tool call of a ``codex exec`` run. Yet a model almost always sends exactly what the schema asks
for: a string where a string goes, a list of strings, an integer above its minimum. For a model
whose JSON schema says everything about it (no validators, aliases or custom types: see
``is_plain_model``), ``plain_arguments`` checks such a call against the remembered schema and
returns the values pydantic would have produced, as attributes of a namespace.

It answers only when the answer is certain: exact JSON types, no unknown keys, every keyword of
the schema understood. Anything else returns None and pydantic decides (and words the error),
so accepting here never changes what a call means. The test suite checks that promise with
generated inputs against pydantic itself.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

# Keywords whose meaning is checked here; a schema with any other one is not plain.
_KNOWN = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "default",
     "description", "title", "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum",
     "exclusiveMinimum", "exclusiveMaximum"}
)
# model_config keys that change nothing about how plain JSON values are validated.
_HARMLESS_CONFIG = frozenset({"title", "extra", "json_schema_extra", "protected_namespaces"})


class _Unsure(Exception):
    """The value is not plainly valid: let pydantic decide."""


def is_plain_model(model: type[BaseModel], schema: dict[str, Any]) -> bool:
    """Whether ``schema`` (``model``'s JSON schema) says all that validating ``model`` does."""
    decorators = model.__pydantic_decorators__
    if any((decorators.validators, decorators.field_validators, decorators.root_validators,
            decorators.model_validators)):
        return False
    if set(model.model_config) - _HARMLESS_CONFIG:
        return False
    for name, info in model.model_fields.items():
        if info.alias not in (None, name) or info.validation_alias not in (None, name):
            return False
        if info.default_factory is not None:
            return False
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict) or set(properties) != set(model.model_fields):
        return False
    required = set(schema.get("required", []))
    if any(name not in required and "default" not in sub for name, sub in properties.items()):
        return False
    return _understood(schema)


def _understood(schema: Any) -> bool:
    if not isinstance(schema, dict) or set(schema) - _KNOWN:
        return False
    nested = [*schema.get("properties", {}).values(), *schema.get("anyOf", [])]
    if "items" in schema:
        nested.append(schema["items"])
    enum = schema.get("enum")
    if enum is not None and not all(isinstance(value, str) for value in enum):
        return False
    return all(_understood(sub) for sub in nested)


def plain_arguments(schema: dict[str, Any], raw: dict[str, Any]) -> SimpleNamespace | None:
    """The validated arguments if ``raw`` is plainly valid for the plain ``schema``, else None."""
    properties: dict[str, Any] = schema["properties"]
    if set(raw) - set(properties) or set(schema.get("required", [])) - set(raw):
        return None
    values: dict[str, Any] = {}
    try:
        for name, sub in properties.items():
            values[name] = _value(sub, raw[name]) if name in raw else copy.deepcopy(sub["default"])
    except _Unsure:
        return None
    return SimpleNamespace(**values)


def _value(schema: dict[str, Any], value: Any) -> Any:
    if "anyOf" in schema:
        matches = []
        for branch in schema["anyOf"]:
            try:
                matches.append(_value(branch, value))
            except _Unsure:
                continue
        if len(matches) != 1:
            raise _Unsure  # no branch, or an ambiguity pydantic resolves by its own rules
        return matches[0]
    kind = schema.get("type")
    if kind == "string" and type(value) is str:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Unsure from None  # a lone surrogate: pydantic refuses it, in its words
        _check_size(schema, len(value), "minLength", "maxLength")
        if "enum" in schema and value not in schema["enum"]:
            raise _Unsure
        return value
    if kind == "integer" and type(value) is int:
        _check_bounds(schema, value)
        return value
    if kind == "boolean" and type(value) is bool:
        return value
    if kind == "null" and value is None:
        return None
    if kind == "array" and type(value) is list:
        _check_size(schema, len(value), "minItems", "maxItems")
        items = schema.get("items")
        return list(value) if items is None else [_value(items, item) for item in value]
    raise _Unsure


def _check_size(schema: dict[str, Any], size: int, low: str, high: str) -> None:
    if size < schema.get(low, 0) or (high in schema and size > schema[high]):
        raise _Unsure


def _check_bounds(schema: dict[str, Any], value: int) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise _Unsure
    if "maximum" in schema and value > schema["maximum"]:
        raise _Unsure
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        raise _Unsure
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        raise _Unsure
