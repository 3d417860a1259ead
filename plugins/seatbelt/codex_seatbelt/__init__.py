"""The built-in ``seatbelt`` sandbox plugin: macOS ``sandbox-exec`` with a generated profile.

Registered through the ``codex`` entry-point group like any third-party plugin. Importing this
module stays cheap: the backend and policy generator load only when the hook is called.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("codex")


@hookimpl
def codex_sandboxes() -> list[object]:
    """Offer the Seatbelt backend; it reports itself unavailable off macOS."""
    from codex_seatbelt.backend import SeatbeltBackend

    return [SeatbeltBackend()]
