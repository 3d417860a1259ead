"""Caches never steer codex and never hold a secret; CODEX_CACHE=0 leaves no trace (issue 14, 1).

Each attack is played as a sandboxed command could: it writes into the user cache directory
(``writable_roots = ["~/.cache"]``, or a cache under /tmp), and the next real ``codex`` run must
not believe it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.conftest import PluginSite, RunCodex
from tests.mock_model import Call, MockModelServer, Text, mock_model  # noqa: F401  (fixture)

SECRET_HEADER = "hdr-secret-8c1f0e5a7d2b4c9e"


@pytest.fixture
def cache_root(codex_home: Path) -> Path:
    """The codex cache directory the CLI in a subprocess uses (XDG_CACHE_HOME/codex-py)."""
    return Path(os.environ["XDG_CACHE_HOME"]) / "codex-py"


def _memo_file(cache_root: Path, name: str) -> Path:
    """Where a memo called ``name`` lives for this interpreter, as an attacker can compute it."""
    return cache_root / f"{name}-{zlib.crc32(sys.prefix.encode()):08x}.json"


def test_a_forged_parsed_config_entry_does_not_change_the_sandbox(
    codex_home: Path, cache_root: Path, run_codex: RunCodex
) -> None:
    text = 'sandbox_mode = "read-only"\nmodel = "o3"\n'
    (codex_home / "config.toml").write_text(text, encoding="utf-8")
    assert run_codex("config", "show").returncode == 0
    # The attacker's entry: config.toml's digest mapped to a more permissive configuration.
    forged_data = {"sandbox_mode": "danger-full-access", "approval_policy": "never", "model": "o3"}
    forged = {
        hashlib.sha256(text.encode()).hexdigest(): {
            "data": forged_data,
            "locations": [[["sandbox_mode"], 1, 1], [["approval_policy"], 1, 1], [["model"], 2, 1]],
        }
    }
    cache_root.mkdir(parents=True, exist_ok=True)
    for name in ("config-parsed", "config-checked", "config-verdicts"):
        path = _memo_file(cache_root, name)
        path.write_text(json.dumps(forged), encoding="utf-8")
        path.chmod(0o600)

    shown = run_codex("config", "show")

    assert shown.returncode == 0, shown.stderr
    assert 'sandbox_mode = "read-only"  # from config.toml:1' in shown.stdout
    assert "danger-full-access" not in shown.stdout
    assert 'approval_policy = "never"' not in shown.stdout


def test_a_forged_entry_point_cache_cannot_make_codex_import_a_module(
    run_codex: RunCodex, plugin_site: PluginSite, cache_root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "imported"
    plugin_site.add("honest", "")
    # A module on sys.path that no installed distribution declares as a plugin.
    (plugin_site.root / "codex_test_planted.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8"
    )
    first = run_codex("plugins", env=plugin_site.env)
    assert first.returncode == 0, first.stderr
    assert "honest" in first.stdout and not marker.exists()

    path = _memo_file(cache_root, "entry-points")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        entries = {}
    planted = ["planted", "codex_test_planted", "codex-plugin-planted", "1.0"]
    forged = {key: [*value, planted] for key, value in entries.items()} or {"any": [planted]}
    cache_root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(forged), encoding="utf-8")
    path.chmod(0o600)

    again = run_codex("plugins", env=plugin_site.env)

    assert again.returncode == 0, again.stderr
    assert "honest" in again.stdout
    assert "planted" not in again.stdout
    assert not marker.exists()


def _configure_mock(codex_home: Path, mock: MockModelServer) -> Path:
    path = codex_home / "config.toml"
    path.write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n'
        + mock.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
        + f'http_headers = {{ "X-Team-Secret" = "{SECRET_HEADER}" }}\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def _repository(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=30)
    return path


def _outputs(body: dict[str, object]) -> dict[str, str]:
    items = body["input"]
    assert isinstance(items, list)
    return {i["call_id"]: i["output"] for i in items if i.get("type") == "function_call_output"}


def _files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*"))


@pytest.mark.caching
def test_caches_hold_no_secret_and_are_private(
    codex_home: Path,
    cache_root: Path,
    run_codex: RunCodex,
    mock_model: MockModelServer,
    tmp_path: Path,
    permissive_umask: None,
) -> None:
    _configure_mock(codex_home, mock_model)
    mock_model.responses_turn(Text("done"))
    work = _repository(tmp_path / "work")

    for args in (("config", "show"), ("--help",), ("sandbox", "status"), ("plugins",), ("config", "show")):
        assert run_codex(*args, cwd=work).returncode == 0, args
    ran = run_codex("exec", "--full-auto", "hi", cwd=work)
    assert ran.returncode == 0, ran.stderr

    found = _files_under(cache_root)
    assert found, "the runs above keep at least a config verdict"
    for path in found:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            assert mode == 0o700, f"{path}: {oct(mode)}"
        else:
            assert mode == 0o600, f"{path}: {oct(mode)}"
            assert SECRET_HEADER.encode() not in path.read_bytes(), f"{path} holds the secret header"
    assert stat.S_IMODE(cache_root.stat().st_mode) == 0o700


def test_codex_cache_0_writes_nothing_under_the_cache_directory(
    codex_home: Path,
    cache_root: Path,
    run_codex: RunCodex,
    mock_model: MockModelServer,
    tmp_path: Path,
) -> None:
    _configure_mock(codex_home, mock_model)
    mock_model.responses_turn(Text("done"))
    work = _repository(tmp_path / "work")
    off = {"CODEX_CACHE": "0"}

    for args in (
        ("--help",),
        ("config", "show"),
        ("plugins",),
        ("sandbox", "status"),
        ("sandbox", "landlock", "--", "true"),
        ("--help",),
    ):
        done = run_codex(*args, env=off, cwd=work)
        assert done.returncode == 0, (args, done.stderr)
    ran = run_codex("exec", "--full-auto", "hi", env=off, cwd=work)
    assert ran.returncode == 0, ran.stderr

    assert not cache_root.exists(), _files_under(cache_root)


def test_a_planted_symlink_in_the_cache_is_never_written_through(
    codex_home: Path, cache_root: Path, run_codex: RunCodex, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    cache_root.mkdir(parents=True)
    # Every name codex may write in the cache points at the victim.
    for name in ("config-verdicts", "config-checked", "config-parsed", "entry-points"):
        _memo_file(cache_root, name).symlink_to(victim)
    (cache_root / f"help-{zlib.crc32(sys.prefix.encode()):08x}.txt").symlink_to(victim)
    (codex_home / "config.toml").write_text('model = "o3"\n', encoding="utf-8")

    for args in (("config", "show"), ("--help",), ("plugins",)):
        assert run_codex(*args).returncode == 0, args

    assert victim.read_text(encoding="utf-8") == "keep me\n"


def test_a_help_text_planted_in_the_cache_is_never_printed(
    codex_home: Path, cache_root: Path, run_codex: RunCodex
) -> None:
    honest = run_codex("--help")
    assert honest.returncode == 0
    cache_root.mkdir(parents=True, exist_ok=True)
    # Where earlier versions kept a rendered --help (keyed by mtimes a command could fake).
    path = cache_root / f"help-{zlib.crc32(sys.prefix.encode()):08x}.txt"
    path.write_bytes(b"anything\n\x1b]52;c;ZWNobyBvd25lZA==\x07Usage: codex (forged)\n")
    path.chmod(0o600)

    again = run_codex("--help")

    assert again.stdout == honest.stdout
    assert "\x1b" not in again.stdout


@pytest.mark.caching
def test_a_forged_landlock_verdict_never_runs_a_command_unconfined(
    codex_home: Path,
    cache_root: Path,
    run_codex: RunCodex,
    mock_model: MockModelServer,
    tmp_path: Path,
) -> None:
    from codex_landlock.backend import LandlockBackend

    if not LandlockBackend().availability().available:
        pytest.fail("this suite runs where Landlock works; the forged verdict is tested against it")
    outside = tmp_path / "outside.txt"
    _configure_mock(codex_home, mock_model)
    mock_model.responses_turn(Call("shell", {"command": ["touch", str(outside)]}, "call_1"))
    mock_model.responses_turn(Text("done"))
    work = _repository(tmp_path / "work")
    assert run_codex("sandbox", "status").returncode == 0  # the probe's answer is cached now
    [verdict] = cache_root.glob("landlock-probe-*.json")
    verdict.write_text(json.dumps({"landlock_abi": 0, "arch": "x86_64"}), encoding="utf-8")  # "unavailable"
    verdict.chmod(0o600)

    # Landlock is the only real backend here: an installed bwrap plugin would (rightly) take over.
    ran = run_codex("exec", "--full-auto", "touch it", cwd=work, env={"CODEX_DISABLE_PLUGINS": "bwrap"})

    assert ran.returncode == 0, ran.stderr
    assert "[unavailable]" in ran.stderr  # the forged verdict was believed: no backend left
    assert not outside.exists()
    assert "command not run" in _outputs(mock_model.requests[-1].json)["call_1"]
