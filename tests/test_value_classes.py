"""Value classes are standard dataclasses: copies, pickles and signatures behave as Python's do.

The project once declared them with its own ``@record`` decorator: a frozen slotted one could
not be copied or pickled (restoring the state assigned to a frozen field), and a class's
``inspect.signature`` was ``(*args, **kwargs)`` until its ninth instance. Each test here failed
under it.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from pathlib import Path
from typing import Any

import pytest

from codex.approval.safe_commands import classify
from codex.cli.tui.keys import Key
from codex.config.model import Config
from codex.events import AgentMessage, Event, ExecCommandEnd
from codex.protocol import FunctionCall
from codex.sandbox import SandboxMode, SandboxPolicy
from codex.tools.patch.grammar import UpdateFile, parse_patch

PATCH = """*** Begin Patch
*** Update File: a.py
@@ def main():
-    print("hi")
+    print("hello")
*** End Patch"""


def samples(workspace: Path) -> dict[str, Any]:
    """One value of each kind the engine passes around, built the way the engine builds it."""
    (workspace / ".git").mkdir()
    hunk = parse_patch(PATCH)[0]
    assert isinstance(hunk, UpdateFile)
    return {
        "event": Event("turn-1", ExecCommandEnd("call_1", 0, 0.25, "out\n", "", "out\n")),
        "protocol item": FunctionCall("call_1", "shell", '{"command": ["ls"]}', id="fc_1"),
        "config table": Config.from_data(
            {
                "model": "mock-model",
                "sandbox_workspace_write": {"network_access": True, "writable_roots": ["/srv"]},
                "model_providers": {"mock": {"name": "Mock", "base_url": "http://127.0.0.1:1/v1"}},
                "my_plugin": {"level": 3},  # a plugin's own table: kept as extras
            }
        ),
        "sandbox policy": SandboxPolicy.build(SandboxMode.WORKSPACE_WRITE, cwd=workspace, network_access=True),
        "patch hunk": hunk,
        "patch chunk": hunk.chunks[0],
        "verdict": classify(["git", "status"]),
        "key": Key("char", "x", alt=True),
    }


@pytest.mark.parametrize(
    "kind",
    ["event", "protocol item", "config table", "sandbox policy", "patch hunk", "patch chunk", "verdict", "key"],
)
def test_copies_and_pickles_are_equal_values(kind: str, tmp_path: Path) -> None:
    value = samples(tmp_path)[kind]
    copies = [copy.copy(value), copy.deepcopy(value)]
    copies += [pickle.loads(pickle.dumps(value, protocol)) for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1)]
    for duplicate in copies:
        assert type(duplicate) is type(value)
        assert duplicate == value
        assert repr(duplicate) == repr(value)


def test_frozen_copies_stay_frozen_and_hash_alike(tmp_path: Path) -> None:
    policy: SandboxPolicy = samples(tmp_path)["sandbox policy"]
    restored: SandboxPolicy = pickle.loads(pickle.dumps(policy))
    assert hash(restored) == hash(policy)
    assert tmp_path.resolve() in restored.writable_roots
    with pytest.raises(dataclasses.FrozenInstanceError):
        restored.network_access = False  # type: ignore[misc]


def test_config_copies_keep_plugin_tables(tmp_path: Path) -> None:
    config = samples(tmp_path)["config table"]
    for duplicate in (copy.deepcopy(config), pickle.loads(pickle.dumps(config))):
        assert duplicate.extras == {"my_plugin": {"level": 3}}
        assert duplicate.provider("mock").base_url == "http://127.0.0.1:1/v1"
        assert duplicate.to_data() == config.to_data()
    deep = copy.deepcopy(config)
    deep.sandbox_workspace_write.writable_roots.append("/elsewhere")
    assert config.sandbox_workspace_write.writable_roots == ["/srv"]


@pytest.mark.parametrize("cls", [AgentMessage, ExecCommandEnd, Key, SandboxPolicy])
def test_signature_names_the_fields_and_does_not_change_with_use(cls: type) -> None:
    before = inspect.signature(cls)
    expected = [item.name for item in dataclasses.fields(cls) if item.init]
    assert list(before.parameters) == expected
    for index in range(12):  # more instances than @record built before compiling an __init__
        args = {name: _argument(cls, name, index) for name in expected if _required(cls, name)}
        cls(**args)
    assert inspect.signature(cls) == before


def _required(cls: type, name: str) -> bool:
    item = next(item for item in dataclasses.fields(cls) if item.name == name)
    return item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING


def _argument(cls: type, name: str, index: int) -> Any:
    if cls is SandboxPolicy:
        return SandboxMode.READ_ONLY
    kinds = {"exit_code": index, "duration_seconds": 0.5}
    return kinds.get(name, f"{name}-{index}")
