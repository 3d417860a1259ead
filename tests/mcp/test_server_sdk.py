"""`codex mcp` driven by the official MCP SDK client, against the mock model server.

The seed scenario: the model asks for `git init` under `approval_policy = untrusted`, the server
asks the client through elicitation, the client approves, the command runs, the model finishes,
and `codex-reply` continues the session. Then every other way an approval can go, progress,
cancellation, concurrent calls and bad arguments.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import mcp_types as types

from tests.mcp.harness import SdkClient, text_of, wait_until
from tests.mock_model import Call, MockModelServer

PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hello from the patch\n*** End Patch\n"


def codex_call(mock: MockModelServer, cwd: Path, prompt: str, **parameters: Any) -> dict[str, Any]:
    """`codex` tool arguments for a session in ``cwd`` that talks to ``mock``."""
    config = {"model_providers.mock.base_url": mock.base_url, **parameters.pop("config", {})}
    arguments: dict[str, Any] = {"prompt": prompt, "cwd": str(cwd), "config": config}
    arguments.setdefault("approval-policy", "untrusted")
    arguments.setdefault("sandbox", "danger-full-access")
    arguments.update(parameters)
    return arguments


def request_text(mock: MockModelServer, index: int) -> str:
    """The JSON body of the model request number ``index`` (0-based), as text."""
    return json.dumps(mock.requests[index].json)


def answer_with(result: types.ElicitResult | types.ErrorData) -> Any:
    async def answer(params: types.ElicitRequestParams) -> types.ElicitResult | types.ErrorData:
        return result

    return answer


def test_seed_scenario_approve_git_init_then_reply(shared_server: SdkClient, mock_model: MockModelServer,
                                                   workspace: Path) -> None:
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    mock_model.chat_text("I initialised the repository.")
    shared_server.answer = answer_with(types.ElicitResult(action="accept", content={"decision": "approved"}))
    before = len(shared_server.events)

    result = shared_server.call("codex", codex_call(mock_model, workspace, "turn this folder into a git repo"))

    assert not result.is_error, text_of(result)
    assert text_of(result) == "I initialised the repository."
    thread_id = result.structured_content["threadId"]
    assert result.structured_content == {"threadId": thread_id, "content": "I initialised the repository."}
    assert (workspace / ".git").is_dir()
    question = shared_server.asked[-1]
    assert isinstance(question, types.ElicitRequestFormParams)
    assert "git init" in question.message and str(workspace) in question.message
    decision = question.requested_schema["properties"]["decision"]
    assert decision["enum"] == ["approved", "approved_for_session", "denied", "abort"]
    # Every event reaches the client once, as the peer's codex/event notification. The SDK hands
    # notifications to the binding asynchronously, so the last ones may trail the result.
    wait_until(lambda: any(e["msg"]["type"] == "task_complete" for e in shared_server.events[before:]),
               "the task_complete notification")
    kinds = [e["msg"]["type"] for e in shared_server.events[before:]]
    assert kinds.count("session_configured") == 1
    for once in ("task_started", "exec_approval_request", "exec_command_begin", "exec_command_end", "task_complete"):
        assert kinds.count(once) == 1, (once, kinds)
    complete = next(e["msg"] for e in shared_server.events[before:] if e["msg"]["type"] == "task_complete")
    assert complete["last_agent_message"] == "I initialised the repository."
    assert all("requestId" in e["_meta"] for e in shared_server.events[before:])

    mock_model.chat_text("It is still a git repository.")
    reply = shared_server.call("codex-reply", {"prompt": "is it still a repo?", "threadId": thread_id})

    assert not reply.is_error, text_of(reply)
    assert reply.structured_content == {"threadId": thread_id, "content": "It is still a git repository."}
    follow_up = request_text(mock_model, 2)
    assert "turn this folder into a git repo" in follow_up and "I initialised the repository." in follow_up
    assert "is it still a repo?" in follow_up


def test_accept_without_a_decision_approves(shared_server: SdkClient, mock_model: MockModelServer,
                                            workspace: Path) -> None:
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    mock_model.chat_text("done")
    shared_server.answer = answer_with(types.ElicitResult(action="accept"))

    result = shared_server.call("codex", codex_call(mock_model, workspace, "init"))

    assert text_of(result) == "done"
    assert (workspace / ".git").is_dir()


def test_decline_denies_and_the_model_hears_it(shared_server: SdkClient, mock_model: MockModelServer,
                                               workspace: Path) -> None:
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    mock_model.chat_text("Understood, I will not create a repository.")
    shared_server.answer = answer_with(types.ElicitResult(action="decline"))

    result = shared_server.call("codex", codex_call(mock_model, workspace, "init"))

    assert not result.is_error
    assert text_of(result) == "Understood, I will not create a repository."
    assert not (workspace / ".git").exists()
    assert "denied" in request_text(mock_model, 1)


def test_explicit_denied_decision_denies(shared_server: SdkClient, mock_model: MockModelServer,
                                         workspace: Path) -> None:
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    mock_model.chat_text("ok, not doing it")
    shared_server.answer = answer_with(types.ElicitResult(action="accept", content={"decision": "denied"}))

    result = shared_server.call("codex", codex_call(mock_model, workspace, "init"))

    assert text_of(result) == "ok, not doing it"
    assert not (workspace / ".git").exists()


def test_cancel_answer_aborts_the_turn(shared_server: SdkClient, mock_model: MockModelServer,
                                       workspace: Path) -> None:
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    shared_server.answer = answer_with(types.ElicitResult(action="cancel"))

    result = shared_server.call("codex", codex_call(mock_model, workspace, "init"))

    assert result.is_error
    assert "aborted" in text_of(result)
    assert result.structured_content["threadId"]
    assert not (workspace / ".git").exists()
    assert len(mock_model.requests) == 1  # the model was not asked again


def test_unanswered_elicitation_times_out_as_a_denial(shared_server: SdkClient, mock_model: MockModelServer,
                                                      workspace: Path) -> None:
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    mock_model.chat_text("nobody approved, so I stopped")
    released = asyncio.Event()

    async def never_answers(params: types.ElicitRequestParams) -> types.ElicitResult:
        # Approves only if codex is still waiting when the test lets go, which it must not be.
        try:
            await asyncio.wait_for(released.wait(), 30)
        except TimeoutError:
            pass
        return types.ElicitResult(action="accept", content={"decision": "approved"})

    shared_server.answer = never_answers
    arguments = codex_call(mock_model, workspace, "init", config={"approval.elicitation_timeout_sec": 0.5})

    result = shared_server.call("codex", arguments)

    assert text_of(result) == "nobody approved, so I stopped"
    assert not (workspace / ".git").exists()
    assert "nobody answered the approval request" in request_text(mock_model, 1)
    shared_server.loop.call_soon_threadsafe(released.set)


def test_approved_for_session_asks_only_once(shared_server: SdkClient, mock_model: MockModelServer,
                                             workspace: Path) -> None:
    mock_model.chat_calls(Call("shell", {"command": ["git", "init"]}), Call("shell", {"command": ["git", "init"]}))
    mock_model.chat_text("initialised twice")
    for_session = types.ElicitResult(action="accept", content={"decision": "approved_for_session"})
    shared_server.answer = answer_with(for_session)
    asked_before = len(shared_server.asked)

    result = shared_server.call("codex", codex_call(mock_model, workspace, "init twice"))

    assert text_of(result) == "initialised twice"
    assert len(shared_server.asked) == asked_before + 1
    assert request_text(mock_model, 1).count("Reinitialized") + request_text(mock_model, 1).count("Initialized") == 2


def test_patch_approval_is_asked_with_the_changes(shared_server: SdkClient, mock_model: MockModelServer,
                                                  workspace: Path) -> None:
    mock_model.chat_call("apply_patch", {"input": PATCH})
    mock_model.chat_text("added hello.txt")
    shared_server.answer = answer_with(types.ElicitResult(action="accept", content={"decision": "approved"}))

    result = shared_server.call("codex", codex_call(mock_model, workspace, "add a file"))

    assert text_of(result) == "added hello.txt"
    assert (workspace / "hello.txt").read_text() == "hello from the patch\n"
    question = shared_server.asked[-1]
    assert "apply these changes" in question.message and "hello.txt" in question.message


def test_progress_notifications_when_the_client_asks(shared_server: SdkClient, mock_model: MockModelServer,
                                                     workspace: Path) -> None:
    mock_model.chat_text("All done.")
    updates: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, message))

    call = shared_server.start("codex", codex_call(mock_model, workspace, "say done"), progress_callback=on_progress)
    result = call.result()

    assert text_of(result) == "All done."
    # Progress callbacks run in their own tasks; the last ones may trail the result.
    wait_until(lambda: any(m == "task complete" for _, m in updates), "the last progress notification")
    messages = [message for _, message in updates]
    assert "task started" in messages and "All done." in messages
    values = [value for value, _ in updates]
    # The server numbers its updates 1, 2, 3...; the SDK may hand them over in another order.
    assert sorted(values) == [float(n) for n in range(1, len(values) + 1)]


def test_a_plugin_tool_call_is_a_progress_notification(shared_server: SdkClient, mock_model: MockModelServer,
                                                        workspace: Path) -> None:
    """The installed example plugin's ``now`` tool: its call shows like a command's would."""
    mock_model.chat_call("now", {"timezone": "UTC"})
    mock_model.chat_text("It is now.")
    updates: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message)

    call = shared_server.start("codex", codex_call(mock_model, workspace, "what time"), progress_callback=on_progress)

    assert text_of(call.result()) == "It is now."
    wait_until(lambda: "task complete" in updates, "the last progress notification")
    assert "tool call begin: now" in updates and "tool call end: now" in updates


def test_two_calls_run_at_once(shared_server: SdkClient, mock_model: MockModelServer, tmp_path: Path) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    waiting = asyncio.Event()
    release = asyncio.Event()

    async def hold_until_released(params: types.ElicitRequestParams) -> types.ElicitResult:
        waiting.set()
        await asyncio.wait_for(release.wait(), 60)
        return types.ElicitResult(action="accept", content={"decision": "approved"})

    shared_server.answer = hold_until_released
    mock_model.chat_call("shell", {"command": ["git", "init"]})
    first = shared_server.start("codex", codex_call(mock_model, first_dir, "first task"))
    shared_server.run(asyncio.wait_for(waiting.wait(), 60))
    def first_session() -> list[str]:
        configured = shared_server.events_of("session_configured")
        return [e["session_id"] for e in configured if e["cwd"] == str(first_dir)]

    wait_until(lambda: bool(first_session()), "the first call's session_configured notification")
    (first_thread,) = first_session()

    # A reply to a session that is mid-turn is refused instead of being mixed into that turn.
    busy = shared_server.call("codex-reply", {"prompt": "hurry up", "threadId": first_thread})
    assert busy.is_error and "already running a turn" in text_of(busy)

    # The first call is blocked on its approval; the second must still run to the end.
    mock_model.chat_text("second finished")
    second = shared_server.call("codex", codex_call(mock_model, second_dir, "second task"))
    mock_model.chat_text("first finished")
    shared_server.loop.call_soon_threadsafe(release.set)
    first_result = first.result()

    assert text_of(second) == "second finished"
    assert text_of(first_result) == "first finished"
    assert first_result.structured_content["threadId"] == first_thread != second.structured_content["threadId"]
    assert (first_dir / ".git").is_dir() and not (second_dir / ".git").exists()


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); its state in /proc says it has exited.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


def test_cancelled_call_interrupts_the_turn_and_the_session_goes_on(
    shared_server: SdkClient, mock_model: MockModelServer, workspace: Path
) -> None:
    script = "echo $$ > pid; exec sleep 60"
    mock_model.chat_call("shell", {"command": ["sh", "-c", script]})
    before = len(shared_server.events)
    call = shared_server.start(
        "codex", codex_call(mock_model, workspace, "wait a minute", **{"approval-policy": "never"})
    )
    wait_until(lambda: (workspace / "pid").exists() and (workspace / "pid").read_text().strip() != "", "the command")
    pid = int((workspace / "pid").read_text())

    def configured() -> list[str]:
        events = shared_server.events[before:]
        return [e["msg"]["session_id"] for e in events if e["msg"]["type"] == "session_configured"]

    wait_until(lambda: bool(configured()), "the session_configured notification")
    (thread_id,) = configured()

    call.cancel()

    wait_until(lambda: _process_gone(pid), "the interrupted command to be killed")
    mock_model.chat_text("back again")
    reply = shared_server.call("codex-reply", {"prompt": "still there?", "sessionId": thread_id})
    assert text_of(reply) == "back again"


def test_failed_turn_is_a_tool_error(shared_server: SdkClient, mock_model: MockModelServer, workspace: Path) -> None:
    mock_model.error(400, "the mock refuses this request")

    result = shared_server.call("codex", codex_call(mock_model, workspace, "anything"))

    assert result.is_error
    assert "the mock refuses this request" in text_of(result)


def test_bad_arguments_are_tool_errors_that_say_why(shared_server: SdkClient, workspace: Path) -> None:
    bad_policy = shared_server.call("codex", {"prompt": "x", "approval-policy": "sometimes"})
    assert bad_policy.is_error and "approval-policy" in text_of(bad_policy)

    unknown = shared_server.call("codex", {"prompt": "x", "temperature": 2})
    assert unknown.is_error and "temperature: unknown parameter" in text_of(unknown)

    missing_dir = shared_server.call("codex", {"prompt": "x", "cwd": str(workspace / "nope")})
    assert missing_dir.is_error and "is not a directory" in text_of(missing_dir)

    no_id = shared_server.call("codex-reply", {"prompt": "x"})
    assert no_id.is_error and "sessionId is required" in text_of(no_id)

    unknown_session = shared_server.call("codex-reply", {"prompt": "x", "conversationId": "0" * 8})
    assert unknown_session.is_error and "no session" in text_of(unknown_session)

    bad_config = shared_server.call("codex", {"prompt": "x", "config": {"sandbox_mode": "everywhere"}})
    assert bad_config.is_error and "sandbox_mode" in text_of(bad_config)

    # The server is still there and still serves.
    tools = shared_server.run(shared_server.session.list_tools())
    assert [tool.name for tool in tools.tools] == ["codex", "codex-reply"]


def test_unknown_config_keys_are_warned_about_in_the_result_and_as_events(
    shared_server: SdkClient, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.chat_text("Done anyway.")
    before = len(shared_server.events)
    typos = {"modle": "o3", "sandbox_workspace_write.network_acess": True}
    arguments = codex_call(mock_model, workspace, "hi", config=typos)

    result = shared_server.call("codex", arguments)

    assert not result.is_error, text_of(result)
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    assert texts[0] == "Done anyway."  # the answer stays first; clients reading content[0] get it
    assert result.structured_content["content"] == "Done anyway."
    assert len(texts) == 3
    assert "unknown config key modle; it is ignored (did you mean model?)" in texts[1]
    assert "unknown config key sandbox_workspace_write.network_acess" in texts[2]
    assert all(text.startswith("warning: the codex tool's `config` argument: ") for text in texts[1:])
    events = [e["msg"]["message"] for e in list(shared_server.events)[before:]
              if e.get("msg", {}).get("type") == "background_event"]
    assert texts[1] in events and texts[2] in events
