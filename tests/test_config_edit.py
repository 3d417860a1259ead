"""``codex config set/unset`` edits: one line changes, the rest stays byte-identical, bad edits
are refused with the file untouched, and the file is replaced atomically."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from codex.config import load_config
from codex.config.edit import set_config_value, unset_config_value
from codex.errors import ConfigError

COMMENTED = """\
# My codex settings.   (trailing spaces and odd spacing are deliberate)
model   =   "gpt-5"      # the default I like
approval_policy = "on-request"

#  --- sandbox ---
[sandbox_workspace_write]
network_access = false   # flip when needed
writable_roots = [
    "/data",   # big files
]

# Providers I use at work.
[model_providers.work]
name = "Work"
base_url = "https://llm.work.example/v1"
"""


def check_with_loader(home: Path) -> Callable[[str], None]:
    """The validation ``codex config set`` runs: the would-be file must load."""

    def check(text: str) -> None:
        load_config(home=home, config_text=text, plugin_providers={"openai": {"base_url": "https://x/v1"}})

    return check


@pytest.fixture
def config_path(write_config: Callable[[str], Path]) -> Path:
    return write_config(COMMENTED)


def lines_without(text: str, *dropped: str) -> list[str]:
    return [line for line in text.splitlines() if line not in dropped]


def test_changing_a_value_touches_only_its_line(config_path: Path, codex_home: Path) -> None:
    result = set_config_value(config_path, "model", '"o3"', check=check_with_loader(codex_home))
    after = config_path.read_text()
    assert after == COMMENTED.replace('"gpt-5"', '"o3"')
    assert result.previous == "gpt-5"
    assert load_config(home=codex_home, plugin_providers={}).config.model == "o3"


def test_a_new_top_level_key_goes_after_the_last_top_level_key(config_path: Path, codex_home: Path) -> None:
    set_config_value(config_path, "sandbox_mode", "workspace-write", check=check_with_loader(codex_home))
    after = config_path.read_text()
    assert after == COMMENTED.replace(
        'approval_policy = "on-request"\n', 'approval_policy = "on-request"\nsandbox_mode = "workspace-write"\n'
    )


def test_a_new_key_in_a_table_stays_above_the_next_tables_comment(config_path: Path, codex_home: Path) -> None:
    check = check_with_loader(codex_home)
    set_config_value(config_path, "sandbox_workspace_write.exclude_slash_tmp", "true", check=check)
    after = config_path.read_text()
    assert after == COMMENTED.replace("]\n\n# Providers", "]\nexclude_slash_tmp = true\n\n# Providers")


def test_a_new_table_with_a_quoted_key_is_appended(config_path: Path, codex_home: Path) -> None:
    set_config_value(
        config_path, 'model_providers."my.host".base_url', "http://10.0.0.2/v1", check=check_with_loader(codex_home)
    )
    after = config_path.read_text()
    assert after.startswith(COMMENTED)
    assert after[len(COMMENTED) :] == '\n[model_providers."my.host"]\nbase_url = "http://10.0.0.2/v1"\n'
    loaded = load_config(home=codex_home, plugin_providers={})
    assert loaded.config.model_providers["my.host"].base_url == "http://10.0.0.2/v1"


def test_arrays_and_inline_tables(codex_home: Path, config_path: Path) -> None:
    check = check_with_loader(codex_home)
    set_config_value(config_path, "notify", '["notify-send", "done"]', check=check)
    set_config_value(config_path, "shell_environment_policy", '{ inherit = "core" }', check=check)
    loaded = load_config(home=codex_home, plugin_providers={})
    assert loaded.config.notify == ["notify-send", "done"]
    assert loaded.config.shell_environment_policy.inherit == "core"
    assert lines_without(
        config_path.read_text(),
        'notify = ["notify-send", "done"]',
        'shell_environment_policy = {inherit = "core"}',
    ) == COMMENTED.splitlines()


def test_unset_removes_only_that_line(config_path: Path, codex_home: Path) -> None:
    check = check_with_loader(codex_home)
    result = unset_config_value(config_path, "sandbox_workspace_write.network_access", check=check)
    assert result.previous is False
    assert config_path.read_text() == COMMENTED.replace("network_access = false   # flip when needed\n", "")


def test_unsetting_a_missing_key_is_an_error_and_changes_nothing(config_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        unset_config_value(config_path, "history.persistence")
    assert "history.persistence is not set" in str(raised.value)
    assert config_path.read_text() == COMMENTED


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "sandbox_mode",
            "workspace",
            'sandbox_mode: expected one of read-only, workspace-write, danger-full-access; got "workspace"',
        ),
        ("hide_agent_reasoning", "maybe", 'hide_agent_reasoning: expected true or false; got "maybe"'),
        ("model_providers.new.name", "New", "base_url is required"),
        ("profile", "missing", "profile 'missing' is not defined"),
    ],
)
def test_an_invalid_edit_is_refused_and_the_file_is_unchanged(
    config_path: Path, codex_home: Path, key: str, value: str, message: str
) -> None:
    before = config_path.stat()
    with pytest.raises(ConfigError) as raised:
        set_config_value(config_path, key, value, check=check_with_loader(codex_home))
    assert "refused" in str(raised.value) and "was not changed" in str(raised.value)
    assert message in str(raised.value)
    assert config_path.read_text() == COMMENTED
    assert config_path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in codex_home.iterdir()) == ["config.toml"]


def test_unset_that_would_break_the_config_is_refused(config_path: Path, codex_home: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        unset_config_value(config_path, "model_providers.work.base_url", check=check_with_loader(codex_home))
    assert "base_url is required" in str(raised.value)
    assert config_path.read_text() == COMMENTED


def test_setting_a_value_where_a_table_is_refused(config_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        set_config_value(config_path, "sandbox_workspace_write", "true")
    assert "it is a table" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        set_config_value(config_path, "model.name", "x")
    assert "model is a value, not a table" in str(raised.value)
    assert config_path.read_text() == COMMENTED


def test_a_file_with_a_syntax_error_is_not_edited(write_config: Callable[[str], Path]) -> None:
    path = write_config('model = "o3"\n[broken\n')
    with pytest.raises(ConfigError) as raised:
        set_config_value(path, "model", "o4")
    assert f"{path}:2:" in str(raised.value) and "invalid TOML" in str(raised.value)
    assert path.read_text() == 'model = "o3"\n[broken\n'


def test_set_creates_the_file_and_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "new-home" / "config.toml"
    set_config_value(path, "model", "o3")
    assert path.read_text() == 'model = "o3"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_permissions_are_kept_and_no_temporary_file_is_left(config_path: Path) -> None:
    os.chmod(config_path, 0o640)
    set_config_value(config_path, "model", "o3")
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o640
    assert sorted(p.name for p in config_path.parent.iterdir()) == ["config.toml"]


def test_a_symlinked_config_stays_a_symlink(tmp_path: Path, codex_home: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "codex.toml"
    real.write_text(COMMENTED)
    link = codex_home / "config.toml"
    link.symlink_to(real)
    set_config_value(link, "model", "o3")
    assert link.is_symlink()
    assert real.read_text() == COMMENTED.replace('"gpt-5"', '"o3"')
