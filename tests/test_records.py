"""``@record`` behaves like ``@dataclass`` for every feature the codebase uses.

Each check builds the same class twice, once with each decorator, and compares what a caller can
observe: constructor signature and errors, defaults, repr, equality, hashing, ``fields``,
``asdict``, ``replace``, pattern matching, frozen and slotted behaviour, inheritance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, ClassVar

import pytest

from codex.records import GENERIC_CALLS, record


def twins(frozen: bool = False, slots: bool = False) -> tuple[type[Any], type[Any]]:
    """The same class body under ``@dataclass`` and ``@record``."""

    def body() -> type[Any]:
        class Item:
            """An item."""

            name: str
            count: int = 0
            tags: list[str] = field(default_factory=list)
            secret: str = field(default="s", repr=False, compare=False, metadata={"alias": "hidden"})
            kind: ClassVar[str] = "item"

        return Item

    return dataclass(frozen=frozen, slots=slots)(body()), record(frozen=frozen, slots=slots)(body())


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("slots", [False, True])
def test_observable_behaviour_matches_dataclass(frozen: bool, slots: bool) -> None:
    plain, ours = twins(frozen, slots)
    for args, kwargs in [(("a",), {}), (("a", 2, ["x"]), {}), (("a",), {"secret": "t", "tags": ["y"]})]:
        expected, got = plain(*args, **kwargs), ours(*args, **kwargs)
        assert repr(got) == repr(expected)
        assert dataclasses.asdict(got) == dataclasses.asdict(expected)
        assert got == ours(*args, **kwargs)
        assert got != ours("other")
        assert dataclasses.replace(got, count=9).count == 9
        assert dataclasses.replace(got, count=9).name == got.name
        # Frozen: hashed by value, so the list field makes both unhashable; mutable: no hash at all.
        for instance in (expected, got):
            with pytest.raises(TypeError, match="unhashable"):
                hash(instance)
    assert [(f.name, f.default, f.repr, f.compare, dict(f.metadata)) for f in dataclasses.fields(ours)] == [
        (f.name, f.default, f.repr, f.compare, dict(f.metadata)) for f in dataclasses.fields(plain)
    ]
    assert dataclasses.is_dataclass(ours)
    assert ours.__match_args__ == plain.__match_args__
    assert ours.kind == "item"
    # Fields compared: "secret" is not, so it does not break equality.
    assert ours("a", secret="x") == ours("a", secret="y")
    # Each instance gets its own default list.
    first, second = ours("a"), ours("b")
    first.tags.append("t") if not frozen else None
    assert second.tags == []


def test_constructor_errors_match_dataclass() -> None:
    plain, ours = twins()
    for call in (lambda cls: cls(), lambda cls: cls("a", 1, [], "s", "extra"), lambda cls: cls("a", nope=1)):
        with pytest.raises(TypeError) as expected:
            call(plain)
        with pytest.raises(TypeError) as got:
            call(ours)
        # Same complaint; only the qualified name of __init__ differs between the two.
        assert str(got.value).split("__init__()")[-1] == str(expected.value).split("__init__()")[-1]


def test_frozen_refuses_assignment_and_deletion() -> None:
    _, ours = twins(frozen=True)
    item = ours("a")
    with pytest.raises(FrozenInstanceError):
        item.name = "b"
    with pytest.raises(FrozenInstanceError):
        del item.name
    assert item.name == "a"


def test_frozen_hashes_by_compared_fields() -> None:
    @record(frozen=True)
    class Key:
        a: int
        b: str = field(default="", compare=False)

    plain_key = dataclass(frozen=True)(type("K", (), {"__annotations__": {"a": int}}))
    assert hash(Key(1, "x")) == hash(Key(1, "y")) == hash(plain_key(1))
    assert {Key(1), Key(1, "z"), Key(2)} == {Key(1), Key(2)}


def test_slots_means_no_instance_dict() -> None:
    _, ours = twins(slots=True)
    item = ours("a")
    assert not hasattr(item, "__dict__")
    with pytest.raises(AttributeError):
        item.typo = 1


def test_subclass_inherits_fields_after_the_base_ones() -> None:
    @record
    class Base:
        a: int

    @record(frozen=True)
    class Child(Base):
        b: str = "x"

    child = Child(1)
    assert [f.name for f in dataclasses.fields(child)] == ["a", "b"]
    assert repr(child) == "test_subclass_inherits_fields_after_the_base_ones.<locals>.Child(a=1, b='x')"
    match child:
        case Child(a, b):
            assert (a, b) == (1, "x")


def test_definition_errors_match_dataclass() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @record
        class Order:
            a: int = 0
            b: int

    with pytest.raises(ValueError, match="mutable default"):

        @record
        class Shared:
            a: list[int] = []  # the mistake under test


def test_init_is_compiled_only_for_a_class_built_often() -> None:
    @record(frozen=True, slots=True)
    class Often:
        a: int
        b: list[int] = field(default_factory=list)
        c: str = "c"

    def compiled() -> bool:
        return Often.__init__.__code__.co_filename.startswith("<record")

    built = []
    for number in range(GENERIC_CALLS):
        built.append(Often(number, c="x") if number % 2 else Often(a=number))
        assert not compiled()
    built.append(Often(GENERIC_CALLS, [1], "y"))
    assert compiled()
    # Both ways of building give what dataclass gives.
    twin = dataclass(frozen=True)(type("Often", (), {"__annotations__": {"a": int, "b": list, "c": str},
                                                  "b": field(default_factory=list), "c": "c"}))
    expected = [twin(n, c="x") if n % 2 else twin(a=n) for n in range(GENERIC_CALLS)] + [twin(GENERIC_CALLS, [1], "y")]
    assert [(o.a, o.b, o.c) for o in built] == [(o.a, o.b, o.c) for o in expected]
    assert built[0].b is not built[2].b


def test_field_not_in_init_gets_its_default() -> None:
    @record
    class Counter:
        name: str
        seen: list[str] = field(default_factory=list, init=False)
        hits: int = field(default=0, init=False)

    counter = Counter("c")
    assert (counter.seen, counter.hits) == ([], 0)
    with pytest.raises(TypeError):
        Counter("c", [])  # type: ignore[call-arg]
