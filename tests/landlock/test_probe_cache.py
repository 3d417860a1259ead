"""The Landlock probe's answer is cached per kernel, user and helper, so later runs skip it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Linux only; and a test of what a cache saves, so caches are on.
pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="Landlock is Linux-only"), pytest.mark.caching]


def test_second_run_reuses_the_probe_and_a_stale_cache_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_landlock import backend as backend_module
    from codex_landlock.backend import LandlockBackend

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = LandlockBackend().availability()
    [cached] = list((tmp_path / "codex-py").glob("landlock-probe-*.json"))

    def no_probe(*args: object, **kwargs: object) -> object:
        raise OSError("the probe ran again")

    monkeypatch.setattr(subprocess, "run", no_probe)
    second = LandlockBackend().availability()
    assert first.available
    assert (second.available, second.details) == (first.available, first.details)

    monkeypatch.setattr(backend_module, "PROBE_CACHE_SECONDS", -1)
    stale = LandlockBackend().availability()
    assert not stale.available and "the probe ran again" in stale.reason
    assert cached.exists()
