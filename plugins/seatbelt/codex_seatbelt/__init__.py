"""The built-in ``seatbelt`` sandbox plugin: macOS ``sandbox-exec`` with a generated profile.

Registered through the ``codex`` entry-point group like any third-party plugin. Importing this
module stays cheap: the backend and policy generator load only when the hook is called.
"""

from __future__ import annotations

from codex.plugin import hookimpl

# The version of the public plugin API (codex.plugin) this plugin is written for.
CODEX_PLUGIN_API = "1.0"


@hookimpl
def codex_sandboxes() -> list[object]:
    """Offer the Seatbelt backend; it reports itself unavailable off macOS."""
    from codex_seatbelt.backend import SeatbeltBackend

    return [SeatbeltBackend()]
