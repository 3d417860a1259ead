"""Which real paths apply_patch may write without asking, under a sandbox policy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.sandbox import SandboxPolicy


def write_refusal(
    policy: SandboxPolicy, path: Path, read_only: Sequence[Path] | None = None, existing: Path | None = None
) -> str | None:
    """Why ``path`` (a real path, found by the walk) is not freely writable, or None if it is.

    Writable means: inside a writable root, with no component below that root named like one
    of the policy's protected names (``.git``, ``.codex``), so a nested repository's ``.git`` and
    the ``.git`` of a repository that sits inside ``/tmp`` are covered too, and not inside any of
    the policy's read-only subpaths (``read_only``, when the caller already has them). Under
    danger-full-access everything is writable. ``existing`` is the deepest directory on the way
    that exists: apply_patch creates directories below a writable root, never the root itself.

    >>> from codex.sandbox import SandboxMode, SandboxPolicy
    >>> policy = SandboxPolicy(SandboxMode.WORKSPACE_WRITE, (Path("/w"),))
    >>> write_refusal(policy, Path("/w/sub/.git/config"))
    '/w/sub/.git/config is inside a protected .git directory'
    >>> write_refusal(policy, Path("/w/.CODEX/config.toml"))
    '/w/.CODEX/config.toml is inside a protected .CODEX directory'
    """
    if not policy.is_restrictive:
        return None
    root = next((r for r in policy.writable_roots if path == r or r in path.parents), None)
    if root is None:
        return f"{path} is outside the writable roots"
    if existing is not None and existing != root and root not in existing.parents:
        return f"the writable root {root} does not exist any more"
    # Compared without case: on a case-insensitive file system (macOS) ``.GIT`` is ``.git``.
    protected = {name.casefold() for name in policy.protected_names}
    for name in path.relative_to(root).parts:
        if name.casefold() in protected:
            return f"{path} is inside a protected {name} directory"
    for sub in policy.read_only_subpaths if read_only is None else read_only:
        if path == sub or sub in path.parents:
            return f"{path} is inside the read-only {sub}"
    return None


def write_refusals(policy: SandboxPolicy, targets: Iterable[tuple[Path, Path]]) -> list[str]:
    """Every refusal of :func:`write_refusal` for ``(path, existing)`` pairs, in order."""
    read_only = policy.read_only_subpaths if policy.is_restrictive else ()
    found = (write_refusal(policy, path, read_only, existing) for path, existing in targets)
    return [why for why in found if why is not None]
