"""``@record``: the engine's value classes, declared like dataclasses but cheaper to define.

``dataclasses.dataclass`` compiles an ``__init__`` (and ``__repr__``, ``__eq__``, for frozen
classes ``__setattr__``, ``__delattr__`` and ``__hash__``) for every class when its module is
imported: ~0.2-0.6 ms per class on a small machine, paid at every start for the ~100 event,
protocol, config and policy classes, although a one-answer run builds objects of a third of them.
A class declared as

    @record(slots=True)
    class AgentMessage:
        message: str

behaves like ``@dataclass(slots=True)``: same fields, defaults, ``field(...)`` options and
``dataclasses.fields/asdict/replace`` support, a ``__repr__`` and ``__eq__`` field by field,
``frozen=True`` instances that refuse assignment and hash by value. The difference is when the
work happens: its first few instances are built by one shared ``__init__`` that reads the
fields, a class built more often gets a compiled ``__init__`` like dataclass's, and
``__repr__``/``__eq__``/``__hash__`` are shared functions rather than generated per class.

Supported ``field()`` options: ``default``, ``default_factory``, ``init``, ``repr``, ``compare``,
``hash``, ``metadata``; ``kw_only`` and ``InitVar`` are not (the class fails to define).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError
from typing import Any, TypeVar, dataclass_transform, overload

_T = TypeVar("_T", bound=type)

# The marker ``dataclasses.fields()`` filters on. Without it (a future Python that reorganised
# its dataclasses module) records fall back to being real dataclasses: slower, never wrong.
_FIELD: Any = getattr(dataclasses, "_FIELD", None)
_HAS_FACTORY = object()


@overload
def record(cls: _T, /) -> _T: ...


@overload
def record(*, frozen: bool = False, slots: bool = False) -> Callable[[_T], _T]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, Field))
def record(cls: Any = None, /, *, frozen: bool = False, slots: bool = False) -> Any:
    """Make ``cls`` a dataclass-compatible value class (see the module docstring)."""

    def wrap(cls: Any) -> Any:
        if _FIELD is None:
            return dataclasses.dataclass(cls, frozen=frozen, slots=slots)
        return _define(cls, frozen, slots)

    return wrap if cls is None else wrap(cls)


def _define(cls: Any, frozen: bool, slots: bool) -> Any:
    fields: dict[str, Field[Any]] = {}
    for base in cls.__mro__[-1:0:-1]:
        fields.update(getattr(base, "__dataclass_fields__", {}))
    # The class's own annotations only (inherited fields come from the bases' records above).
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect is a slow import
    own = [name for name, annotation in annotations.items() if not _is_classvar(annotation)]
    for name in own:
        fields[name] = _own_field(cls, name)
    _check_order(cls, fields)
    if slots:
        cls = _with_slots(cls, own)
    cls.__dataclass_fields__ = fields
    match_args = tuple(name for name, item in fields.items() if item.init)
    setattr(cls, "__match_args__", match_args)  # noqa: B010 - mypy refuses the plain assignment
    cls.__init__ = _compile_on_first_use(cls, frozen)
    for name, method in (("__repr__", _repr), ("__eq__", _eq)):
        if name not in cls.__dict__:
            setattr(cls, name, method)
    if frozen:
        cls.__setattr__ = _refuse_setattr
        cls.__delattr__ = _refuse_delattr
        if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
            cls.__hash__ = _hash
    elif "__hash__" not in cls.__dict__:
        cls.__hash__ = None  # equal by value and mutable, so unhashable: dataclass's contract
    return cls


def _is_classvar(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))


def _own_field(cls: Any, name: str) -> Any:
    declared = cls.__dict__.get(name, MISSING)
    item: Any = declared if isinstance(declared, Field) else dataclasses.field(default=declared)
    if getattr(item, "kw_only", MISSING) not in (MISSING, False):
        raise TypeError(f"{cls.__qualname__}.{name}: records do not support kw_only fields")
    if isinstance(item.default, (list, dict, set)):
        raise ValueError(f"mutable default {type(item.default)} for field {name} is not allowed: use default_factory")
    item.name, item.type = name, cls.__annotations__[name]
    item._field_type = _FIELD  # what makes dataclasses.fields() list it
    if isinstance(declared, Field):
        # Like dataclass: the class attribute is the plain default, or absent.
        if item.default is MISSING:
            delattr(cls, name)
        else:
            setattr(cls, name, item.default)
    return item


def _check_order(cls: Any, fields: dict[str, Field[Any]]) -> None:
    seen_default = False
    for name, item in fields.items():
        if not item.init:
            continue
        has_default = item.default is not MISSING or item.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"{cls.__qualname__}: non-default argument {name!r} follows default argument")
        seen_default = seen_default or has_default


def _with_slots(cls: Any, own: list[str]) -> Any:
    namespace = dict(cls.__dict__)
    for name in (*own, "__dict__", "__weakref__"):
        namespace.pop(name, None)
    inherited = {slot for base in cls.__mro__[1:-1] for slot in base.__dict__.get("__slots__", ())}
    namespace["__slots__"] = tuple(name for name in own if name not in inherited)
    slotted = type(cls)(cls.__name__, cls.__bases__, namespace)
    slotted.__qualname__ = cls.__qualname__
    return slotted


# Compiling an __init__ costs ~0.1 ms; most classes are built a handful of times per run. The
# first calls go through one shared, slower __init__ that reads the fields; a class built more
# often than this gets its compiled one.
GENERIC_CALLS = 8


def _compile_on_first_use(cls: Any, frozen: bool) -> Callable[..., None]:
    calls = 0
    plan: list[tuple[str, bool, Any, Any]] | None = None

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls, plan
        calls += 1
        if calls <= GENERIC_CALLS:
            if plan is None:
                plan = _init_plan(cls)
            if _generic_init(self, plan, frozen, args, kwargs):
                return
        init = _make_init(cls, frozen)
        cls.__init__ = init
        init(self, *args, **kwargs)  # also what raises dataclass's TypeError for bad arguments

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _init_plan(cls: Any) -> list[tuple[str, bool, Any, Any]]:
    """(name, in __init__, default, default factory) of each field, in order."""
    return [
        (name, item.init, item.default, item.default_factory)
        for name, item in cls.__dataclass_fields__.items()
        if item._field_type is _FIELD
    ]


def _generic_init(
    self: Any, plan: list[tuple[str, bool, Any, Any]], frozen: bool, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> bool:
    """Set the fields as the compiled ``__init__`` would; False (to let it raise) on bad arguments."""
    setter = object.__setattr__ if frozen else setattr
    position = used = 0
    for name, init, default, factory in plan:
        if init and position < len(args):
            if name in kwargs:
                return False
            value = args[position]
            position += 1
        elif init and name in kwargs:
            value = kwargs[name]
            used += 1
        elif default is not MISSING:
            value = default
        elif factory is not MISSING:
            value = factory()
        elif init:
            return False  # a required argument is missing
        else:
            continue
        setter(self, name, value)
    return position == len(args) and used == len(kwargs)


def _make_init(cls: Any, frozen: bool) -> Callable[..., None]:
    """Compile the same ``__init__`` a dataclass would have, with the same signature."""
    scope: dict[str, Any] = {"_HAS_FACTORY": _HAS_FACTORY, "_setattr": object.__setattr__}
    params, body = ["self"], []
    for name, item in cls.__dataclass_fields__.items():
        if item._field_type is not _FIELD:
            continue
        value = name
        if item.default_factory is not MISSING:
            scope[f"_factory_{name}"] = item.default_factory
            if item.init:
                params.append(f"{name}=_HAS_FACTORY")
                value = f"_factory_{name}() if {name} is _HAS_FACTORY else {name}"
            else:
                value = f"_factory_{name}()"
        elif not item.init:
            if item.default is MISSING:
                continue
            scope[f"_default_{name}"] = item.default
            value = f"_default_{name}"
        elif item.default is not MISSING:
            scope[f"_default_{name}"] = item.default
            params.append(f"{name}=_default_{name}")
        else:
            params.append(name)
        body.append(f"_setattr(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    source = f"def __init__({', '.join(params)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
    exec(compile(source, f"<record {cls.__module__}.{cls.__qualname__}>", "exec"), scope)
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _values(record: Any, wanted: Callable[[Field[Any]], bool]) -> tuple[Any, ...]:
    return tuple(getattr(record, item.name) for item in dataclasses.fields(record) if wanted(item))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{item.name}={getattr(self, item.name)!r}" for item in dataclasses.fields(self) if item.repr)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self, _compared) == _values(other, _compared)


def _compared(item: Field[Any]) -> bool:
    return item.compare


def _hashed(item: Field[Any]) -> bool:
    return bool(item.compare if item.hash is None else item.hash)


def _hash(self: Any) -> int:
    return hash(_values(self, _hashed))


def _refuse_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
