"""The ``seatbelt`` sandbox backend: run a command under ``/usr/bin/sandbox-exec`` on macOS."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from codex.plugin import (
    Availability,
    SandboxedCommand,
    SandboxMode,
    SandboxPolicy,
)

# Only the system copy: a sandbox-exec found through PATH could be anything the user (or a
# previous command) put there. If /usr/bin itself is tampered with, the attacker is already root.
SANDBOX_EXEC = "/usr/bin/sandbox-exec"


class SeatbeltBackend:
    """Confine commands with macOS Seatbelt through a generated SBPL profile.

    Example::

        backend = SeatbeltBackend()
        if backend.availability().available:
            command = backend.prepare(["make", "test"], policy, cwd=Path.cwd())
            subprocess.run(command.argv, env={**os.environ, **command.env}, cwd=Path.cwd())
    """

    name = "seatbelt"
    description = "macOS sandbox-exec with a generated Seatbelt (SBPL) profile"
    priority = 100
    # sys.platform prefixes this backend is for; `codex doctor` leaves it out elsewhere.
    platforms = ("darwin",)

    def __init__(self, platform: str | None = None) -> None:
        """``platform`` overrides ``sys.platform`` (for tests of the availability probe)."""
        self._platform = sys.platform if platform is None else platform
        self._availability: Availability | None = None

    def availability(self) -> Availability:
        """Available only on macOS with ``/usr/bin/sandbox-exec`` executable; probed once."""
        if self._availability is None:
            self._availability = self._probe()
        return self._availability

    def _probe(self) -> Availability:
        details = {"platform": self._platform, "executable": SANDBOX_EXEC}
        if self._platform != "darwin":
            return Availability(
                False,
                f"seatbelt needs macOS (sandbox-exec); this machine runs {self._platform}: "
                "use the landlock backend on Linux",
                details,
            )
        if not (os.path.isfile(SANDBOX_EXEC) and os.access(SANDBOX_EXEC, os.X_OK)):
            return Availability(
                False,
                f"{SANDBOX_EXEC} is missing or not executable; it ships with macOS, "
                "so check that the system installation is intact",
                details,
            )
        return Availability(True, "", details)

    def prepare(self, argv: Sequence[str], policy: SandboxPolicy, cwd: Path) -> SandboxedCommand:
        """Wrap ``argv`` as ``sandbox-exec -p PROFILE -DNAME=PATH ... -- argv``.

        ``cwd`` is not part of the profile: the writable roots in ``policy`` are already
        resolved against it. danger-full-access returns ``argv`` unchanged, since there is
        nothing to confine and the peer runs such commands without sandbox-exec too.
        """
        if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
            return SandboxedCommand(list(argv), {})
        from codex_seatbelt.policy import generate_policy  # only where a command is confined

        profile, params = generate_policy(policy)
        wrapped = [SANDBOX_EXEC, "-p", profile]
        wrapped.extend(f"-D{name}={value}" for name, value in params.items())
        wrapped.append("--")
        wrapped.extend(argv)
        return SandboxedCommand(wrapped)
