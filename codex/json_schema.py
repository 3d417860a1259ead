"""How codex builds a JSON Schema validator, the same way for every schema it is given.

Schemas come from plugins (tool parameters, ``[plugins.<name>]`` tables), from MCP servers (any
server a user adds: untrusted input) and from ``exec --output-schema``. jsonschema-rs checks a
schema against its draft's meta-schema (and compiles its regular expressions) while it builds
the validator, so a schema that is not JSON Schema is refused before anything is checked with it.
Import this module where a validator is needed, not before: a run that checks nothing never
loads jsonschema-rs.

Two options differ from jsonschema-rs's defaults, on purpose:

- ``offline=True``: a ``$ref`` or ``$schema`` outside the schema document (``http://``,
  ``https://``, ``file://``) is refused, never fetched. By default jsonschema-rs fetches remote
  references and reads local files while it builds a validator, with no time limit: a tool
  schema from an MCP server could make codex connect to any address, read any file, or hang.
- ``validate_formats=False``: ``"format"`` stays an annotation, as it was under the ``jsonschema``
  package codex used before, whatever the draft (jsonschema-rs asserts formats for drafts 4-7).

Example::

    validator = build_validator({"type": "object", "required": ["path"]})
    [error.message for error in errors_of(validator, {})]  # ['"path" is a required property']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema_rs


class SchemaProblem(Exception):
    """A schema codex cannot build a validator from: ``where`` in it (a path of keys and
    indexes, empty for the whole schema) and what is wrong there."""

    def __init__(self, where: list[str | int], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def build_validator(schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
    """A validator for ``schema`` (its draft from ``$schema``, 2020-12 when it names none).

    Raises ``SchemaProblem`` when ``schema`` is not a valid JSON Schema, or refers to a document
    outside itself.
    """
    try:
        return jsonschema_rs.validator_for(dict(schema), offline=True, validate_formats=False)
    except jsonschema_rs.ValidationError as error:
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Referencing):
            raise SchemaProblem(
                [], f"{error.message} (codex follows references within the schema only, and fetches none)"
            ) from None
        # Raised while checking the schema against its meta-schema: the schema is the instance.
        raise SchemaProblem(list(error.instance_path), error.message) from None
    except (ValueError, TypeError) as error:  # e.g. a value that is not JSON data
        raise SchemaProblem([], str(error)) from None


def errors_of(validator: jsonschema_rs.Validator, instance: Any) -> list[jsonschema_rs.ValidationError]:
    """Every way ``instance`` breaks the validator's schema ([] when it follows it).

    jsonschema-rs reads JSON's own Python types only (a ``str`` or ``int`` subclass, such as a
    tomlkit item or a plugin's rewritten argument, is refused): such data is checked as its JSON
    form. Raises ``TypeError`` for data that has none (a date, say).
    """
    try:
        return list(validator.iter_errors(instance))
    except ValueError:
        return list(validator.iter_errors(json.loads(json.dumps(instance))))
