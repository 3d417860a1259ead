"""The seatbelt backend: availability, the wrapped argv and the plugin hook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import codex_seatbelt
import pluggy
import pytest
from codex_seatbelt.backend import SANDBOX_EXEC, SeatbeltBackend
from codex_seatbelt.policy import generate_policy
from seatbelt_fixtures import Workspace

from codex.execution import confine
from codex.sandbox import SandboxBackend, SandboxMode, SandboxPolicy


def test_backend_identifies_itself() -> None:
    backend = SeatbeltBackend()
    assert isinstance(backend, SandboxBackend)
    assert backend.name == "seatbelt"
    assert backend.priority == 100
    assert "sandbox-exec" in backend.description


@pytest.mark.skipif(sys.platform == "darwin", reason="checks the refusal seen off macOS")
def test_unavailable_off_macos_says_why() -> None:
    availability = SeatbeltBackend().availability()
    assert not availability.available
    assert "macOS" in availability.reason
    assert sys.platform in availability.reason
    assert availability.details["executable"] == SANDBOX_EXEC


@pytest.mark.skipif(os.path.exists(SANDBOX_EXEC), reason=f"{SANDBOX_EXEC} exists here")
def test_unavailable_on_macos_without_sandbox_exec_names_the_path() -> None:
    availability = SeatbeltBackend(platform="darwin").availability()
    assert not availability.available
    assert SANDBOX_EXEC in availability.reason


def test_prepare_wraps_argv_with_profile_and_parameters(workspace: Workspace) -> None:
    policy = workspace.two_roots()
    command = SeatbeltBackend().prepare(["-n", "echo", "hi"], policy, cwd=workspace.project)
    profile, params = generate_policy(policy)
    assert command.argv == [
        "/usr/bin/sandbox-exec",
        "-p",
        profile,
        f"-DWRITABLE_ROOT_0={workspace.project}",
        f"-DWRITABLE_ROOT_0_RO_0={workspace.project / '.git'}",
        f"-DWRITABLE_ROOT_1={workspace.extra}",
        f"-DWRITABLE_ROOT_1_RO_0={workspace.extra / '.codex'}",
        "--",
        "-n",
        "echo",
        "hi",
    ]
    assert len(params) == 4
    # The sandbox variables are the core's to add (codex.execution.confine), not the backend's.
    assert command.env == {}
    confined = confine(SeatbeltBackend(), ["-n", "echo", "hi"], policy, workspace.project)
    assert confined.env == {"CODEX_SANDBOX": "seatbelt", "CODEX_SANDBOX_NETWORK_DISABLED": "1"}


def test_prepare_with_network_leaves_network_flag_out_of_env(workspace: Workspace) -> None:
    command = confine(SeatbeltBackend(), ["curl", "example.com"], workspace.with_network(), Path("."))
    assert command.env == {"CODEX_SANDBOX": "seatbelt"}
    assert command.argv[-3:] == ["--", "curl", "example.com"]
    assert "(allow network-outbound)" in command.argv[2]


def test_read_only_passes_no_parameters(workspace: Workspace) -> None:
    command = SeatbeltBackend().prepare(["ls"], workspace.read_only(), workspace.project)
    assert command.argv[:2] == [SANDBOX_EXEC, "-p"]
    assert command.argv[3:] == ["--", "ls"]


def test_danger_full_access_runs_the_command_unwrapped(workspace: Workspace) -> None:
    policy = SandboxPolicy(SandboxMode.DANGER_FULL_ACCESS, (), True)
    command = SeatbeltBackend().prepare(["ls", "-la"], policy, workspace.project)
    assert command.argv == ["ls", "-la"]
    assert command.env == {}


def test_plugin_hook_offers_the_backend() -> None:
    manager = pluggy.PluginManager("codex")
    manager.register(codex_seatbelt)
    results = manager.hook.codex_sandboxes()
    backends = [backend for group in results for backend in group]
    assert [backend.name for backend in backends] == ["seatbelt"]


def test_importing_the_plugin_loads_neither_backend_nor_policy() -> None:
    repo = Path(__file__).resolve().parents[2]
    code = (
        "import sys, codex_seatbelt; "
        "print(sorted(m for m in sys.modules if m.startswith(('codex_seatbelt.', 'codex.'))))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo / "plugins/seatbelt"), str(repo)])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    # Only the public plugin API (pluggy and the names it loads on first use) comes along.
    assert result.stdout.strip() == "['codex.hookspecs', 'codex.plugin']"
