"""``codex exec --output-schema FILE``: a JSON Schema the final answer must follow.

The schema is read and checked before the turn starts (a missing file, bad JSON or a document
that is not a JSON Schema is a usage error naming the file, with line and column for JSON
errors). The request asks the model for it (structured outputs, where the wire can), and the
session checks the final answer against it before any face prints it, whatever the wire did:
a third party's wire that cannot ask still gets an answer that was checked.

The validator (jsonschema-rs, built by ``codex.json_schema``) is imported only when a schema is
given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    from codex.json_schema import SchemaProblem, build_validator

    try:
        build_validator(schema)
    except SchemaProblem as problem:
        where = _pointer(problem.where)
        raise UsageError(f"--output-schema {shown}: not a valid JSON Schema at {where}: {problem.message}") from None
    return schema


def answer_problem(schema: dict[str, Any], answer: str | None) -> str | None:
    """Why ``answer`` does not follow ``schema`` (None: it does)."""
    if answer is None or not answer.strip():
        return "the model gave no final answer"
    try:
        value = json.loads(answer)
    except json.JSONDecodeError as exc:
        return f"it is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    from codex.json_schema import SchemaProblem, build_validator, errors_of

    try:
        validator = build_validator(schema)
    except SchemaProblem as problem:  # a schema given through ops, which load_output_schema never saw
        return f"the schema is not a valid JSON Schema at {_pointer(problem.where)}: {problem.message}"
    errors = sorted(errors_of(validator, value), key=lambda e: [str(part) for part in e.instance_path])
    if not errors:
        return None
    problems = [f"at {_pointer(e.instance_path)}: {e.message}" for e in errors[:_MAX_PROBLEMS]]
    if len(errors) > _MAX_PROBLEMS:
        problems.append(f"and {len(errors) - _MAX_PROBLEMS} more")
    return "; ".join(problems)


def _pointer(path: Sequence[str | int]) -> str:
    """A JSON Pointer-like ``$/a/0/b`` for an error's location (``$`` is the document itself)."""
    return "/".join(["$", *(str(part) for part in path)])


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
