"""A cheaper way to define the many small value classes the engine passes around.

Defining a dataclass generates and compiles ``__init__``, ``__repr__`` and ``__eq__`` for it:
~0.15 ms apiece on a small machine, paid at every start for each of the ~45 event and protocol
classes, although ``repr`` and ``==`` are for tests and debugging. A class declared as

    @dataclass(slots=True, repr=False, eq=False)
    class AgentMessage(Record):
        message: str

keeps its generated ``__init__`` (built per class, it is on the streaming path) and shares
``Record``'s field-by-field ``__repr__`` and ``__eq__``, which behave like the generated ones.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any


class Record:
    """Base of dataclasses declared with ``repr=False, eq=False`` (see the module docstring)."""

    __slots__ = ()
    # Equal by value, so not hashable: the same contract as a dataclass with eq=True.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{item.name}={getattr(self, item.name)!r}" for item in fields(self) if item.repr)  # type: ignore[arg-type]
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(
            getattr(self, item.name) == getattr(other, item.name)
            for item in fields(self)  # type: ignore[arg-type]
            if item.compare
        )
