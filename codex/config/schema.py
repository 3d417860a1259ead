"""Strict pydantic validators built from the dataclasses of ``codex.config.model``.

The dataclasses are the one description of config.toml; this module turns each into a pydantic
model with the same fields, bounds and aliases (``strict``: "5" is not an integer and "yes" is
not a boolean, as in the Rust peer; unknown keys allowed, the loader warns about them). It is
imported only when data must actually be checked, so pydantic stays out of most start-ups.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from codex.config.model import Config, _hints, _Section

_STRICT = ConfigDict(extra="allow", strict=True, populate_by_name=True)


def validate(data: dict[str, Any]) -> None:
    """Check merged config data; raises ``pydantic.ValidationError`` with every problem."""
    validator(Config).model_validate(data)


_VALIDATORS: dict[type[_Section], type[BaseModel]] = {}


def validator(section: type[_Section]) -> type[BaseModel]:
    """The pydantic model that checks a table of ``section`` (built once per class)."""
    built = _VALIDATORS.get(section)
    if built is None:
        built = _VALIDATORS[section] = _build(section)
    return built


def _build(section: type[_Section]) -> type[BaseModel]:
    hints = _hints(section)
    definitions: dict[str, Any] = {}
    for item in fields(section):
        options = dict(item.metadata)
        # Defaults are not validated by pydantic and never reach the result (``from_data``
        # fills them in), so a missing key only has to be allowed.
        required = item.default is MISSING and item.default_factory is MISSING
        definitions[item.name] = (_checked(hints[item.name]), Field(... if required else None, **options))
    return create_model(section.__name__, __config__=_STRICT, __doc__=section.__doc__, **definitions)


def _checked(annotation: Any) -> Any:
    """``annotation`` with every section type replaced by its validator."""
    if isinstance(annotation, type) and issubclass(annotation, _Section):
        return validator(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_checked(arg) for arg in args)]  # noqa: UP007 (built at run time)
    if origin is dict:
        return dict[_checked(args[0]), _checked(args[1])]  # type: ignore[misc]
    if origin is list:
        return list[_checked(args[0])]  # type: ignore[misc]
    return annotation
