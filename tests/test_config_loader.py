"""Loading config.toml: precedence, profiles, providers, flags, and errors that point at the line."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex.config import LoadedConfig, codex_home, load_config
from codex.errors import ConfigError, UsageError

OPENAI = {"name": "OpenAI", "base_url": "https://api.openai.com/v1", "env_key": "OPENAI_API_KEY"}
OSS = {"name": "gpt-oss", "base_url": "http://localhost:11434/v1", "wire_api": "chat"}
PLUGIN_PROVIDERS = {"openai": OPENAI, "oss": OSS}
WriteConfig = Callable[[str], Path]


def load(home: Path, **kwargs: Any) -> LoadedConfig:
    kwargs.setdefault("plugin_providers", PLUGIN_PROVIDERS)
    return load_config(home=home, **kwargs)


# --- precedence -------------------------------------------------------------------------------

LEVELS = ["default", "config.toml", "profile", "-c", "--model"]


@pytest.mark.parametrize("top", range(len(LEVELS)))
def test_each_level_beats_the_one_below(codex_home: Path, write_config: WriteConfig, top: int) -> None:
    present = LEVELS[: top + 1]
    text = ""
    if "config.toml" in present:
        text += 'model = "from-file"\n'
    if "profile" in present:
        text += 'profile = "p"\n[profiles.p]\nmodel = "from-profile"\n'
    write_config(text)
    loaded = load(
        codex_home,
        cli_overrides=["model=from-c"] if "-c" in present else [],
        flags={"model": "from-flag"} if "--model" in present else {},
    )
    expected_model = {
        "default": "gpt-5-codex",
        "config.toml": "from-file",
        "profile": "from-profile",
        "-c": "from-c",
        "--model": "from-flag",
    }[LEVELS[top]]
    expected_origin = {
        "default": "default",
        "config.toml": "config.toml:1",
        "profile": "profile p",
        "-c": "-c",
        "--model": "--model",
    }[LEVELS[top]]
    assert loaded.config.model == expected_model
    assert loaded.origins["model"] == expected_origin


def test_nested_tables_merge_key_by_key_across_levels(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(
        """\
        [sandbox_workspace_write]
        network_access = true
        writable_roots = ["/data"]
        """
    )
    loaded = load(codex_home, cli_overrides=["sandbox_workspace_write.exclude_slash_tmp=true"])
    section = loaded.config.sandbox_workspace_write
    assert (section.network_access, section.writable_roots, section.exclude_slash_tmp) == (True, ["/data"], True)
    assert loaded.origins["sandbox_workspace_write.network_access"] == "config.toml:2"
    assert loaded.origins["sandbox_workspace_write.writable_roots"] == "config.toml:3"
    assert loaded.origins["sandbox_workspace_write.exclude_slash_tmp"] == "-c"
    assert loaded.origins["sandbox_workspace_write.exclude_tmpdir_env_var"] == "default"


def test_the_last_of_several_overrides_wins(codex_home: Path) -> None:
    assert load(codex_home, cli_overrides=["model=a", "model=b"]).config.model == "b"


def test_a_missing_config_file_means_defaults(codex_home: Path) -> None:
    loaded = load(codex_home)
    assert not (codex_home / "config.toml").exists()
    assert loaded.config.sandbox_mode == "read-only"
    assert loaded.config_path == codex_home / "config.toml"
    assert loaded.warnings == []
    assert set(loaded.origins.values()) <= {"default", "plugin"}


# --- profiles -------------------------------------------------------------------------------------

PROFILES = """\
model = "base"
approval_policy = "untrusted"
profile = "slow"

[profiles.fast]
model = "fast-model"
sandbox_mode = "workspace-write"

[profiles.fast.sandbox_workspace_write]
network_access = true

[profiles.slow]
model = "slow-model"
"""


def test_profile_named_in_the_file_is_used(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(PROFILES)
    loaded = load(codex_home)
    assert loaded.config.model == "slow-model"
    assert loaded.config.approval_policy == "untrusted"  # not in the profile: the file's value


def test_profile_flag_beats_the_file_choice(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(PROFILES)
    loaded = load(codex_home, profile="fast")
    assert loaded.config.profile == "fast"
    assert loaded.origins["profile"] == "--profile"
    assert loaded.config.model == "fast-model"
    assert loaded.config.sandbox_mode == "workspace-write"
    assert loaded.config.sandbox_workspace_write.network_access is True
    assert loaded.origins["sandbox_workspace_write.network_access"] == "profile fast"


def test_profile_can_be_chosen_and_edited_with_c(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(PROFILES)
    loaded = load(codex_home, cli_overrides=["profile=fast", "profiles.fast.model=edited"])
    assert loaded.config.model == "edited"


def test_c_beats_the_profile(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(PROFILES)
    loaded = load(codex_home, profile="fast", cli_overrides=["sandbox_mode=read-only"])
    assert loaded.config.sandbox_mode == "read-only"
    assert loaded.origins["sandbox_mode"] == "-c"


def test_an_undefined_profile_is_an_error_listing_the_defined_ones(
    codex_home: Path, write_config: WriteConfig
) -> None:
    write_config(PROFILES)
    with pytest.raises(ConfigError) as raised:
        load(codex_home, profile="turbo")
    message = str(raised.value)
    assert "profile 'turbo' is not defined" in message
    assert "fast, slow" in message
    assert message.startswith("--profile turbo:")


def test_an_undefined_profile_named_in_the_file_points_at_its_line(
    codex_home: Path, write_config: WriteConfig
) -> None:
    path = write_config('model = "x"\nprofile = "gone"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert str(raised.value).startswith(f"{path}:2:11: profile 'gone' is not defined (profiles defined: none)")


# --- providers ------------------------------------------------------------------------------------


def test_user_provider_table_overrides_a_plugin_entry_field_by_field(
    codex_home: Path, write_config: WriteConfig
) -> None:
    write_config(
        """\
        [model_providers.openai]
        base_url = "http://proxy.internal/v1"
        request_max_retries = 9
        """
    )
    loaded = load(codex_home, provider_plugins={"openai": "openai", "oss": "ollama"})
    openai = loaded.config.model_providers["openai"]
    assert openai.base_url == "http://proxy.internal/v1"
    assert openai.request_max_retries == 9
    assert openai.env_key == "OPENAI_API_KEY"  # kept from the plugin
    assert openai.id == "openai"
    assert loaded.origins["model_providers.openai.base_url"] == "config.toml:2"
    assert loaded.origins["model_providers.openai.env_key"] == "plugin openai"
    assert loaded.config.model_providers["oss"].id == "oss"
    assert loaded.origins["model_providers.oss.base_url"] == "plugin ollama"


def test_a_new_provider_needs_a_base_url(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('model = "x"\n\n[model_providers.acme]\nname = "Acme"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    message = str(raised.value)
    assert message.startswith(f"{path}:3:1: model_providers.acme: base_url is required")
    assert "openai, oss" in message


def test_a_new_provider_from_c(codex_home: Path) -> None:
    loaded = load(
        codex_home,
        cli_overrides=['model_providers."my.host".base_url=http://10.0.0.2/v1', "model_provider=my.host"],
    )
    assert loaded.config.provider().base_url == "http://10.0.0.2/v1"
    assert loaded.config.provider().id == "my.host"
    assert loaded.origins['model_providers."my.host".base_url'] == "-c"


def test_a_new_provider_from_c_without_base_url_names_the_argument(codex_home: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load(codex_home, cli_overrides=["model_providers.acme.name=Acme"])
    assert str(raised.value).startswith("-c model_providers.acme.name=Acme: model_providers.acme: base_url")


# --- dedicated flags ------------------------------------------------------------------------------


def test_oss_picks_the_local_provider_and_default_model(codex_home: Path) -> None:
    loaded = load(codex_home, flags={"oss": True})
    assert (loaded.config.model_provider, loaded.config.model) == ("oss", "gpt-oss:20b")
    assert loaded.origins["model_provider"] == loaded.origins["model"] == "--oss"


def test_oss_follows_oss_provider_and_oss_model(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('oss_provider = "lmstudio"\noss_model = "qwen3"\n[model_providers.lmstudio]\nbase_url = "http://h/v1"\n')
    loaded = load(codex_home, flags={"oss": True})
    assert (loaded.config.model_provider, loaded.config.model) == ("lmstudio", "qwen3")


def test_model_flag_beats_oss_default(codex_home: Path) -> None:
    loaded = load(codex_home, flags={"oss": True, "model": "gpt-oss:120b"})
    assert loaded.config.model == "gpt-oss:120b"
    assert loaded.origins["model"] == "--model"


def test_full_auto_and_bypass(codex_home: Path) -> None:
    auto = load(codex_home, flags={"full_auto": True})
    assert (auto.config.sandbox_mode, auto.config.approval_policy) == ("workspace-write", "on-failure")
    assert auto.origins["sandbox_mode"] == "--full-auto"
    yolo = load(codex_home, flags={"dangerously_bypass": True})
    assert (yolo.config.sandbox_mode, yolo.config.approval_policy) == ("danger-full-access", "never")


def test_explicit_sandbox_and_approval_beat_the_shortcuts(codex_home: Path) -> None:
    loaded = load(codex_home, flags={"full_auto": True, "sandbox_mode": "read-only", "approval_policy": "never"})
    assert (loaded.config.sandbox_mode, loaded.config.approval_policy) == ("read-only", "never")
    assert loaded.origins["sandbox_mode"] == "--sandbox"


def test_full_auto_and_bypass_together_is_a_usage_error(codex_home: Path) -> None:
    with pytest.raises(UsageError) as raised:
        load(codex_home, flags={"full_auto": True, "dangerously_bypass": True})
    assert raised.value.exit_code == 2


def test_flags_beat_c(codex_home: Path) -> None:
    loaded = load(codex_home, cli_overrides=["sandbox_mode=danger-full-access"], flags={"sandbox_mode": "read-only"})
    assert loaded.config.sandbox_mode == "read-only"


def test_cd_is_resolved_against_the_given_cwd(codex_home: Path, tmp_path: Path) -> None:
    (tmp_path / "project" / "sub").mkdir(parents=True)
    loaded = load(codex_home, flags={"cwd": "sub"}, cwd=tmp_path / "project")
    assert loaded.cwd == (tmp_path / "project" / "sub").resolve()
    assert load(codex_home, cwd=tmp_path).cwd == tmp_path
    assert load(codex_home).cwd == Path(os.getcwd())


def test_cd_to_a_missing_directory_is_a_usage_error(codex_home: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        load(codex_home, flags={"cwd": str(tmp_path / "nope")})
    assert "--cd" in str(raised.value) and "no such directory" in str(raised.value)


# --- unknown keys ---------------------------------------------------------------------------------


def test_unknown_keys_warn_once_each_with_their_line(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config(
        """\
        modle = "o3"
        profile = "p"

        [profiles.p]
        colour = "blue"

        [sandbox_workspace_write]
        network = true
        """
    )
    loaded = load(codex_home, cli_overrides=["bogus.key=1"])
    assert loaded.warnings == [
        f"{path}:1:9: unknown config key modle; it is ignored (did you mean model?)",
        f"{path}:5:10: unknown config key profiles.p.colour; it is ignored",
        f"{path}:8:11: unknown config key sandbox_workspace_write.network; it is ignored "
        "(did you mean network_access?)",
        "-c bogus.key=1: unknown config key bogus; it is ignored",
    ]


def test_strict_config_turns_unknown_keys_into_errors(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('modle = "o3"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home, strict=True)
    assert f"{path}:1:9: unknown config key modle" in str(raised.value)
    assert "--strict-config" in str(raised.value)


def test_known_keys_of_the_peer_do_not_warn(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(
        """\
        model = "o3"
        model_reasoning_effort = "high"
        base-instructions = "You are terse."
        notify = ["notify-send"]
        [shell_environment_policy]
        inherit = "core"
        set = { PAGER = "cat" }
        [mcp_servers.docs]
        command = "docs-server"
        args = ["--stdio"]
        env = { TOKEN_FILE = "/run/token" }
        [history]
        persistence = "none"
        [analytics]
        enabled = false
        """
    )
    loaded = load(codex_home)
    assert loaded.warnings == []
    assert loaded.config.base_instructions == "You are terse."
    assert loaded.config.mcp_servers["docs"].args == ["--stdio"]
    assert loaded.config.analytics.enabled is False


def test_peer_analytics_switch_is_type_checked(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('[analytics]\nenabled = "no"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert f"{path}:2:11: analytics.enabled" in str(raised.value)


# --- bad input ------------------------------------------------------------------------------------


def test_syntax_error_shows_file_line_column_and_the_line(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('model = "o3"\nsandbox mode = "read-only"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert str(raised.value).splitlines() == [
        f"{path}:2:9: invalid TOML: Expected '=' after a key in a key/value pair",
        '    2 | sandbox mode = "read-only"',
        "      |         ^",
    ]


def test_unterminated_string_at_the_end(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('model = "o3')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    first = str(raised.value).splitlines()[0]
    assert first.startswith(f"{path}:1:") and "invalid TOML" in first


def test_enum_error_points_at_the_value(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('# my settings\nmodel = "o3"\nsandbox_mode = "workspace"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert str(raised.value) == (
        f'{path}:3:16: sandbox_mode: expected one of read-only, workspace-write, danger-full-access; got "workspace"'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('hide_agent_reasoning = "yes"', 'hide_agent_reasoning: expected true or false; got "yes"'),
        ('project_doc_max_bytes = "5"', 'project_doc_max_bytes: expected an integer; got "5"'),
        ("notify = 3", "notify: expected an array; got 3"),
        ("[model_providers.openai]\nrequest_max_retries = -1",
         "model_providers.openai.request_max_retries: expected a value greater than or equal to 0; got -1"),
        ("sandbox_workspace_write = 1", "sandbox_workspace_write: expected a table; got 1"),
        (
            '[shell_environment_policy]\nexclude = ["A", 2]',
            "shell_environment_policy.exclude.1: expected a string; got 2",
        ),
    ],
)
def test_type_errors_name_the_key_the_value_and_what_is_allowed(
    codex_home: Path, write_config: WriteConfig, text: str, expected: str
) -> None:
    path = write_config(text + "\n")
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    message = str(raised.value)
    assert message.startswith(f"{path}:")
    assert message.endswith(expected)


def test_bad_value_in_a_profile_is_reported_once_at_its_line(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('profile = "p"\n\n[profiles.p]\nsandbox_mode = "open"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert str(raised.value) == (
        f'{path}:4:16: profiles.p.sandbox_mode: expected one of read-only, workspace-write, '
        'danger-full-access; got "open"'
    )


def test_bad_value_from_c_names_the_argument(codex_home: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load(codex_home, cli_overrides=["oss.context_window=big"])
    assert str(raised.value) == '-c oss.context_window=big: oss.context_window: expected an integer; got "big"'


def test_every_bad_value_is_listed(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('sandbox_mode = "x"\nhide_agent_reasoning = 1\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    lines = str(raised.value).splitlines()
    assert len(lines) == 2
    assert ":1:16: sandbox_mode" in lines[0] and ":2:24: hide_agent_reasoning" in lines[1]


def test_locations_survive_multiline_strings_and_arrays(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config(
        '''\
        instructions = """
        line with "quotes" and = signs
        [not a table]
        """
        notify = [
          "a", # comment ]
          "b",
        ]
        [history]
        persistence = 'never'
        '''
    )
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert str(raised.value).startswith(f"{path}:10:15: history.persistence: expected one of save-all, none")


def test_inline_table_values_are_located(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('model = "x"\nhistory = { persistence = "none", max_bytes = "big" }\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert str(raised.value).startswith(f"{path}:2:47: history.max_bytes: expected an integer")


def test_a_file_that_is_not_utf8_is_an_error(codex_home: Path) -> None:
    (codex_home / "config.toml").write_bytes(b'model = "o3"\ninstructions = "caf\xe9"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert ":2: the file is not valid UTF-8" in str(raised.value)


def test_codex_home_comes_from_the_environment(tmp_path: Path) -> None:
    assert codex_home({"CODEX_HOME": str(tmp_path)}) == tmp_path
    assert codex_home({}) == Path.home() / ".codex"
    assert codex_home({"CODEX_HOME": "~/elsewhere"}) == Path.home() / "elsewhere"


def test_config_text_replaces_the_file(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('model = "on-disk"\n')
    assert load(codex_home, config_text='model = "candidate"\n').config.model == "candidate"


def test_an_empty_new_provider_table_points_at_its_header(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('model = "x"\n[model_providers.acme]\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home)
    assert str(raised.value).startswith(f"{path}:2:1: model_providers.acme: base_url is required")
