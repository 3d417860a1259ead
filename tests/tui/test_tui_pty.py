"""The interactive terminal, driven like a person would: keys into a pty, assertions on the screen.

Each test runs the real ``codex`` (``python -m codex``) against the mock model server on
127.0.0.1, in a git workspace, with a private CODEX_HOME.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.long_session import LongSessionModel
from tests.mock_model import Call, MockModelServer, Text, Thinking
from tests.tui.pty_harness import PtyCodex, process_gone

READY = "⏎ send"  # the hint under the prompt: the session is ready and idle
StartCodex = Callable[..., PtyCodex]


def shell(script: str) -> Call:
    """The model asks to run ``bash -c SCRIPT`` (not a login shell: profiles here may be slow)."""
    return Call("shell", {"command": ["bash", "-c", script]})


def function_outputs(mock: MockModelServer, request: int) -> list[str]:
    """The tool outputs codex sent to the model in request number ``request`` (0-based)."""
    items = mock.requests[request].json["input"]
    return [str(item.get("output")) for item in items if item.get("type") == "function_call_output"]


def test_streaming_answer_is_rendered_with_header_and_token_usage(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_text("Here is **the plan**:\n\n- first step\n- second step\n\n```python\nprint('hi')\n```\n")
    term = start_codex()
    screen = term.wait_for(READY)
    for expected in ("mock-model (mock)", "on-request", "read-only"):
        assert expected in screen
    assert str(workspace) in screen.replace("\n", "")  # a long path wraps at 80 columns
    session_id = re.search(r"session\s+([0-9a-f-]{36})", screen)
    assert session_id is not None

    term.send("make a plan\r")
    screen = term.wait_for("tokens: 19 this turn")
    assert "› make a plan" in screen
    assert "Here is the plan:" in screen  # Markdown rendered: no asterisks left
    assert "**" not in screen
    assert "• first step" in screen
    assert "print('hi')" in screen and "```" not in screen
    assert b"\x1b[1m" in term.raw  # bold, for the **strong** text
    assert mock_model.requests[0].json["input"][-1]["content"][0]["text"] == "make a plan"

    term.send("\x04")  # Ctrl-D on the empty prompt leaves
    assert term.wait_exit() == 0
    assert f"codex resume {session_id.group(1)}" in term.text()


def test_command_needing_approval_runs_only_after_yes(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("touch approved.txt && echo made-it"))
    mock_model.responses_text("The file is there.")
    term = start_codex("-a", "untrusted", "-s", "danger-full-access")
    term.wait_for(READY)
    term.send("create the file\r")
    screen = term.wait_for("Run this command?")
    assert "codex wants to run a command" in screen
    assert "$ touch approved.txt && echo made-it" in screen
    assert "y yes · a yes, always this session · n no, tell codex why · q abort" in screen
    term.settle()
    assert not (workspace / "approved.txt").exists()  # nothing runs before the answer

    term.send("y")
    screen = term.wait_for("The file is there.")
    assert "approved the command" in screen
    assert re.search(r"✓ touch approved\.txt && echo made-it · \d", screen)
    assert "│ made-it" in screen
    assert (workspace / "approved.txt").exists()
    assert "made-it" in function_outputs(mock_model, 1)[0]


def test_command_denied_with_feedback_tells_the_model(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("rm README.md"))
    mock_model.responses_text("Understood, I will leave it.")
    term = start_codex("-a", "untrusted", "-s", "danger-full-access")
    term.wait_for(READY)
    term.send("clean up\r")
    term.wait_for("Run this command?")
    term.send("n")
    term.wait_for("Tell codex what to do instead")
    term.send("keep the readme, it is documentation\r")
    screen = term.wait_for("Understood, I will leave it.")
    assert "denied the command; told codex: keep the readme, it is documentation" in screen
    assert (workspace / "README.md").exists()
    outputs = function_outputs(mock_model, 1)
    assert len(outputs) == 1
    assert "denied" in outputs[0]
    assert "keep the readme, it is documentation" in outputs[0]


def test_ctrl_c_kills_a_long_command_and_the_session_goes_on(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("echo $$ > pid.txt; echo long-job-'started'; exec sleep 60"))
    mock_model.responses_text("Still here.")
    term = start_codex("-a", "never", "-s", "danger-full-access")
    term.wait_for(READY)
    term.send("run the long job\r")
    term.wait_for("│ long-job-started")  # its output, live under the spinner
    pid = int((workspace / "pid.txt").read_text().strip())
    assert not process_gone(pid, timeout=0.2)

    term.send("\x03")
    screen = term.wait_for("■ turn interrupted")
    assert "(stopped)" in screen
    assert process_gone(pid), "the command survived the interrupt"

    term.send("are you there?\r")
    term.wait_for("Still here.")
    assert len(mock_model.requests) == 2
    assert mock_model.requests[1].json["input"][-1]["content"][0]["text"] == "are you there?"


def test_ctrl_c_twice_on_an_empty_prompt_quits(start_codex: StartCodex) -> None:
    term = start_codex()
    term.wait_for(READY)
    term.send("\x03")
    term.wait_for("Press Ctrl-C again to quit")
    term.send("\x03")
    assert term.wait_exit() == 0


def test_slash_model_switches_the_model_of_the_next_request(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    mock_model.responses_text("answered by the other model")
    term = start_codex()
    term.wait_for(READY)
    term.send("/model other-model\r")
    term.wait_for("model set to other-model from the next turn")
    term.send("/status\r")
    screen = term.wait_for("tokens")
    assert re.search(r"model\s+other-model", screen)
    assert re.search(r"approval\s+on-request", screen)
    term.send("hello\r")
    term.wait_for("answered by the other model")
    assert mock_model.requests[0].json["model"] == "other-model"


def test_slash_diff_shows_workspace_changes_and_help_lists_commands(
    start_codex: StartCodex, workspace: Path
) -> None:
    (workspace / "README.md").write_text("# demo\nchanged line\n", encoding="utf-8")
    (workspace / "new.txt").write_text("brand new\n", encoding="utf-8")
    term = start_codex()
    term.wait_for(READY)
    term.send("/diff\r")
    screen = term.wait_for("+brand new")
    assert "+changed line" in screen
    term.send("/help\r")
    screen = term.wait_for("/compact")
    assert "/resume" in screen and "/approvals" in screen


def test_resume_shows_the_transcript_and_continues_the_conversation(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    mock_model.responses_text("The first answer.")
    first = start_codex()
    first.wait_for(READY)
    first.send("remember the number 42\r")
    first.wait_for("The first answer.")
    first.send("\x04")
    assert first.wait_exit() == 0
    session_id = re.search(r"codex resume ([0-9a-f-]{36})", first.text())
    assert session_id is not None

    mock_model.responses_text("It was 42.")
    second = start_codex("resume", "--last")
    screen = second.wait_for(READY)
    assert session_id.group(1) in screen
    assert "› remember the number 42" in screen
    assert "The first answer." in screen
    assert "── resumed ──" in screen
    second.send("which number?\r")
    second.wait_for("It was 42.")
    texts = json.dumps(mock_model.requests[1].json["input"])
    assert "remember the number 42" in texts and "The first answer." in texts and "which number?" in texts


def test_prompt_history_is_saved_privately_and_recalled_with_up(
    start_codex: StartCodex, mock_model: MockModelServer, codex_home: Path
) -> None:
    mock_model.responses_text("ok")
    first = start_codex()
    first.wait_for(READY)
    first.send("a prompt worth repeating\r")
    first.wait_for("tokens:")
    first.send("\x04")
    first.wait_exit()
    history = codex_home / "history.jsonl"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    entry = json.loads(history.read_text().splitlines()[-1])
    assert entry["text"] == "a prompt worth repeating"

    second = start_codex()
    second.wait_for(READY)
    second.send("\x1b[A")  # Up
    second.wait_until(lambda _text: "› a prompt worth repeating" in second.visible(), "the recalled prompt")


def test_history_persistence_none_writes_nothing(
    start_codex: StartCodex, mock_model: MockModelServer, codex_home: Path
) -> None:
    mock_model.responses_text("ok")
    term = start_codex("-c", 'history.persistence="none"')
    term.wait_for(READY)
    term.send("secret prompt\r")
    term.wait_for("tokens:")
    term.send("\x04")
    term.wait_exit()
    assert not (codex_home / "history.jsonl").exists()


def test_no_color_means_no_colour_codes(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    mock_model.responses_text("plain **bold** words")
    term = start_codex(env={"NO_COLOR": "1"})
    term.wait_for(READY)
    term.send("hi\r")
    screen = term.wait_for("plain bold words")
    assert "mock-model" in screen
    assert not re.search(rb"\x1b\[[0-9;]*m", bytes(term.raw))


def test_plain_lines_when_stdout_is_not_a_terminal(
    tui_env: dict[str, str], mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_text("A plain **answer**.")
    completed = subprocess.run(
        [sys.executable, "-m", "codex"],
        input="what is this?\n",
        env=tui_env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "\x1b" not in completed.stdout
    assert "model     mock-model (mock)" in completed.stdout
    assert "› what is this?" in completed.stdout
    assert "A plain **answer**." in completed.stdout  # the Markdown source, line by line
    assert "tokens: 19 this turn" in completed.stdout


def test_plain_mode_answers_approvals_from_stdin(
    tui_env: dict[str, str], mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("touch piped.txt"))
    mock_model.responses_text("made it")
    completed = subprocess.run(
        [sys.executable, "-m", "codex", "-a", "untrusted", "-s", "danger-full-access"],
        input="make the file\ny\n",
        env=tui_env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "codex wants to run a command" in completed.stdout
    assert "approved the command" in completed.stdout
    assert "made it" in completed.stdout
    assert (workspace / "piped.txt").exists()


def test_every_row_fits_80_columns(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    long_word = "x" * 150
    mock_model.responses_calls(shell(f"echo {long_word}"))
    mock_model.responses_text("done " + "word " * 60)
    term = start_codex("-a", "never", "-s", "danger-full-access")
    term.wait_for(READY)
    term.send("go\r")
    term.wait_for("tokens:")
    term.wait_for(READY)
    # A row that overflowed would have been wrapped by the terminal and torn the redraw: the
    # prompt must appear exactly once on the visible screen, at the bottom.
    visible = term.visible()
    assert visible.count("Ask codex to do anything") == 1
    assert re.search(r"│ x{70,}…", term.text())  # the long output line was cut at the edge


def test_patch_approval_shows_the_diff_and_applies_only_after_yes(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    patch = "*** Begin Patch\n*** Update File: README.md\n@@\n-# demo\n+# demo project\n*** End Patch\n"
    mock_model.responses_calls(Call("apply_patch", {"input": patch}))
    mock_model.responses_text("Renamed.")
    term = start_codex("-a", "untrusted")
    term.wait_for(READY)
    term.send("rename the project\r")
    screen = term.wait_for("Apply these changes?")
    assert "codex wants to change files" in screen
    assert "-# demo" in screen and "+# demo project" in screen
    term.settle()
    assert (workspace / "README.md").read_text() == "# demo\n"
    term.send("y")
    term.wait_for("Renamed.")
    assert (workspace / "README.md").read_text() == "# demo project\n"


def test_yes_for_the_session_is_not_asked_twice_and_q_aborts(
    start_codex: StartCodex, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_calls(shell("echo one >> log.txt"))
    mock_model.responses_calls(shell("echo one >> log.txt"))
    mock_model.responses_text("Appended twice.")
    mock_model.responses_calls(shell("touch never.txt"))
    term = start_codex("-a", "untrusted", "-s", "danger-full-access")
    term.wait_for(READY)
    term.send("append twice\r")
    term.wait_for("Run this command?")
    term.send("a")
    screen = term.wait_for("Appended twice.")
    assert screen.count("codex wants to run a command") == 1
    assert (workspace / "log.txt").read_text() == "one\none\n"

    term.send("now touch\r")
    term.wait_for("$ touch never.txt")
    term.wait_for("Run this command?")
    term.send("q")
    screen = term.wait_for("aborted the turn instead of running the command")
    term.wait_for("⏎ send")  # the turn is over; its end is not announced a second time
    assert not (workspace / "never.txt").exists()


def test_plan_is_shown_as_a_checklist(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    plan = [{"step": "Read the code", "status": "completed"}, {"step": "Write the fix", "status": "in_progress"},
            {"step": "Run the tests", "status": "pending"}]
    mock_model.responses_calls(Call("update_plan", {"plan": plan}))
    mock_model.responses_text("Working on it.")
    term = start_codex()
    term.wait_for(READY)
    term.send("fix it\r")
    screen = term.wait_for("Working on it.")
    term.wait_for("tokens:")
    screen = term.text()
    assert "✔ Read the code" in screen and "▸ Write the fix" in screen and "□ Run the tests" in screen


def test_at_completes_workspace_paths(start_codex: StartCodex) -> None:
    term = start_codex()
    term.wait_for(READY)
    term.send("explain @READ")
    term.wait_until(lambda _text: "@README.md" in term.visible().split("› explain @READ")[-1], "the suggestion")
    term.send("\t")
    term.wait_until(lambda _text: "› explain @README.md" in term.visible(), "the completed path")


def test_compact_summarises_and_the_session_goes_on(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    mock_model.responses_text("Noted: 42.")
    mock_model.responses_text("SUMMARY: the user asked to remember the number 42.")
    mock_model.responses_text("You asked me to remember 42.")
    term = start_codex()
    first = re.search(r"session\s+([0-9a-f-]{36})", term.wait_for(READY))
    assert first is not None
    term.send("remember the number 42\r")
    term.wait_for("Noted: 42.")
    term.send("/compact\r")
    term.wait_for("context compacted (/compact)")
    term.wait_for(READY)
    term.send("what did I ask?\r")
    screen = term.wait_for("You asked me to remember 42.")
    assert set(re.findall(r"session\s+([0-9a-f-]{36})", screen)) == {first.group(1)}  # the same session
    summary_request = json.dumps(mock_model.requests[1].json["input"])
    assert "Context is running out" in summary_request and "Noted: 42." in summary_request
    sent = mock_model.requests[2].json["input"]
    texts = ["".join(p["text"] for p in item["content"]) for item in sent if item["type"] == "message"]
    assert "SUMMARY: the user asked to remember the number 42." in texts[-2]
    assert "remember the number 42" in texts  # the person's own words are kept
    assert "Noted: 42." not in json.dumps(sent)  # the old answers are not


def test_long_session_compacts_by_itself_and_shows_the_context_left(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    model = LongSessionModel(window=8_000, commands=12)
    mock_model.responder = model
    term = start_codex("-c", "model_context_window=8000", "-a", "never")
    term.wait_for(READY)
    term.send("run the numbered commands\r")
    screen = term.wait_for("done: all 12 commands ran", timeout=120)
    assert "context compacted (the context was nearly full)" in screen
    assert model.summaries >= 1 and model.over_window == 0
    term.wait_until(lambda _text: re.search(r"\^C quit · \d+% context left", term.visible()) is not None,
                    "the context left under the prompt")
    term.send("/status\r")
    screen = term.wait_for("compacts above 6,400 tokens")
    assert re.search(r"context window\s+8,000 tokens", screen)
    assert re.search(r"used\s+[\d,]+ tokens \(\d+% left\)", screen)
    assert re.search(r"budget\s+500 tokens of each tool output", screen)


def test_new_and_resume_picker_switch_sessions(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    mock_model.responses_text("First session answer.")
    mock_model.responses_text("Fresh start.")
    term = start_codex()
    term.wait_for(READY)
    term.send("the first question\r")
    term.wait_for("First session answer.")
    term.send("/new\r")
    term.wait_for("session", count=2)
    term.wait_for(READY)
    term.send("a new topic\r")
    term.wait_for("Fresh start.")
    assert "the first question" not in json.dumps(mock_model.requests[1].json["input"])

    term.send("/resume\r")
    screen = term.wait_for("Resume which session?")
    assert "1. " in screen and "the first question" in screen
    term.send("1\r")
    screen = term.wait_for("── resumed ──")
    mock_model.responses_text("Back again.")
    term.wait_for(READY)
    term.send("continue\r")
    term.wait_for("Back again.")
    assert "the first question" in json.dumps(mock_model.requests[2].json["input"])


def test_a_line_typed_right_after_new_goes_to_the_new_session(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    mock_model.responses_text("First session answer.")
    mock_model.responses_text("Fresh start.")
    term = start_codex()
    term.wait_for(READY)
    term.send("the first question\r")
    term.wait_for("First session answer.")
    # Both lines in one write: the terminal hands them over in one read.
    term.send("/new\ra new topic\r")
    term.wait_for("Fresh start.")
    second = json.dumps(mock_model.requests[1].json["input"])
    assert "a new topic" in second and "the first question" not in second


def test_resume_without_id_offers_the_picker(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    mock_model.responses_text("Recorded.")
    first = start_codex()
    first.wait_for(READY)
    first.send("pick me later\r")
    first.wait_for("Recorded.")
    first.send("\x04")
    first.wait_exit()
    second = start_codex("resume")
    screen = second.wait_for("Resume which session?")
    assert "pick me later" in screen
    second.send("1\r")
    screen = second.wait_for(READY)
    assert "› pick me later" in screen and "Recorded." in screen


def test_exec_and_mcp_do_not_import_the_terminal_ui(
    tui_env: dict[str, str], mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.responses_text("exec answer")
    exec_run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "codex", "exec", "say something"],
        env=tui_env, cwd=workspace, capture_output=True, text=True, timeout=60, check=False,
    )
    assert exec_run.returncode == 0, exec_run.stderr[-2000:]
    assert "exec answer" in exec_run.stdout
    mcp_run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "codex", "mcp"],
        env=tui_env, cwd=workspace, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        check=False,
    )
    for run in (exec_run, mcp_run):
        imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time")}
        assert imported, run.stderr[-2000:]
        # rich and pygments may come in with httpx2's own command-line module (httpx2 imports it);
        # the terminal UI itself and prompt_toolkit never do.
        assert not {name for name in imported if name.split(".")[0] == "prompt_toolkit"}
        assert not {name for name in imported if name.startswith("codex.cli.tui")}


def test_reasoning_is_shown_once_and_hidden_by_hide_agent_reasoning(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    mock_model.responses_turn(Thinking(summary=["Considering the options"]), Text("Decided."))
    mock_model.responses_turn(Thinking(summary=["Secret musings"]), Text("Hidden thoughts."))
    term = start_codex()
    term.wait_for(READY)
    term.send("think\r")
    screen = term.wait_for("tokens:")
    assert screen.count("Considering the options") == 1 and "Decided." in screen
    term.send("\x04")
    term.wait_exit()

    hidden = start_codex("-c", "hide_agent_reasoning=true")
    hidden.wait_for(READY)
    hidden.send("think quietly\r")
    screen = hidden.wait_for("Hidden thoughts.")
    hidden.wait_for("tokens:")
    assert "Secret musings" not in hidden.text() and "thinking" not in hidden.text()


def test_oss_downloads_the_model_with_progress_then_answers(
    start_codex: StartCodex, tmp_path: Path
) -> None:
    from tests.ollama.fake_ollama import FakeOllama

    with FakeOllama() as fake:
        fake.answer("Local answer.", thinking="thinking locally")
        env = {"CODEX_OSS_BASE_URL": fake.base_url, "XDG_STATE_HOME": str(tmp_path / "state")}
        term = start_codex("--oss", env=env)
        screen = term.wait_for(READY)
        assert "gpt-oss:20b is not in Ollama yet; downloading it" in screen
        assert "pulled gpt-oss:20b" in screen
        assert "gpt-oss:20b (oss)" in screen
        term.send("hello local\r")
        screen = term.wait_for("Local answer.")
        assert screen.count("thinking locally") == 1
        assert fake.chat_requests()[0]["model"] == "gpt-oss:20b"


def test_ctrl_c_stops_a_streaming_answer(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    from tests.mock_model import responses_frames, sse_body

    words = " ".join(f"word{n}" for n in range(3000))
    slow = sse_body(responses_frames([Text(words)]))
    mock_model.enqueue(slow.apply_faults(split_at=slow.event_ends))  # one event per write, 2 ms apart
    mock_model.responses_text("Short answer.")
    term = start_codex()
    term.wait_for(READY)
    term.send("talk a lot\r")
    term.wait_for("word20")
    term.send("\x03")
    screen = term.wait_for("■ turn interrupted")
    assert "word2999" not in screen
    term.send("briefly please\r")
    term.wait_for("Short answer.")


def test_resizing_the_terminal_redraws_the_prompt_to_fit(start_codex: StartCodex) -> None:
    term = start_codex()
    term.wait_for(READY)
    term.send("some text typed before the window shrinks")
    term.wait_for("shrinks")
    term.resize(50, 40)
    term.send("!")
    term.wait_until(lambda _text: "shrinks!" in term.visible(), "the redrawn input")
    rows = [row for row in term.visible().splitlines() if "some text" in row]
    assert len(rows) == 1 and rows[0].startswith("› some text typed before the window"), term.visible()


def test_a_bad_config_is_reported_and_the_terminal_restored(
    start_codex: StartCodex, codex_home: Path
) -> None:
    (codex_home / "config.toml").write_text('sandbox_mode = "workspace"\n', encoding="utf-8")
    term = start_codex()
    assert term.wait_exit() != 0
    screen = term.text()
    assert "codex: error:" in screen and "sandbox_mode" in screen
    assert "starting codex" not in term.visible()  # the live area was erased on the way out


def test_a_failing_model_request_ends_the_turn_and_the_session_goes_on(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    mock_model.error(500, message="the model is on fire")
    mock_model.responses_text("Recovered.")
    term = start_codex()
    term.wait_for(READY)
    term.send("first try\r")
    screen = term.wait_for("■ error:")
    assert "500" in screen or "on fire" in screen
    term.wait_for(READY)
    term.send("second try\r")
    term.wait_for("Recovered.")


def test_a_prompt_on_the_command_line_is_sent_first(start_codex: StartCodex, mock_model: MockModelServer) -> None:
    mock_model.responses_text("Answered the argument.")
    term = start_codex("-m", "arg-model", "explain", "this repo")
    screen = term.wait_for("Answered the argument.")
    assert "› explain this repo" in screen
    assert mock_model.requests[0].json["model"] == "arg-model"
    assert mock_model.requests[0].json["input"][-1]["content"][0]["text"] == "explain this repo"


def test_ctrl_z_suspends_to_the_shell_and_fg_resumes(tui_env: dict[str, str], workspace: Path) -> None:
    # Stopping needs a job-control shell to come back to, as in a person's terminal.
    shell_env = {**tui_env, "PS1": "shell$ "}
    term = PtyCodex.start([], env=shell_env, cwd=workspace, argv=lambda _args: ["bash", "--norc", "--noprofile", "-i"])
    try:
        term.wait_for("shell$")
        term.send(f"{sys.executable} -m codex\r")
        term.wait_for(READY)
        term.send("\x1a")
        term.wait_for("Stopped")
        term.wait_for("shell$", count=2)
        term.send("fg\r")
        term.wait_until(lambda _text: READY in term.visible(), "the prompt redrawn after fg")
        term.send("back")
        term.wait_until(lambda _text: "› back" in term.visible(), "keys read again after fg")
    finally:
        term.close()


def test_a_plugin_tool_call_is_shown_and_resume_shows_it_again(
    start_codex: StartCodex, mock_model: MockModelServer
) -> None:
    """The installed example plugin's ``now``: an item like a command, live and after resume."""
    mock_model.responses_calls(Call("now", {"timezone": "Asia/Tokyo"}))
    mock_model.responses_text("Morning in Tokyo.")
    first = start_codex()
    first.wait_for(READY)
    first.send("what time is it in Tokyo?\r")
    first.wait_for("Morning in Tokyo.")
    screen = first.text()
    assert re.search(r"✓ now · \d+ms", screen), screen
    assert "+09:00" in screen  # the tool's output, as the model read it
    first.send("\x04")
    assert first.wait_exit() == 0

    second = start_codex("resume", "--last")
    screen = second.wait_for(READY)
    assert '• called now {"timezone": "Asia/Tokyo"}' in screen and "+09:00" in screen
    second.send("\x04")
    assert second.wait_exit() == 0
