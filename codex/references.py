"""``"module:attribute"`` references: how codex names code it imports only when needed.

Entry points, built-in subcommands, wire APIs and tool argument models are all named this way,
so that listing them costs nothing and importing happens on first use.
"""

from __future__ import annotations

import importlib
from typing import Any


def load_reference(reference: str) -> Any:
    """Import ``"package.module:attribute"`` (or a whole ``"package.module"``) and return it.

    Raises ImportError or AttributeError as the import machinery does.
    """
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def reference_module(reference: str) -> str:
    """The module part of a reference (``"a.b:C"`` -> ``"a.b"``)."""
    return reference.partition(":")[0]
