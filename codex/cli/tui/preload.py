"""Import what the first turn needs while the person is still typing it.

The first model request imports httpx2 (with httpcore2, h11, anyio and its asyncio backend) and the
wire module of the session's provider, and builds the tools' JSON schemas; the first tool call
imports jsonschema-rs, which checks its arguments: together well over 100 ms here, paid after Enter if
nobody did it before.
Once the session is ready the app calls ``start_preload``: a daemon thread that does that work
in the background, so the answer starts as soon as the model sends it.

The thread never draws, prints or raises: a failure is left for the real use to report, with
its full message, when the turn needs the module. Imports are thread-safe (the turn, if it
comes first, waits for the module being imported rather than importing it twice) and the loop
thread gets the GIL back within the interpreter's switch interval whenever a key wakes it, so
keys still echo at once (``benchmarks/tui.py`` measures both the echo meanwhile and the first
answer). ``CODEX_TUI_PRELOAD=0`` turns it off, to compare.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.services import SessionServices

# The HTTP stack every wire reaches through ``codex.http``: httpx2 imports httpcore2 (and h11 with
# it) only when its first client is made.
HTTP_MODULES = ("httpx2", "httpcore2", "codex.http")


def preload_enabled() -> bool:
    """False when ``CODEX_TUI_PRELOAD=0`` (the benchmark's "without preloading")."""
    return os.environ.get("CODEX_TUI_PRELOAD", "1").strip() != "0"


def preload_steps(services: SessionServices) -> list[Callable[[], object]]:
    """The work, in the order the first turn meets it: HTTP, the wire module, the tool schemas."""
    from codex.references import reference_module

    modules = list(HTTP_MODULES)
    # A lazily registered wire (``LazyWireApi``) names its module; only that one is imported,
    # never instantiated here, so the session keeps its one wire object.
    reference = getattr(services.wire, "reference", None)
    if isinstance(reference, str) and reference:
        modules.append(reference_module(reference))
    steps: list[Callable[[], object]] = [partial(importlib.import_module, name) for name in modules]
    steps.append(load_anyio_backend)
    # ``spec()`` keeps the schema on the very Tool the session sends (a deprecated pydantic
    # model is converted here); a tool declared as a schema costs nothing.
    steps += [tool.spec for tool in services.tools]
    steps.append(partial(importlib.import_module, "codex.json_schema"))  # jsonschema-rs: checks every call
    return steps


def load_anyio_backend() -> None:
    """Load anyio's asyncio backend, which httpcore2 connects through on the first request.

    anyio imports it on first use only; running a no-op on a throwaway loop in this thread is
    the public way to have it imported (the app's own loop is not touched).
    """
    import anyio

    anyio.run(anyio.sleep, 0, backend="asyncio")


def run_steps(steps: list[Callable[[], object]]) -> None:
    """Run each step; one that fails is skipped silently (the turn will say why, if it matters)."""
    for step in steps:
        try:
            step()
        except Exception:  # anything: a broken plugin's error must not show up twice
            pass


def start_preload(services: SessionServices) -> threading.Thread | None:
    """Start the preloading thread for ``services``; None when turned off or it cannot start."""
    if not preload_enabled():
        return None
    try:
        steps = preload_steps(services)
        thread = threading.Thread(target=run_steps, args=(steps,), daemon=True, name="codex-preload")
        thread.start()
    except Exception:  # e.g. no more threads: the turn imports what it needs itself
        return None
    return thread
