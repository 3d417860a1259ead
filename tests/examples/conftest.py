"""The example plugins' tests: only what differs from the rest of the suite."""

from __future__ import annotations

import pytest

BWRAP_TESTS = "tests/examples/test_codex_sandbox_bwrap.py::"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The landlock escape tests run again for the bwrap backend, but not their variants that
    switch the mount layer off to test Landlock alone: bwrap has no such layer to switch."""
    dropped = [item for item in items if item.nodeid.startswith(BWRAP_TESTS) and "landlock-only" in item.name]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
