"""Pure pieces of the MCP support: tool names, elicitation mapping, tool parameters, wire errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex.events import ExecApprovalRequest, PatchApprovalRequest, ReviewDecision
from codex.mcp.elicitation import decision_from_answer, exec_elicitation, patch_elicitation
from codex.mcp.server import unreadable_message_error
from codex.mcp.server_tools import (
    ArgumentError,
    CodexReplyArgs,
    CodexToolArgs,
    ServerSettings,
    config_for_call,
    parse_args,
)
from codex.tools.mcp_client import result_for_model
from codex.tools.mcp_tool_names import MAX_NAME_LENGTH, qualified_tool_names

SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")

# ---------------------------------------------------------------------------- tool names


def test_plain_names_are_server__tool() -> None:
    assert qualified_tool_names([("docs", "search")]) == {("docs", "search"): "docs__search"}


def test_unsafe_characters_become_underscores() -> None:
    assert qualified_tool_names([("my.docs", "find page")])[("my.docs", "find page")] == "my_docs__find_page"


def test_long_names_are_cut_with_a_stable_hash() -> None:
    pair = ("server", "t" * 100)
    name = qualified_tool_names([pair])[pair]
    assert len(name) == MAX_NAME_LENGTH and name.startswith("server__ttt")
    assert qualified_tool_names([pair, ("other", "x")])[pair] == name  # the same whatever else is there


def test_names_that_collide_after_sanitising_both_get_hashes() -> None:
    names = qualified_tool_names([("a", "b.c"), ("a", "b_c")])
    assert len(set(names.values())) == 2
    assert all(n.startswith("a__b_c_") for n in names.values())


@given(st.lists(st.tuples(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80)), max_size=30))
def test_names_are_always_safe_unique_and_deterministic(pairs: list[tuple[str, str]]) -> None:
    names = qualified_tool_names(pairs)
    assert all(SAFE.match(n) for n in names.values())
    assert len(set(names.values())) == len(names)
    assert qualified_tool_names(list(reversed(pairs))) == names


# ---------------------------------------------------------------------------- elicitation


def test_exec_elicitation_names_the_command_and_carries_the_peer_fields() -> None:
    msg = ExecApprovalRequest("approval-3", "call-9", ["git", "commit", "-m", "two words"], "/work", "not read-only")
    params = exec_elicitation(msg, tool_call_id=7, event_id="2")
    assert params["message"].startswith("Allow Codex to run `git commit -m 'two words'` in /work?")
    assert "not read-only" in params["message"]
    assert params["codex_elicitation"] == "exec-approval"
    assert (params["codex_mcp_tool_call_id"], params["codex_event_id"], params["codex_call_id"]) == ("7", "2", "call-9")
    assert params["codex_command"] == ["git", "commit", "-m", "two words"] and params["codex_cwd"] == "/work"
    schema = params["requestedSchema"]
    assert schema["type"] == "object" and schema["properties"]["decision"]["type"] == "string"


def test_patch_elicitation_lists_the_changes() -> None:
    changes = {"/w/new.py": {"kind": "add"}, "/w/old.py": {"kind": "update", "move_path": "/w/moved.py"}}
    msg = PatchApprovalRequest("approval-1", "call-1", changes, "diff", "outside the writable roots")
    params = patch_elicitation(msg, tool_call_id="abc", event_id="4")
    assert "A /w/new.py" in params["message"] and "M /w/old.py -> /w/moved.py" in params["message"]
    assert params["codex_elicitation"] == "patch-approval" and params["codex_changes"] == changes
    assert params["codex_reason"] == "outside the writable roots"


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        ({"decision": "approved"}, ReviewDecision.APPROVED),
        ({"decision": "approved_for_session"}, ReviewDecision.APPROVED_FOR_SESSION),
        ({"decision": "abort"}, ReviewDecision.ABORT),
        ({"action": "accept"}, ReviewDecision.APPROVED),
        ({"action": "accept", "content": {}}, ReviewDecision.APPROVED),
        ({"action": "accept", "content": {"decision": "denied"}}, ReviewDecision.DENIED),
        ({"action": "accept", "content": {"decision": "approved_for_session"}}, ReviewDecision.APPROVED_FOR_SESSION),
        ({"action": "decline"}, ReviewDecision.DENIED),
        ({"action": "cancel"}, ReviewDecision.ABORT),
    ],
)
def test_both_answer_shapes_are_understood(answer: dict[str, object], decision: ReviewDecision) -> None:
    assert decision_from_answer(answer) == (decision, None)


@pytest.mark.parametrize(
    "answer", [{}, {"decision": "yes"}, {"action": "maybe"}, {"action": "accept", "content": {"decision": 1}}, "ok"]
)
def test_unreadable_answers_are_denials_that_say_why(answer: object) -> None:
    decision, why = decision_from_answer(answer)
    assert decision is ReviewDecision.DENIED and why


# ---------------------------------------------------------------------------- tool parameters


def test_codex_parameters_accept_the_peer_and_other_spellings() -> None:
    peer = parse_args(CodexToolArgs, "codex", {"prompt": "p", "approval-policy": "never", "include-plan-tool": False})
    camel = parse_args(CodexToolArgs, "codex", {"prompt": "p", "approvalPolicy": "never", "includePlanTool": False})
    assert peer == camel
    assert peer.approval_policy == "never" and peer.include_plan_tool is False


def test_bad_parameters_are_named_with_what_was_expected() -> None:
    with pytest.raises(ArgumentError) as info:
        parse_args(CodexToolArgs, "codex", {"prompt": "p", "sandbox": "everywhere", "colour": "red"})
    text = str(info.value)
    assert "sandbox:" in text and "'read-only'" in text and "'everywhere'" in text
    assert "colour: unknown parameter; known parameters: prompt, model" in text
    with pytest.raises(ArgumentError, match="expected an object"):
        parse_args(CodexToolArgs, "codex", ["prompt"])


def test_reply_takes_the_session_id_under_any_name_but_only_one_session() -> None:
    for key in ("sessionId", "conversationId", "threadId"):
        assert parse_args(CodexReplyArgs, "codex-reply", {"prompt": "p", key: "abc"}).target() == "abc"
    both = parse_args(CodexReplyArgs, "codex-reply", {"prompt": "p", "sessionId": "a", "threadId": "b"})
    with pytest.raises(ValueError, match="different sessions"):
        both.target()


def test_a_call_config_layers_over_the_server_settings(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('model = "from-file"\napproval_policy = "on-request"\n')
    (tmp_path / "project").mkdir()
    settings = ServerSettings(cwd=tmp_path, home=home, cli_overrides=["model_verbosity=low"],
                              flags={"sandbox_mode": "workspace-write"})
    call = parse_args(CodexToolArgs, "codex", {
        "prompt": "p", "model": "o3", "cwd": "project", "approval-policy": "never",
        "config": {"sandbox_workspace_write.network_access": True, "model_reasoning_effort": "high"},
        "base-instructions": "Be brief.", "include-plan-tool": False,
    })

    loaded = config_for_call(settings, call)

    config = loaded.config
    assert (config.model, config.approval_policy, config.sandbox_mode) == ("o3", "never", "workspace-write")
    assert config.sandbox_workspace_write.network_access is True and config.model_reasoning_effort == "high"
    assert config.model_verbosity == "low" and config.base_instructions == "Be brief."
    assert config.include_plan_tool is False
    assert loaded.cwd == (tmp_path / "project").resolve()


def test_a_null_config_value_is_refused(tmp_path: Path) -> None:
    call = parse_args(CodexToolArgs, "codex", {"prompt": "p", "config": {"model": None}})
    with pytest.raises(ArgumentError, match="null has no TOML form"):
        config_for_call(ServerSettings(cwd=tmp_path, home=tmp_path), call)


# ---------------------------------------------------------------------------- wire pieces


def test_unreadable_lines_get_parse_or_invalid_request_errors() -> None:
    import mcp_types as types

    def error_for(line: str) -> tuple[int, object]:
        try:
            types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        except Exception as exc:  # the stdio transport hands the validation error over
            message = unreadable_message_error(exc).message
            assert isinstance(message, types.JSONRPCError)
            return message.error.code, message.id
        raise AssertionError("the line was accepted")

    assert error_for("{oops") == (-32700, None)
    assert error_for('{"jsonrpc": "2.0", "id": "x1", "method": 5}') == (-32600, "x1")
    assert error_for('{"jsonrpc": "2.0", "id": true, "method": 5}') == (-32600, None)


def test_results_for_the_model_keep_text_plain_and_summarise_big_binaries() -> None:
    assert result_for_model({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}) == "a\nb"
    big = {"content": [{"type": "image", "mimeType": "image/png", "data": "A" * 10_000}], "isError": True}
    rendered = result_for_model(big)
    assert "7500 bytes of image/png not shown" in rendered and '"isError": true' in rendered
