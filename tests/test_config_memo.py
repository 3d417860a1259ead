"""A configuration that passed pydantic's checks is not checked again (and pydantic not imported),
while anything new or wrong still is."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from codex.config import load_config
from codex.config.model import Config, ModelProviderInfo
from codex.errors import ConfigError

WriteConfig = Callable[[str], Path]

RICH_CONFIG = """
model = "o3"
base-instructions = "Be brief."
unknown_top = 1

[model_providers.local]
base_url = "http://127.0.0.1:1234/v1"
wire_api = "chat"
request_max_retries = 2
num_ctx = 8192

[mcp_servers.files]
command = "files-server"
startup_timeout_sec = 3

[approval]
elicitation_timeout_sec = 5

[profiles.fast]
model = "o4-mini"
"""


def test_a_remembered_config_builds_the_same_objects(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(RICH_CONFIG)
    checked = load_config(profile="fast")
    remembered = load_config(profile="fast")
    assert remembered.config == checked.config
    assert remembered.origins == checked.origins
    assert remembered.warnings == checked.warnings  # unknown keys are still reported
    config = remembered.config
    assert config.model == "o4-mini"
    assert config.base_instructions == "Be brief."
    local = config.model_providers["local"]
    assert isinstance(local, ModelProviderInfo) and local.id == "local" and local.request_max_retries == 2
    assert local.extras == {"num_ctx": 8192}
    assert config.extras == {"unknown_top": 1}
    # Declared as float: an integer in TOML is widened, as pydantic would.
    assert config.approval.elicitation_timeout_sec == 5.0 and isinstance(config.approval.elicitation_timeout_sec, float)
    assert config.mcp_servers["files"].startup_timeout_sec == 3.0


def test_a_wrong_config_is_never_remembered(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('model_provider = "openai"\n[sandbox_workspace_write]\nnetwork_access = "yes"\n')
    messages = []
    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            load_config()
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "config.toml:3:" in messages[0] and "sandbox_workspace_write.network_access" in messages[0]


def test_changing_a_remembered_config_checks_it_again(codex_home: Path, write_config: WriteConfig) -> None:
    write_config("[oss]\ncontext_window = 4096\n")
    assert load_config().config.oss.context_window == 4096
    write_config("[oss]\ncontext_window = 1024\n")  # below the 2048 minimum
    with pytest.raises(ConfigError, match=r"oss\.context_window"):
        load_config()
    with pytest.raises(ConfigError, match="model"):
        load_config(cli_overrides=["model=5"])  # "-c" values are data too: 5 is not a string


def test_a_string_and_a_number_are_different_inputs(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('project_doc_max_bytes = 100\n')
    assert load_config().config.project_doc_max_bytes == 100
    write_config('project_doc_max_bytes = "100"\n')
    with pytest.raises(ConfigError, match="project_doc_max_bytes"):
        load_config()


_PROBE = textwrap.dedent(
    """
    import json, sys
    from codex.config import load_config
    loaded = load_config()
    print(json.dumps({"pydantic": "pydantic" in sys.modules, "config": loaded.config.to_data()}))
    """
)


@pytest.mark.caching
def test_the_second_process_does_not_import_pydantic(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(RICH_CONFIG)
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout))
    assert runs[0]["pydantic"] is True
    assert runs[1]["pydantic"] is False
    assert runs[1]["config"] == runs[0]["config"]


def test_defaults_round_trip_through_plain_data() -> None:
    data = Config().to_data(by_alias=True)
    assert "base-instructions" in data and "base_instructions" not in data
    assert Config.from_data(data) == Config()


def test_an_edited_config_is_read_again(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('model = "o3"\n')
    assert load_config().config.model == "o3"
    write_config('model = "o4-mini"\n')
    assert load_config().config.model == "o4-mini"
    write_config('model = "o4-mini\n')
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config()


def test_dates_in_config_are_parsed_every_time_and_break_nothing(codex_home: Path, write_config: WriteConfig) -> None:
    write_config('model = "o3"\n[extra]\nsince = 1979-05-27T07:32:00Z\n')
    for _ in range(2):
        loaded = load_config()
        assert loaded.config.extras["extra"]["since"].year == 1979
    write_config('model = "o4-mini"\n')
    assert load_config().config.model == "o4-mini"


@pytest.mark.caching
def test_the_memo_keeps_only_verdicts(codex_home: Path, write_config: WriteConfig) -> None:
    write_config(
        '[model_providers.p]\nbase_url = "http://127.0.0.1:1/v1"\nhttp_headers = { "X-Key" = "hdr-value-9d0c1b" }\n'
    )
    load_config()
    from codex.memo import Memo

    stored = json.loads(Path(Memo.shared("config-verdicts").path).read_text())
    assert stored and set(stored.values()) == {True}
    assert all(len(key) == 64 for key in stored)  # digests: neither values nor the secret
