"""``python -m codex``: the same as the ``codex`` console script."""

from __future__ import annotations

from codex.cli.entry import main

if __name__ == "__main__":
    raise SystemExit(main())
