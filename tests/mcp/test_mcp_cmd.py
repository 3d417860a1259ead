"""`codex mcp list|get|add|remove`: config.toml edits that keep the user's file intact."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from codex.cli.main import cli

USER_FILE = """\
# my settings
model = "o3"  # the one I like

[mcp_servers.docs]
command = "npx"
args = ["-y", "@acme/docs"]  # pinned
"""


@pytest.fixture
def codex(codex_home: Path) -> Callable[..., Result]:
    """Run a `codex` command line in-process (CliRunner) against the test's CODEX_HOME."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return run


def test_add_writes_a_table_and_keeps_comments(codex: Callable[..., Result],
                                               write_config: Callable[[str], Path]) -> None:
    path = write_config(USER_FILE)

    result = codex("mcp", "add", "files", "--env", "ROOT=/srv", "--tool-timeout", "90", "--",
                   "python", "-m", "files_server", "--verbose")

    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert text.startswith(USER_FILE)  # nothing of the user's file moved or changed
    assert '[mcp_servers.files]\ncommand = "python"\nargs = ["-m", "files_server", "--verbose"]' in text
    assert 'env = {ROOT = "/srv"}' in text and "tool_timeout_sec = 90.0" in text
    assert "Added MCP server 'files'" in result.output


def test_list_get_and_json_show_the_configured_servers(codex: Callable[..., Result],
                                                       write_config: Callable[[str], Path]) -> None:
    write_config(USER_FILE + '\n[mcp_servers.remote]\nurl = "https://mcp.example.com/mcp"\n'
                 'bearer_token_env_var = "TOKEN"\n[mcp_servers.remote.env]\n')
    codex("mcp", "add", "files", "--env", "SECRET=hunter2", "--", "python", "server.py")

    listing = codex("mcp", "list")
    assert listing.exit_code == 0
    assert "docs" in listing.output and "stdio npx -y @acme/docs" in listing.output
    assert "http https://mcp.example.com/mcp" in listing.output
    assert "SECRET=*****" in listing.output and "hunter2" not in listing.output

    as_json = json.loads(codex("mcp", "list", "--json").output)
    assert as_json["files"]["env"] == {"SECRET": "hunter2"}
    assert as_json["docs"]["args"] == ["-y", "@acme/docs"]

    one = json.loads(codex("mcp", "get", "remote", "--json").output)
    assert one == {"remote": {**as_json["remote"]}} and one["remote"]["bearer_token_env_var"] == "TOKEN"
    assert "command: \"npx\"" in codex("mcp", "get", "docs").output


def test_add_replaces_an_existing_entry(codex: Callable[..., Result], write_config: Callable[[str], Path]) -> None:
    path = write_config(USER_FILE)

    result = codex("mcp", "add", "docs", "--url", "http://127.0.0.1:9000/mcp", "--header", "X-Team=blue")

    assert "Replaced MCP server 'docs'" in result.output
    text = path.read_text()
    assert 'url = "http://127.0.0.1:9000/mcp"' in text and 'http_headers = {X-Team = "blue"}' in text
    assert '"@acme/docs"' not in text and text.startswith("# my settings\nmodel = \"o3\"  # the one I like\n")


def test_remove_deletes_only_that_table(codex: Callable[..., Result], write_config: Callable[[str], Path]) -> None:
    path = write_config(USER_FILE)
    codex("mcp", "add", "files", "--", "python", "server.py")

    result = codex("mcp", "remove", "docs")

    assert result.exit_code == 0 and "Removed MCP server 'docs'" in result.output
    text = path.read_text()
    assert "[mcp_servers.docs]" not in text and "[mcp_servers.files]" in text
    assert text.startswith("# my settings\nmodel = \"o3\"  # the one I like\n")


def test_mistakes_are_refused_and_the_file_is_untouched(codex: Callable[..., Result],
                                                       write_config: Callable[[str], Path]) -> None:
    path = write_config(USER_FILE)

    cases = {
        ("mcp", "add", "bad name", "--", "x"): "use only letters, digits",
        ("mcp", "add", "both", "--url", "http://x", "--", "cmd"): "either a command",
        ("mcp", "add", "none"): "either a command",
        ("mcp", "add", "envurl", "--url", "http://x", "--env", "A=1"): "--env and --cwd go with a command",
        ("mcp", "add", "pairs", "--env", "NOEQUALS", "--", "cmd"): "expected KEY=VALUE",
        ("mcp", "add", "slow", "--startup-timeout", "0", "--", "cmd"): "0",
        ("mcp", "remove", "ghost"): "no [mcp_servers.ghost]; configured there: docs",
        ("mcp", "get", "ghost"): "no MCP server named 'ghost'",
    }
    for args, expected in cases.items():
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code != 0, args
        assert expected in result.output + str(result.exception), (args, result.output)
    assert path.read_text() == USER_FILE


def test_an_entry_that_would_not_validate_is_refused(codex: Callable[..., Result],
                                                    write_config: Callable[[str], Path]) -> None:
    path = write_config(USER_FILE + "\n[mcp_servers.broken]\nstartup_timeout_sec = -1\n")
    before = path.read_text()

    result = CliRunner().invoke(cli, ["mcp", "add", "files", "--", "python", "x.py"])

    assert result.exit_code != 0
    assert "refused" in str(result.exception) and "startup_timeout_sec" in str(result.exception)
    assert path.read_text() == before


def test_list_says_how_to_add_when_empty(codex: Callable[..., Result]) -> None:
    result = codex("mcp", "list")
    assert result.exit_code == 0 and "codex mcp add NAME -- COMMAND" in result.output
