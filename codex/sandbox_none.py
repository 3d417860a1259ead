"""The ``none`` sandbox backend: runs commands unconfined.

It is chosen only for ``danger-full-access`` or when a user names it explicitly; ``auto`` never
falls back to it for a restrictive policy (the engine refuses instead of running unconfined).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codex.hookspecs import hookimpl
from codex.plugin import API_VERSION
from codex.sandbox import Availability, SandboxBackend, SandboxedCommand, SandboxPolicy

# The core's own plugins always speak the version of the plugin API they ship with.
CODEX_PLUGIN_API = API_VERSION


class NoSandbox:
    """Runs the command as is. Says so loudly wherever a policy asked for confinement."""

    name = "none"
    description = "no confinement (danger-full-access)"
    priority = 0

    def availability(self) -> Availability:
        return Availability(True, "always available; enforces nothing")

    def prepare(self, argv: Sequence[str], policy: SandboxPolicy, cwd: Path) -> SandboxedCommand:
        return SandboxedCommand(list(argv), {})


@hookimpl
def codex_sandboxes() -> list[SandboxBackend]:
    """The core's only backend; real ones come from the landlock and seatbelt plugins."""
    return [NoSandbox()]
