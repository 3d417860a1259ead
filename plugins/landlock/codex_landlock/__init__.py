"""The built-in ``landlock`` sandbox plugin: confine commands on Linux.

Registered through the ``codex`` entry-point group like any third-party plugin. Importing this
module stays cheap (codex.plugin only): the backend loads when the hook or ``status_lines`` is called.
The confinement itself happens in ``helper.py``, a stdlib-only script the backend wraps every
command in.
"""

from __future__ import annotations

from codex.plugin import hookimpl

# The version of the public plugin API (codex.plugin) this plugin is written for.
CODEX_PLUGIN_API = "1.0"


@hookimpl
def codex_sandboxes() -> list[object]:
    """Offer the Landlock backend; it reports itself unavailable off Linux or without Landlock.

    Example::

        [backend] = codex_sandboxes()
        backend.availability().available  # True on Linux 5.13+ with Landlock enabled
    """
    from codex_landlock.backend import LandlockBackend

    return [LandlockBackend()]


def status_lines() -> list[str]:
    """Human-readable lines saying what this machine enforces (for ``codex sandbox status``).

    Example::

        for line in status_lines():
            print(line)  # "landlock: available - Landlock ABI 7 on kernel 6.18...", "  mount_layer: ..."
    """
    from codex_landlock.backend import LandlockBackend

    availability = LandlockBackend().availability()
    state = "available" if availability.available else "unavailable"
    lines = [f"landlock: {state} - {availability.reason}"]
    lines.extend(f"  {key}: {value}" for key, value in availability.details.items())
    return lines
