"""`codex sandbox run --backend NAME`: any installed backend, the setup-failure contract, and
the sandbox variables the core adds to every confined command.

A throwaway distribution (``codex-plugin-fakejail``, made with ``plugin_site``) offers a backend
that follows the contract but sets no variables of its own besides ``FAKE_JAIL``: its wrapper
is a real process that reports a setup failure (exit 126 and a ``codex-sandbox:`` line) when
``FAKE_JAIL_FAIL=setup``, and its ``prepare`` raises SandboxError when ``FAKE_JAIL_FAIL=prepare``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import PluginSite, RunCodex
from tests.mock_model import MockModelServer

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the Landlock backend runs on Linux only")

FAKE_JAIL = '''
import os
import sys

from codex.plugin import Availability, SandboxedCommand, SandboxError, hookimpl

CODEX_PLUGIN_API = "1.0"

WRAPPER = """
import os, sys
if os.environ.get("FAKE_JAIL_FAIL") == "setup":
    sys.stderr.write("codex-sandbox: the fake jail has no cell free\\\\n")
    sys.exit(126)
os.execvp(sys.argv[1], sys.argv[1:])
"""


class FakeJail:
    name = "fakejail"
    description = "confines nothing; follows the backend contract"
    priority = 1

    def availability(self):
        return Availability(True, "always")

    def prepare(self, argv, policy, cwd):
        if os.environ.get("FAKE_JAIL_FAIL") == "prepare":
            raise SandboxError("the fake jail needs a key")
        return SandboxedCommand([sys.executable, "-c", WRAPPER, *argv], {"FAKE_JAIL": "yes"})


@hookimpl
def codex_sandboxes():
    return [FakeJail()]
'''

SETUP_FAILED = "could not set up the fakejail sandbox"


@pytest.fixture
def jail(plugin_site: PluginSite) -> PluginSite:
    plugin_site.add("fakejail", FAKE_JAIL)
    return plugin_site


@linux_only
def test_landlock_read_only_denies_a_write(run_codex: RunCodex, tmp_path: Path) -> None:
    result = run_codex("sandbox", "run", "--backend", "landlock", "-s", "read-only", "--", "touch", "x", cwd=tmp_path)

    assert result.returncode == 1
    assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr
    assert "could not set up" not in result.stderr
    assert not (tmp_path / "x").exists()


@linux_only
def test_the_default_backend_is_auto(run_codex: RunCodex, tmp_path: Path) -> None:
    result = run_codex("sandbox", "run", "--full-auto", "--", "sh", "-c", "echo $CODEX_SANDBOX > made", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "made").read_text() == "landlock\n"


def test_an_unknown_backend_lists_the_installed_ones(run_codex: RunCodex, jail: PluginSite, tmp_path: Path) -> None:
    result = run_codex("sandbox", "run", "--backend", "nosuchjail", "--", "true", cwd=tmp_path, env=jail.env)

    assert result.returncode == 2
    assert "unknown sandbox backend 'nosuchjail'; installed backends: " in result.stderr
    assert "fakejail [available]" in result.stderr
    assert "seatbelt [" in result.stderr and "landlock [" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_none_backend_is_refused_for_a_restrictive_policy(run_codex: RunCodex, tmp_path: Path) -> None:
    result = run_codex("sandbox", "run", "--backend", "none", "--", "touch", "x", cwd=tmp_path)

    assert result.returncode == 2
    assert "the none backend confines nothing" in result.stderr
    assert "-s danger-full-access" in result.stderr
    assert not (tmp_path / "x").exists()


def test_a_third_party_backend_gets_the_core_sandbox_variables(
    run_codex: RunCodex, jail: PluginSite, tmp_path: Path
) -> None:
    script = "echo $CODEX_SANDBOX-$CODEX_SANDBOX_NETWORK_DISABLED-$FAKE_JAIL"
    result = run_codex("sandbox", "run", "--backend", "fakejail", "--", "sh", "-c", script, cwd=tmp_path, env=jail.env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fakejail-1-yes"

    networked = run_codex(
        "sandbox", "run", "--backend", "fakejail", "-s", "workspace-write",
        "-c", "sandbox_workspace_write.network_access=true", "--", "sh", "-c", script,
        cwd=tmp_path, env=jail.env,
    )
    assert networked.stdout.strip() == "fakejail--yes"


def test_a_setup_failure_is_told_apart_from_the_command_failing(
    run_codex: RunCodex, jail: PluginSite, tmp_path: Path
) -> None:
    failing_setup = run_codex(
        "sandbox", "run", "--backend", "fakejail", "--", "touch", "ran",
        cwd=tmp_path, env={**jail.env, "FAKE_JAIL_FAIL": "setup"},
    )
    assert failing_setup.returncode == 126
    assert f"{SETUP_FAILED}: the fake jail has no cell free; the command did not run" in failing_setup.stderr
    assert not (tmp_path / "ran").exists()

    failing_prepare = run_codex(
        "sandbox", "run", "--backend", "fakejail", "--", "touch", "ran",
        cwd=tmp_path, env={**jail.env, "FAKE_JAIL_FAIL": "prepare"},
    )
    assert failing_prepare.returncode == 126
    assert f"{SETUP_FAILED}: the fake jail needs a key; the command did not run" in failing_prepare.stderr
    assert not (tmp_path / "ran").exists()

    # The command's own 126 (no codex-sandbox: line) and a codex-sandbox: line with another status
    # are the command's failure: its status, and no word about the sandbox.
    own_126 = run_codex("sandbox", "run", "--backend", "fakejail", "--", "sh", "-c", "exit 126", env=jail.env)
    assert own_126.returncode == 126
    assert "could not set up" not in own_126.stderr
    printed = run_codex(
        "sandbox", "run", "--backend", "fakejail", "--", "sh", "-c", "echo 'codex-sandbox: hi' >&2; exit 3",
        env=jail.env,
    )
    assert printed.returncode == 3
    assert printed.stderr == "codex-sandbox: hi\n"


def test_the_shell_tool_gets_the_core_sandbox_variables_from_a_third_party_backend(
    run_codex: RunCodex, jail: PluginSite, codex_home: Path, mock_model: MockModelServer, git_workspace: Path
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\nsandbox_backend = "fakejail"\n'
        + mock_model.provider_toml(request_max_retries=0)
    )
    script = "echo vars:$CODEX_SANDBOX-$CODEX_SANDBOX_NETWORK_DISABLED-$FAKE_JAIL"
    mock_model.responses_call("shell", {"command": ["sh", "-c", script]}, call_id="call_1")
    mock_model.responses_text("done")

    result = run_codex("exec", "go", cwd=git_workspace, env=jail.env, timeout=60)

    assert result.returncode == 0, result.stderr
    items = mock_model.requests[-1].json["input"]
    told = next(str(i["output"]) for i in items if i.get("call_id") == "call_1" and "output" in i)
    assert "vars:fakejail-1-yes" in told


def test_the_old_subcommands_remain_aliases(run_codex: RunCodex) -> None:
    result = run_codex("sandbox", "linux", "--help")

    assert result.returncode == 0
    assert "codex sandbox run --backend landlock" in result.stdout
