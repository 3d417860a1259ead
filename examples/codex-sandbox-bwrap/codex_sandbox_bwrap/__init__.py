"""codex-sandbox-bwrap: confine commands with bubblewrap, for Linux machines without Landlock.

The policy becomes mounts in fresh namespaces: the whole filesystem read-only, each writable
root bound writable again, the protected paths inside them bound read-only on top; a new user
namespace with every capability dropped (and no further user namespaces), a new PID namespace
and session, and no network unless the policy allows it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Everything this plugin takes from codex, in one place: the public plugin module.
from codex.plugin import Availability, SandboxBackend, SandboxedCommand, SandboxPolicy, hookimpl

CODEX_PLUGIN_API = "1.0"

NAMESPACES = ["--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc",
              "--new-session", "--die-with-parent"]  # --new-session: no TIOCSTI into the terminal


class BwrapBackend:
    """The ``bwrap`` sandbox backend (select it with ``sandbox_backend = "bwrap"``)."""

    name = "bwrap"
    description = "Linux: bubblewrap namespaces and read-only mounts (no Landlock needed)"
    priority = 50  # below landlock: "auto" takes it only where Landlock is unavailable

    def __init__(self) -> None:
        self._availability: Availability | None = None

    def availability(self) -> Availability:
        """Whether ``bwrap`` is installed and may create its namespaces here (probed once)."""
        if self._availability is None:
            program = shutil.which("bwrap")
            if program is None:
                return Availability(False, "bwrap is not installed (apt install bubblewrap)")
            probe = subprocess.run([program, "--ro-bind", "/", "/", *NAMESPACES, "true"],
                                   capture_output=True, text=True, timeout=10, check=False)
            reason = probe.stderr.strip() or f"exit status {probe.returncode}"
            self._availability = Availability(probe.returncode == 0, "" if probe.returncode == 0 else reason)
        return self._availability

    def prepare(self, argv: Sequence[str], policy: SandboxPolicy, cwd: Path) -> SandboxedCommand:
        """The ``bwrap`` command line that runs ``argv`` in ``cwd`` under ``policy``."""
        if not policy.is_restrictive:
            return SandboxedCommand(list(argv), {})
        wrapped = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *NAMESPACES]
        if not policy.network_access:
            wrapped.append("--unshare-net")
        for root in policy.writable_roots:
            wrapped += ["--bind", str(root), str(root)]
        for path in policy.read_only_subpaths:  # after the roots: the innermost mount wins
            wrapped += ["--ro-bind-try", str(path), str(path)]  # -try: one may be gone since
        return SandboxedCommand([*wrapped, "--chdir", str(cwd), "--", *argv])  # the core adds sandbox_env


@hookimpl
def codex_sandboxes() -> list[SandboxBackend]:
    """Offer the ``bwrap`` backend."""
    return [BwrapBackend()]
