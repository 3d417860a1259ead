"""A config.toml written for (and by) the Rust CLI 0.169 loads as is.

Keys that mean something here are used (reasoning effort, raw reasoning, AGENTS.md fallbacks,
project trust, profile files); the rest load silently and ``codex config show`` says why they do
nothing. A key neither program knows still warns.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex.config import LoadedConfig, load_config
from codex.config.model import Config, field_types
from codex.config.peer_keys import peer_only_reason
from codex.errors import ConfigError
from tests.conftest import RunCodex
from tests.mock_model import MockModelServer, Text, Thinking, mock_model  # noqa: F401  (fixture)

WriteConfig = Callable[[str], Path]
PLUGIN_PROVIDERS = {"openai": {"name": "OpenAI", "base_url": "https://api.openai.com/v1", "env_key": "OPENAI_API_KEY"}}

# What the Rust CLI 0.169 wrote and read on a real machine: the six keys that warned on every run,
# and the reasoning effort that was fatal.
PEER_CONFIG = """\
model = "gpt-5.1-codex-max"
model_reasoning_effort = "xhigh"
model_context_window = 400000
show_raw_agent_reasoning = true
project_doc_fallback_filenames = ["CLAUDE.md"]

[features]
web_search_request = true
unified_exec = false

[tui]
notifications = true

[projects."/home/someone/src/app"]
trust_level = "trusted"

[analytics]
enabled = false
"""

# Every top-level key of the Rust CLI's documented config (config reference / config.schema.json).
PEER_TOP_LEVEL = (
    "agents", "allow_login_shell", "analytics", "approval_policy", "approvals_reviewer", "apps",
    "apps_mcp_product_sku", "audio", "auto_review", "background_terminal_max_timeout", "chatgpt_base_url",
    "check_for_update_on_startup", "cli_auth_credentials_store", "compact_prompt", "debug",
    "default_permissions", "desktop", "developer_instructions", "disable_paste_burst",
    "experimental_compact_prompt_file", "experimental_realtime_start_instructions",
    "experimental_realtime_ws_backend_prompt", "experimental_realtime_ws_base_url",
    "experimental_realtime_ws_model", "experimental_realtime_ws_startup_context",
    "experimental_thread_config_endpoint", "experimental_thread_store", "experimental_use_unified_exec_tool",
    "features", "feedback", "file_opener", "forced_chatgpt_workspace_id", "forced_login_method",
    "ghost_snapshot", "hide_agent_reasoning", "history", "hooks", "include_apps_instructions",
    "include_collaboration_mode_instructions", "include_environment_context",
    "include_permissions_instructions", "instructions", "log_dir", "marketplaces", "mcp_oauth_callback_port",
    "mcp_oauth_callback_url", "mcp_oauth_credentials_store", "mcp_servers", "memories", "model",
    "model_auto_compact_token_limit", "model_auto_compact_token_limit_scope", "model_catalog_json",
    "model_context_window", "model_instructions_file", "model_provider", "model_providers",
    "model_reasoning_effort", "model_reasoning_summary", "model_supports_reasoning_summaries",
    "model_verbosity", "notice", "notify", "openai_base_url", "oss_provider", "otel", "permissions",
    "personality", "plan_mode_reasoning_effort", "plugins", "profile", "profiles",
    "project_doc_fallback_filenames", "project_doc_max_bytes", "project_root_markers", "projects", "realtime",
    "review_model", "sandbox_mode", "sandbox_workspace_write", "service_tier", "shell_environment_policy",
    "show_raw_agent_reasoning", "skills", "sqlite_home", "suppress_unstable_features_warning",
    "tool_output_token_limit", "tool_suggest", "tools", "tui", "web_search", "windows",
)


def load(home: Path, **kwargs: Any) -> LoadedConfig:
    kwargs.setdefault("plugin_providers", PLUGIN_PROVIDERS)
    return load_config(home=home, **kwargs)


def test_a_real_peer_config_loads_without_a_warning(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(PEER_CONFIG)
    loaded = load(codex_home)
    assert loaded.warnings == []
    assert loaded.config.model_reasoning_effort == "xhigh"
    assert loaded.config.model_context_window == 400000
    assert loaded.config.show_raw_agent_reasoning is True
    assert loaded.config.project_doc_fallback_filenames == ["CLAUDE.md"]


@pytest.mark.parametrize("key", PEER_TOP_LEVEL)
def test_every_documented_top_level_key_is_declared_or_explained(key: str) -> None:
    assert key in field_types(Config) or peer_only_reason((key,)), key


@pytest.mark.parametrize("effort", ["none", "minimal", "low", "medium", "high", "xhigh"])
def test_every_reasoning_effort_of_the_peer_is_accepted(codex_home: Path, effort: str) -> None:
    assert load(codex_home, cli_overrides=[f"model_reasoning_effort={effort}"]).config.model_reasoning_effort == effort


def test_a_key_neither_program_knows_still_warns(codex_home: Path, write_config: WriteConfig) -> None:
    path = write_config('modle = "o3"\n[tui]\nnotifications = true\n[mcp_servers.x]\ncommand = "x"\nscopes = ["a"]\n')
    loaded = load(codex_home)
    assert loaded.warnings == [f"{path}:1:9: unknown config key modle; it is ignored (did you mean model?)"]


def test_peer_keys_inside_a_profile_are_accepted(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('[profiles.deep]\nmodel_reasoning_effort = "xhigh"\npersonality = "pragmatic"\n')
    loaded = load(codex_home, profile="deep")
    assert loaded.warnings == []
    assert loaded.config.model_reasoning_effort == "xhigh"


def test_config_show_lists_the_accepted_unused_keys_with_reasons(
    run_codex: RunCodex, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config(PEER_CONFIG)
    result = run_codex("config", "show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warning per run
    section = result.stdout.split("# Accepted from the Rust CLI, not used here:\n", 1)[1]
    assert "#   features (config.toml:8) — the Rust CLI's feature flags" in section
    assert "#   tui (config.toml:12) — " in section
    assert 'model_reasoning_effort = "xhigh"  # from config.toml:2' in result.stdout
    as_json = json.loads(run_codex("config", "show", "--json", cwd=tmp_path).stdout)
    assert set(as_json["accepted_not_used"]) == {"features", "tui"}


# --- profiles as files ---------------------------------------------------------------------------


def test_a_profile_file_is_a_layer_over_config_toml(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('model = "base"\nsandbox_mode = "read-only"\n')
    (codex_home / "work.config.toml").write_text('model = "o3"\n\n[tui]\nnotifications = true\n')
    loaded = load(codex_home, profile="work")
    assert loaded.warnings == []
    assert loaded.config.model == "o3"
    assert loaded.origins["model"] == "work.config.toml:1"
    assert loaded.config.sandbox_mode == "read-only"


def test_profile_file_and_table_both_apply_and_the_file_wins(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('profile = "work"\n[profiles.work]\nmodel = "from-table"\nsandbox_mode = "workspace-write"\n')
    (codex_home / "work.config.toml").write_text('model = "from-file"\n')
    loaded = load(codex_home)
    assert loaded.config.model == "from-file"
    assert loaded.config.sandbox_mode == "workspace-write"
    assert loaded.origins["sandbox_mode"] == "profile work"


def test_a_bad_value_in_a_profile_file_names_the_file_and_line(codex_home: Path, write_config: WriteConfig) -> None:
    path = codex_home / "work.config.toml"
    path.write_text('model = "o3"\nsandbox_mode = "workspace"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home, profile="work")
    assert str(raised.value).startswith(f"{path}:2:16: sandbox_mode")


def test_unknown_keys_in_a_profile_file_warn_at_their_line(codex_home: Path) -> None:
    path = codex_home / "work.config.toml"
    path.write_text('model = "o3"\nmodle = "x"\n')
    assert load(codex_home, profile="work").warnings[0].startswith(f"{path}:2:9: unknown config key modle")


def test_an_undefined_profile_lists_tables_and_files(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('[profiles.fast]\nmodel = "a"\n')
    (codex_home / "work.config.toml").write_text('model = "b"\n')
    with pytest.raises(ConfigError) as raised:
        load(codex_home, profile="turbo")
    message = str(raised.value)
    assert "profiles defined: fast, work" in message and str(codex_home / "turbo.config.toml") in message


# --- [projects] trust ------------------------------------------------------------------------------


def test_a_trusted_project_defaults_to_workspace_write(
    codex_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    repo = tmp_path / "app"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    write_config(f'[projects."{repo}"]\ntrust_level = "trusted"\n')
    loaded = load(codex_home, cwd=repo / "src")  # inside the repository, as the Rust CLI looks it up
    assert loaded.config.sandbox_mode == "workspace-write"
    assert loaded.origins["sandbox_mode"] == f'projects."{repo}".trust_level (config.toml:2)'
    assert load(codex_home, cwd=repo, flags={"sandbox_mode": "read-only"}).config.sandbox_mode == "read-only"
    assert load(codex_home, cwd=tmp_path).config.sandbox_mode == "read-only"


def test_an_untrusted_project_asks_before_commands(
    codex_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config(f'approval_policy = "on-request"\n[projects."{tmp_path}"]\ntrust_level = "untrusted"\n')
    assert load(codex_home, cwd=tmp_path).config.approval_policy == "on-request"  # the file says so
    write_config(f'[projects."{tmp_path}"]\ntrust_level = "untrusted"\n')
    loaded = load(codex_home, cwd=tmp_path)
    # As the Rust CLI 0.169: a listed folder, trusted or not, gets workspace-write.
    assert (loaded.config.approval_policy, loaded.config.sandbox_mode) == ("untrusted", "workspace-write")


# --- keys that change a run -----------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def configure(codex_home: Path, mock: MockModelServer, extra: str = "") -> None:
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.1-codex"\nmodel_provider = "mock"\n' + extra
        + mock.provider_toml("mock", "responses", request_max_retries=0, stream_max_retries=0)
    )


def test_agents_md_fallback_names_are_read_and_effort_is_sent(
    run_codex: RunCodex, codex_home: Path, mock_model: MockModelServer, repo: Path
) -> None:
    (repo / "CLAUDE.md").write_text("Always answer in haiku.\n")
    settings = 'model_reasoning_effort = "xhigh"\nproject_doc_fallback_filenames = ["CLAUDE.md"]\n'
    configure(codex_home, mock_model, settings)
    mock_model.responses_text("ok")
    result = run_codex("exec", "hi", cwd=repo)
    assert result.returncode == 0, result.stderr
    body = mock_model.requests[0].json
    assert "Always answer in haiku." in json.dumps(body["input"])
    assert body["reasoning"]["effort"] == "xhigh"


def test_without_the_fallback_setting_claude_md_is_not_read(
    run_codex: RunCodex, codex_home: Path, mock_model: MockModelServer, repo: Path
) -> None:
    (repo / "CLAUDE.md").write_text("Always answer in haiku.\n")
    configure(codex_home, mock_model)
    mock_model.responses_text("ok")
    assert run_codex("exec", "hi", cwd=repo).returncode == 0
    assert "haiku" not in json.dumps(mock_model.requests[0].json["input"])


@pytest.mark.parametrize(("setting", "shown"), [("", True), ("show_raw_agent_reasoning = true\n", True),
                                                ("show_raw_agent_reasoning = false\n", False)])
def test_raw_reasoning_follows_show_raw_agent_reasoning(
    run_codex: RunCodex, codex_home: Path, mock_model: MockModelServer, repo: Path, setting: str, shown: bool
) -> None:
    configure(codex_home, mock_model, setting)
    mock_model.responses_turn(Thinking(content=["raw chain of thought"]), Text("answer"))
    result = run_codex("exec", "hi", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "answer"
    assert ("raw chain of thought" in result.stderr) is shown


@pytest.mark.parametrize(("enabled", "started"), [("true", True), ("false", False)])
def test_an_mcp_server_with_enabled_false_is_not_started(
    run_codex: RunCodex, codex_home: Path, mock_model: MockModelServer, repo: Path, enabled: str, started: bool
) -> None:
    marker = repo.parent / "started"
    server = f'[mcp_servers.probe]\ncommand = "sh"\nargs = ["-c", "touch {marker}"]\nenabled = {enabled}\n'
    configure(codex_home, mock_model)
    with (codex_home / "config.toml").open("a") as config:
        config.write(server)
    mock_model.responses_text("ok")
    result = run_codex("exec", "hi", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "unknown config key" not in result.stderr
    assert marker.exists() is started


def test_the_rust_cli_plugin_tables_do_not_warn_but_ours_still_do(
    run_codex: RunCodex, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config('[plugins."browser@openai-bundled"]\nenabled = true\n[plugins.nosuch]\nx = 1\n')
    result = run_codex("config", "show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "browser@openai-bundled" not in result.stderr
    assert "[plugins.nosuch]: no installed plugin declares" in result.stderr
    assert '#   plugins."browser@openai-bundled" (config.toml:2) — a plugin of the Rust CLI' in result.stdout
