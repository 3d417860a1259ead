"""Landlock ABI masking, policy decoding and the backend object (no confined commands here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import codex_landlock
import pluggy
import pytest
from codex_landlock import helper
from codex_landlock.backend import LandlockBackend, _fresh_bytecode, describe_probe
from landlock_fixtures import LANDLOCK_ABI, LINUX

import codex.hookspecs
from codex.execution import confine
from codex.sandbox import SANDBOX_SETUP_FAILED, SandboxBackend, SandboxMode, SandboxPolicy

needs_landlock = pytest.mark.skipif(not LINUX or LANDLOCK_ABI < 1, reason="needs Linux 5.13+ with Landlock enabled")

# --- ABI masking --------------------------------------------------------------------------------


def test_handled_rights_grow_with_the_abi() -> None:
    fs1, net1, scope1 = helper.handled_rights(1, network=False)
    assert (fs1, net1, scope1) == ((1 << 13) - 1, 0, 0)
    assert helper.handled_rights(2, False)[0] == fs1 | helper.FS_REFER
    assert helper.handled_rights(3, False)[0] == fs1 | helper.FS_REFER | helper.FS_TRUNCATE
    assert helper.handled_rights(4, False) == (helper.handled_rights(3, False)[0], 0b11, 0)
    assert helper.handled_rights(5, False)[0] & helper.FS_IOCTL_DEV
    assert helper.handled_rights(6, False) == (helper.FS_ALL, 0b11, 0b11)
    # Newer ABIs add nothing this helper uses, so it handles exactly the ABI 6 set there.
    assert helper.handled_rights(7, False) == helper.handled_rights(6, False)
    assert helper.handled_rights(0, False) == (0, 0, 0)


def test_network_on_leaves_tcp_unhandled() -> None:
    assert helper.handled_rights(6, network=True)[1] == 0
    # Signals stay scoped; abstract UNIX sockets are reachable, as on the host.
    assert helper.handled_rights(6, network=True)[2] == helper.SCOPE_SIGNAL


@pytest.mark.parametrize("abi", range(1, 8))
def test_rules_never_grant_unhandled_or_device_creating_rights(abi: int) -> None:
    handled = helper.handled_rights(abi, network=False)[0]
    rules = dict(helper.path_rules(abi, ["/work/project", "/tmp"]))
    for path, rights in rules.items():
        assert rights & ~handled == 0, (path, abi)
    assert rules["/"] == helper.FS_READ_EXECUTE
    for root in ("/work/project", "/tmp"):
        assert rules[root] & (helper.FS_MAKE_CHAR | helper.FS_MAKE_BLOCK | helper.FS_IOCTL_DEV) == 0
        assert rules[root] & helper.FS_WRITE_FILE
        assert bool(rules[root] & helper.FS_REFER) == (abi >= 2)
        assert bool(rules[root] & helper.FS_TRUNCATE) == (abi >= 3)
    assert bool(rules["/dev/null"] & helper.FS_IOCTL_DEV) == (abi >= 5)
    assert "/dev/sda" not in rules


def test_ruleset_attr_is_cut_to_the_struct_the_abi_knows() -> None:
    assert len(helper.ruleset_attr(1, 1, 0, 0)) == 8
    assert len(helper.ruleset_attr(3, 1, 0, 0)) == 8
    assert len(helper.ruleset_attr(4, 1, 3, 0)) == 16
    assert len(helper.ruleset_attr(6, 1, 3, 3)) == 24


@needs_landlock
def test_the_kernel_accepts_the_masked_ruleset_of_every_abi_up_to_its_own() -> None:
    for abi in range(1, LANDLOCK_ABI + 1):
        for network in (False, True):
            attr = helper.ruleset_attr(abi, *helper.handled_rights(abi, network))
            fd = helper.syscall(helper.SYS_LANDLOCK_CREATE_RULESET, attr, len(attr), 0)
            os.close(fd)


# --- policy decoding ----------------------------------------------------------------------------

def test_decode_policy_reads_every_field() -> None:
    policy = helper.decode_policy(
        '{"mode":"workspace-write","writable_roots":["/w","/tmp"],"read_only_subpaths":["/w/.git"],'
        '"network":true,"cwd":"/w","require_mount_namespace":true,"protected_names":[".git"]}'
    )
    assert policy.mode == "workspace-write"
    assert policy.writable_roots == ("/w", "/tmp")
    assert policy.read_only_subpaths == ("/w/.git",)
    assert policy.network is True
    assert policy.cwd == "/w"
    assert policy.require_mount_namespace is True
    assert policy.protected_names == (".git",)


def test_read_only_mode_ignores_writable_roots() -> None:
    policy = helper.decode_policy('{"mode":"read-only","writable_roots":["/w"],"cwd":"/"}')
    assert policy.writable_roots == ()
    assert policy.protected_names == (".git", ".codex")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "must be a JSON object"),
        ('{"mode":"danger-full-access","cwd":"/"}', "mode must be read-only or workspace-write"),
        ('{"mode":"read-only","cwd":"relative"}', "cwd must be an absolute path"),
        ('{"mode":"workspace-write","writable_roots":"/w","cwd":"/"}', "writable_roots must be a list"),
        ('{"mode":"read-only","network":"no","cwd":"/"}', "network must be true or false"),
        ("{mode}", "not valid JSON"),
    ],
)
def test_decode_policy_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(helper.SetupError, match=message):
        helper.decode_policy(text)


def test_protected_subpaths_include_names_found_in_each_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / "nested" / ".codex").mkdir(parents=True)
    policy = helper.Policy(
        "workspace-write", (str(root),), (str(root / "nested" / ".codex"), "/elsewhere/.git"), False, "/"
    )
    found = helper.protected_subpaths(policy, [str(root)])
    assert sorted(found) == [str(root / ".git"), str(root / "nested" / ".codex")]


def test_outermost_drops_nested_roots() -> None:
    assert helper.outermost(["/a/b", "/a", "/c", "/ab"]) == ["/a", "/c", "/ab"]
    assert helper.outermost(["/", "/tmp"]) == ["/"]


def test_setup_failure_exits_126_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(helper.__file__), "--policy", "{not json", "--", "true"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == SANDBOX_SETUP_FAILED
    assert result.stderr.startswith("codex-sandbox: --policy is not valid JSON")
    assert result.stderr.count("\n") == 1


def test_usage_error_is_a_setup_failure() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(helper.__file__), "true"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == SANDBOX_SETUP_FAILED
    assert "usage: helper.py --policy JSON -- COMMAND" in result.stderr


# --- the backend --------------------------------------------------------------------------------


def test_backend_identifies_itself() -> None:
    backend = LandlockBackend()
    assert isinstance(backend, SandboxBackend)
    assert (backend.name, backend.priority) == ("landlock", 100)
    assert "Landlock" in backend.description


def test_unavailable_off_linux_says_why() -> None:
    availability = LandlockBackend(platform="darwin").availability()
    assert not availability.available
    assert "Linux-only" in availability.reason


def test_probe_without_landlock_is_unavailable() -> None:
    availability = describe_probe({"landlock_abi": 0, "arch": "x86_64"}, "5.10.0")
    assert not availability.available
    assert "5.13" in availability.reason


def test_probe_on_an_old_abi_lists_what_is_not_enforced() -> None:
    facts = {"landlock_abi": 2, "arch": "x86_64", "seccomp_arch_supported": True, "mount_namespace": ""}
    availability = describe_probe({**facts, "mount_namespace_error": "EPERM"}, "5.19.0")
    assert availability.available
    assert "truncate" in availability.details["not_enforced"]
    assert "signals" in availability.details["not_enforced"]
    assert "NOT enforced" in availability.details["mount_layer"]


def test_probe_on_an_unsupported_architecture_is_unavailable() -> None:
    facts = {"landlock_abi": 6, "arch": "riscv64", "seccomp_arch_supported": False}
    availability = describe_probe(facts, "6.12.0")
    assert not availability.available
    assert "riscv64" in availability.reason


@needs_landlock
def test_availability_on_this_machine_reports_the_kernel_abi(backend: LandlockBackend) -> None:
    availability = backend.availability()
    assert availability.available, availability.reason
    assert availability.details["landlock_abi"] == str(LANDLOCK_ABI)
    assert availability.details["kernel"] == os.uname().release


def test_prepare_wraps_the_command_in_the_helper(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    policy = SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=tmp_path, network_access=False)
    command = LandlockBackend().prepare(["make", "test"], policy, tmp_path)
    assert command.argv[:3] == [sys.executable, "-I", "-S"]
    assert Path(command.argv[3]).name.startswith("helper")
    assert command.argv[4] == "--policy"
    assert command.argv[6:] == ["--", "make", "test"]
    payload = json.loads(command.argv[5])
    assert payload["mode"] == "workspace-write"
    assert payload["writable_roots"][0] == str(tmp_path.resolve())
    # Only what lies in this workspace: the scan lists other repositories under /tmp (a writable
    # root), and the host's /tmp may hold a .git of its own (bubblewrap leaves one).
    inside = [p for p in payload["read_only_subpaths"] if Path(p).is_relative_to(tmp_path.resolve())]
    assert inside == [str(tmp_path.resolve() / ".git")]
    assert payload["network"] is False
    assert payload["cwd"] == str(tmp_path)
    # The sandbox variables are the core's to add (codex.execution.confine), not the backend's.
    assert command.env == {}
    confined = confine(LandlockBackend(), ["make", "test"], policy, tmp_path)
    assert confined.env == {"CODEX_SANDBOX": "landlock", "CODEX_SANDBOX_NETWORK_DISABLED": "1"}
    assert confined.argv[6:] == ["--", "make", "test"]


def test_prepare_leaves_danger_full_access_unwrapped(tmp_path: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.DANGER_FULL_ACCESS, cwd=tmp_path)
    assert LandlockBackend().prepare(["ls"], policy, tmp_path).argv == ["ls"]


def test_prepare_refuses_an_empty_command(tmp_path: Path) -> None:
    policy = SandboxPolicy.build(SandboxMode.READ_ONLY, cwd=tmp_path)
    with pytest.raises(ValueError, match="empty command"):
        LandlockBackend().prepare([], policy, tmp_path)


def test_helper_bytecode_is_rebuilt_when_the_source_changes(tmp_path: Path) -> None:
    source = tmp_path / "helper.py"
    source.write_text("print('first')\n")
    compiled = _fresh_bytecode(source)
    assert compiled is not None
    first = subprocess.run([sys.executable, compiled], capture_output=True, text=True, timeout=60)
    assert first.stdout == "first\n"
    source.write_text("print('second, longer')\n")
    recompiled = _fresh_bytecode(source)
    assert recompiled is not None
    second = subprocess.run([sys.executable, recompiled], capture_output=True, text=True, timeout=60)
    assert second.stdout == "second, longer\n"


def test_helper_falls_back_to_source_when_bytecode_cannot_be_written(tmp_path: Path) -> None:
    source = tmp_path / "readonly" / "helper.py"
    source.parent.mkdir()
    shutil.copy(helper.__file__, source)
    (source.parent / "__pycache__").write_text("not a directory")
    assert _fresh_bytecode(source) is None


# --- the plugin ---------------------------------------------------------------------------------


def test_the_hook_offers_the_backend() -> None:
    manager = pluggy.PluginManager("codex")
    manager.add_hookspecs(codex.hookspecs)
    manager.register(codex_landlock)
    [backends] = manager.hook.codex_sandboxes()
    assert [backend.name for backend in backends] == ["landlock"]


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    code = (
        "import sys, codex_landlock; "
        "print(sorted(m for m in ('codex_landlock.backend', 'codex_landlock.helper', 'ctypes', "
        "'subprocess') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


@needs_landlock
def test_status_lines_describe_each_layer() -> None:
    lines = codex_landlock.status_lines()
    assert lines[0].startswith(f"landlock: available - Landlock ABI {LANDLOCK_ABI}")
    keys = {line.split(":")[0].strip() for line in lines[1:]}
    assert {"landlock_abi", "mount_layer", "privileges", "seccomp"} <= keys
