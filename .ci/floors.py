"""Print pip constraints that pin every runtime dependency to the floor pyproject.toml declares.

CI installs the project once with the newest versions pip resolves and once with these, so a
floor that no longer works (or that another dependency no longer allows) fails here first.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def main() -> int:
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in project["project"]["dependencies"]:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([^,;\s]+)\s*", requirement)
        if match is None:
            message = f"floors.py: cannot read a floor from {requirement!r}; declare it as 'name>=version'"
            print(message, file=sys.stderr)
            return 1
        name = re.sub(r"\[.*\]", "", match.group(1))
        print(f"{name}=={match.group(2)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
