"""The policy object the confinement helper reads: the one contract between codex and ``helper.py``.

Both ways of starting a confined command send it: the backend as the helper's ``--policy`` JSON
argument, the fork server's client in each request. It lives apart from both so neither imports
the other for it, and it imports nothing of codex at run time (the fork server's client loads it
on its first request).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from codex.plugin import SandboxPolicy


def policy_payload(policy: SandboxPolicy, cwd: Path) -> dict[str, object]:
    """The helper's ``--policy`` object for ``policy`` and working directory ``cwd``.

    Example: ``json.dumps(policy_payload(SandboxPolicy.build(SandboxMode.READ_ONLY, cwd), cwd))``.
    """
    return {
        "mode": policy.mode.value,
        "writable_roots": [str(root) for root in policy.writable_roots],
        "read_only_subpaths": [str(sub) for sub in policy.read_only_subpaths],
        "protected_names": list(policy.protected_names),
        "network": policy.network_access,
        "cwd": os.path.abspath(cwd),
    }
