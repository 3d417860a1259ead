"""Plainly valid tool arguments are accepted without pydantic, and only when pydantic agrees."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError, field_validator

from codex.tools.arguments import ApplyPatchArgs, ShellArgs, ShellArgsWithEscalation, UpdatePlanArgs
from codex.tools.base import Tool, ToolResult, _clean_schema
from codex.tools.plain_arguments import is_plain_model, plain_arguments


class Bounded(BaseModel):
    """Every keyword the plain checker understands."""

    name: str = Field(min_length=2, max_length=5)
    mode: Literal["fast", "slow"] = "fast"
    count: int = Field(3, ge=1, lt=10)
    tags: list[str] = Field(default=[], max_length=3)
    ratio_like: int | None = None
    flag: bool | None = None


MODELS: list[type[BaseModel]] = [ShellArgs, ShellArgsWithEscalation, ApplyPatchArgs, Bounded]


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return _clean_schema(model.model_json_schema())


def test_the_built_in_argument_models_are_plain_except_the_plan() -> None:
    for model in MODELS:
        assert is_plain_model(model, schema_of(model)), model.__name__
    assert not is_plain_model(UpdatePlanArgs, schema_of(UpdatePlanArgs))  # its validator, its $ref


def test_aliases_validators_and_factories_are_not_plain() -> None:
    class Aliased(BaseModel):
        value: str = Field(alias="v")

    class Checked(BaseModel):
        value: str

        @field_validator("value")
        @classmethod
        def _upper(cls, value: str) -> str:
            return value.upper()

    class Factory(BaseModel):
        items: list[str] = Field(default_factory=list)

    class Stripping(BaseModel):
        model_config = {"str_strip_whitespace": True}
        value: str

    for model in (Aliased, Checked, Factory, Stripping):
        assert not is_plain_model(model, schema_of(model)), model.__name__


def test_plain_calls_come_back_with_defaults_filled_in() -> None:
    args = plain_arguments(schema_of(ShellArgs), {"command": ["ls", "-l"], "timeout_ms": 500})
    assert args is not None
    assert (args.command, args.workdir, args.timeout_ms, args.timeout) == (["ls", "-l"], None, 500, None)


@pytest.mark.parametrize(
    "raw",
    [
        {"command": []},  # below minItems: pydantic words the error
        {"command": "ls"},  # a string, not a list
        {"command": ["ls"], "timeout_ms": "5"},  # pydantic would convert "5"; only pydantic decides
        {"command": ["ls"], "timeout_ms": 0},
        {"command": ["ls"], "timeout_ms": True},
        {"command": ["ls"], "timeout_ms": 5.0},
        {"command": ["ls"], "extra": 1},  # pydantic ignores unknown keys; it says so itself
        {"command": ["l\ud800s"]},  # a lone surrogate
        {},
    ],
)
def test_anything_unusual_is_left_to_pydantic(raw: dict[str, Any]) -> None:
    assert plain_arguments(schema_of(ShellArgs), raw) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 12) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8,
)


def typed_value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the JSON type the schema names (often valid, sometimes just outside a bound)."""
    if "anyOf" in schema:
        return st.one_of([typed_value(branch) for branch in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        words = st.sampled_from([*schema.get("enum", []), "other"]) if "enum" in schema else st.text(max_size=7)
        return words
    if kind == "integer":
        return st.integers(-2, 12)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(st.text(max_size=4), max_size=4)
    return st.none()


@st.composite
def candidate_arguments(draw: st.DrawFn, model: type[BaseModel]) -> dict[str, Any]:
    """Arguments a model might send: mostly the right JSON types, sometimes anything at all."""
    schema = schema_of(model)
    raw: dict[str, Any] = {}
    for name, sub in schema["properties"].items():
        if draw(st.integers(0, 9)) < (9 if name in schema.get("required", []) else 5):
            raw[name] = draw(typed_value(sub)) if draw(st.integers(0, 9)) < 8 else draw(JSON)
    if draw(st.integers(0, 9)) == 0:
        raw["extra"] = draw(JSON)
    return raw


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_plain_answers_always_equal_pydantic(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from(MODELS))
    raw = data.draw(candidate_arguments(model))
    fast = plain_arguments(schema_of(model), raw)
    try:
        expected = model.model_validate(raw)
    except ValidationError:
        assert fast is None, f"accepted what pydantic refuses: {raw!r}"
        return
    if fast is None:
        return  # leaving a valid call to pydantic is always allowed
    for name in model.model_fields:
        got, want = getattr(fast, name), getattr(expected, name)
        assert (got, type(got)) == (want, type(want)), name
    assert set(vars(fast)) == set(model.model_fields)


async def _echo(args: Any, ctx: Any) -> ToolResult:
    return ToolResult(repr(type(args).__name__))


def test_a_tool_opts_in_and_still_gets_a_model_when_the_call_is_not_plain() -> None:
    tool = Tool("shell", "d", "codex.tools.arguments:ShellArgs", _echo, plain_arguments=True)
    assert type(tool.parse_arguments({"command": ["ls"]})).__name__ == "SimpleNamespace"
    assert isinstance(tool.parse_arguments({"command": ["ls"], "unknown": 1}), ShellArgs)
    with pytest.raises(ValidationError):
        tool.parse_arguments({"command": []})
    opted_out = Tool("shell", "d", "codex.tools.arguments:ShellArgs", _echo)
    assert isinstance(opted_out.parse_arguments({"command": ["ls"]}), ShellArgs)
