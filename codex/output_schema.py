"""``codex exec --output-schema FILE``: a JSON Schema the final answer must follow.

The schema is read and checked before the turn starts (a missing file, bad JSON or a document
that is not a JSON Schema is a usage error naming the file, with line and column for JSON
errors). The request asks the model for it (structured outputs, where the wire can), and the
session checks the final answer against it before any face prints it, whatever the wire did:
a third party's wire that cannot ask still gets an answer that was checked.

jsonschema is imported only here, and only when a schema is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codex.errors import UsageError

# How many problems an error lists before "and N more".
_MAX_PROBLEMS = 5


def load_output_schema(path: Path) -> dict[str, Any]:
    """The schema in ``path``; raises ``UsageError`` saying what is wrong and where."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--output-schema {shown}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"--output-schema {shown}: is a directory; give a JSON Schema file") from None
    except UnicodeDecodeError:
        raise UsageError(f"--output-schema {shown}: not UTF-8 text; give a JSON Schema file") from None
    except OSError as exc:
        raise UsageError(f"--output-schema {shown}: cannot read it ({exc.strerror})") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--output-schema {shown}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(schema, dict):
        raise UsageError(
            f"--output-schema {shown}: a JSON Schema is an object ({{\"type\": \"object\", ...}}), "
            f"got {_json_type(schema)}"
        )
    jsonschema = _jsonschema()
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as error:
        where = _pointer(error.absolute_path)
        raise UsageError(f"--output-schema {shown}: not a valid JSON Schema at {where}: {error.message}") from None
    return schema


def answer_problem(schema: dict[str, Any], answer: str | None) -> str | None:
    """Why ``answer`` does not follow ``schema`` (None: it does)."""
    if answer is None or not answer.strip():
        return "the model gave no final answer"
    try:
        value = json.loads(answer)
    except json.JSONDecodeError as exc:
        return f"it is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    validator = _jsonschema().validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    problems = [f"at {_pointer(e.absolute_path)}: {e.message}" for e in errors[:_MAX_PROBLEMS]]
    if len(errors) > _MAX_PROBLEMS:
        problems.append(f"and {len(errors) - _MAX_PROBLEMS} more")
    return "; ".join(problems)


def _jsonschema() -> Any:
    import importlib

    # By name: jsonschema ships no type information (its stubs are a separate package).
    return importlib.import_module("jsonschema")


def _pointer(path: Any) -> str:
    """A JSON Pointer-like ``$/a/0/b`` for an error's location (``$`` is the document itself)."""
    return "/".join(["$", *(str(part) for part in path)])


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
