"""What the transcript shows for events, and how Markdown is committed while it streams."""

from __future__ import annotations

from codex import events as ev
from codex.cli.tui.markdown import MarkdownRenderer, MarkdownStream, block_boundary
from codex.cli.tui.render import Transcript, clean_event, command_text, diff_lines, live_excerpt, plan_lines
from codex.cli.tui.text import Palette, fit, sanitize, strip_ansi, visible_len, wrap, wrap_choices
from codex.protocol import TokenUsage


def plain_transcript(width: int = 80) -> tuple[Transcript, list[str]]:
    committed: list[str] = []
    transcript = Transcript(Palette(False), MarkdownRenderer(False), committed.extend, lambda: width)
    return transcript, committed


def test_block_boundaries_ignore_blank_lines_inside_fences() -> None:
    text = "para one\n\n```\ncode\n\nmore\n"
    assert block_boundary(text) == len("para one\n\n")
    closed = text + "```\n"
    assert block_boundary(closed) == len(closed)
    assert block_boundary("no newline yet") == 0
    assert block_boundary("~~~~\n```\n~~~~\n") == len("~~~~\n```\n~~~~\n")


def test_streaming_markdown_commits_finished_blocks_only() -> None:
    rendered: list[str] = []

    def render(source: str) -> list[str]:
        rendered.append(source)
        return [f"<{source.strip()}>"]

    stream = MarkdownStream(render)
    assert stream.push("Hello wor") == []
    assert stream.push("ld.\n") == []
    assert stream.tail == "Hello world.\n"
    assert stream.push("\nNext") == ["<Hello world.>"]
    assert stream.tail == "Next"
    assert stream.finish() == ["", "<Next>"]
    assert rendered == ["Hello world.\n\n", "Next"]


def test_markdown_renders_without_markup_and_without_colour_when_off() -> None:
    rows = MarkdownRenderer(False).render("# Title\n\nSome **bold** and `code`.\n\n- item", 40)
    text = "\n".join(rows)
    assert "Title" in text and "Some bold and code." in text and "• item" in text
    assert "**" not in text and "\x1b" not in text
    assert rows[0].startswith("Title")  # headings start at the left edge


def test_markdown_with_colour_styles_bold() -> None:
    rows = MarkdownRenderer(True).render("Some **bold** text", 40)
    assert "\x1b[1m" in rows[0]
    assert strip_ansi(rows[0]) == "Some bold text"


def test_live_excerpt_keeps_an_open_fence() -> None:
    tail = "```python\n" + "\n".join(f"line {n}" for n in range(200))
    excerpt = live_excerpt(tail)
    assert excerpt.startswith("```python\n")
    assert excerpt.endswith("line 199")
    assert "line 0\n" not in excerpt


def test_transcript_shows_a_finished_command_with_status_and_last_lines() -> None:
    transcript, committed = plain_transcript()
    transcript.handle(ev.ExecCommandBegin("c1", ["bash", "-lc", "make test"], "/w"))
    assert any("make test" in row for row in transcript.live_rows(0.0))
    output = "\n".join(f"out {n}" for n in range(8))
    transcript.handle(ev.ExecCommandEnd("c1", 2, 1.5, output, "", output))
    assert committed[0] == "✗ make test · exit 2 · 1.5s"
    assert committed[1] == "  │ … +3 lines"
    assert committed[-1] == "  │ out 7"
    assert transcript.live_rows(0.0) == []


def test_transcript_plan_updates_in_place_and_lands_at_the_end_of_the_turn() -> None:
    transcript, committed = plain_transcript()
    transcript.handle(ev.PlanUpdate(None, [{"step": "read", "status": "in_progress"}]))
    transcript.handle(ev.PlanUpdate(None, [{"step": "read", "status": "completed"},
                                           {"step": "write", "status": "in_progress"}]))
    assert transcript.live_rows(0.0) == ["Plan", "  ✔ read", "  ▸ write"]
    assert committed == []
    transcript.handle(ev.TokenCount(TokenUsage(10, 0, 5, 0, 15), TokenUsage(10, 0, 5, 0, 15)))
    transcript.handle(ev.TaskComplete("done"))
    assert committed[:3] == ["Plan", "  ✔ read", "  ▸ write"]
    assert committed[-1] == "tokens: 15 this turn (in 10 / out 5) · 15 this session"


def test_transcript_message_streams_then_is_committed_once() -> None:
    transcript, committed = plain_transcript()
    transcript.handle(ev.AgentMessageDelta("First paragraph.\n\nSecond"))
    assert committed == ["codex", "First paragraph."]
    transcript.handle(ev.AgentMessageDelta(" one."))
    transcript.handle(ev.AgentMessage("First paragraph.\n\nSecond one."))
    assert committed == ["codex", "First paragraph.", "", "Second one."]


def test_a_message_that_never_streamed_is_shown_whole() -> None:
    transcript, committed = plain_transcript()
    transcript.handle(ev.AgentMessage("all at once"))
    assert committed == ["codex", "all at once"]


def test_reasoning_is_shown_dimmed_with_colour() -> None:
    committed: list[str] = []
    transcript = Transcript(Palette(True), MarkdownRenderer(True), committed.extend, lambda: 80)
    transcript.handle(ev.AgentReasoning("**Planning** the change"))
    assert strip_ansi(committed[1]) == "  Planning the change"
    assert committed[1].startswith("\x1b[2;3m")


def test_diff_colours_and_plan_marks() -> None:
    paint = Palette(True)
    lines = diff_lines("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n same", paint)
    assert lines[3] == "\x1b[31m-old\x1b[0m" and lines[4] == "\x1b[32m+new\x1b[0m" and lines[5] == " same"
    assert plan_lines([{"step": "a", "status": "pending"}], "why", Palette(False), 80) == ["Plan", "  why", "  □ a"]


def test_command_text_shows_scripts_as_typed() -> None:
    assert command_text(["bash", "-lc", "ls -la | head"]) == "ls -la | head"
    assert command_text(["rm", "-rf", "my dir"]) == "rm -rf 'my dir'"


def test_fit_and_wrap_respect_cell_widths_and_escapes() -> None:
    styled = "\x1b[1m" + "x" * 30 + "\x1b[0m"
    cut = fit(styled, 10)
    assert visible_len(cut) == 10 and cut.endswith("\x1b[0m…")
    assert visible_len(fit("日本語日本語", 5)) <= 5
    assert wrap("the quick brown fox", 9) == ["the quick", "brown fox"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_sanitize_removes_terminal_control_from_command_output() -> None:
    assert sanitize("\x1b[31mred\x1b[0m\tx\r\n50%\r100%\x07") == "red x\n100%"


def test_streamed_reasoning_is_not_repeated_when_the_item_completes() -> None:
    transcript, committed = plain_transcript()
    transcript.handle(ev.AgentReasoningDelta("Looking at"))
    transcript.handle(ev.AgentReasoningDelta(" the tests"))
    assert transcript.live_rows(0.0) == ["thinking", "  Looking at the tests"]
    transcript.handle(ev.AgentMessageDelta("Done.\n\n"))  # the answer starts: reasoning is committed
    transcript.handle(ev.AgentMessage("Done."))
    transcript.handle(ev.AgentReasoning("Looking at the tests"))
    assert committed == ["thinking", "  Looking at the tests", "codex", "Done."]

    transcript, committed = plain_transcript()
    transcript.handle(ev.AgentReasoning("Only at the end"))
    assert committed == ["thinking", "  Only at the end"]


def test_events_reaching_the_screen_carry_no_escape_sequences() -> None:
    hostile = "\x1b]0;pwned\x07\x1b[2Jtext"
    begin = clean_event(ev.ExecCommandBegin("c", ["echo", hostile], "/w"))
    assert isinstance(begin, ev.ExecCommandBegin) and begin.command == ["echo", "text"]
    request = clean_event(ev.PatchApprovalRequest("r", "c", {"a.txt": {"unified_diff": "+\x1b[31mx"}}, "+\x1b[1my"))
    assert isinstance(request, ev.PatchApprovalRequest)
    assert request.changes["a.txt"]["unified_diff"] == "+x" and request.diff == "+y"
    delta = ev.AgentMessageDelta("plain")
    assert clean_event(delta) is delta  # nothing to clean: no copy


def test_sanitize_keeps_text_before_a_trailing_carriage_return() -> None:
    assert sanitize("streamed delta\r") == "streamed delta"


def test_reasoning_finished_while_the_answer_streams_is_committed_after_the_answer() -> None:
    transcript, committed = plain_transcript()
    transcript.handle(ev.AgentMessageDelta("First paragraph.\n\nSecond"))
    transcript.handle(ev.AgentMessageDelta(" paragraph."))
    transcript.handle(ev.AgentReasoningDelta("A late thought."))
    transcript.handle(ev.AgentReasoning("A late thought."))  # the chat wire: reasoning item first
    assert committed == ["codex", "First paragraph."]
    transcript.handle(ev.AgentMessage("First paragraph.\n\nSecond paragraph."))
    assert committed == ["codex", "First paragraph.", "", "Second paragraph.", "thinking", "  A late thought."]


def test_the_plan_is_committed_when_the_answer_starts() -> None:
    transcript, committed = plain_transcript()
    transcript.handle(ev.PlanUpdate(None, [{"step": "read", "status": "completed"}]))
    transcript.handle(ev.AgentMessageDelta("Done reading.\n\n"))
    assert committed == ["Plan", "  ✔ read", "codex", "Done reading."]
    transcript.handle(ev.TaskComplete("Done reading."))
    assert committed.count("Plan") == 1


def test_choices_wrap_between_choices() -> None:
    keys = "y yes · a yes, always this session · n no, tell codex why · q abort"
    assert wrap_choices(keys, 80) == [keys]
    assert wrap_choices(keys, 60) == ["y yes · a yes, always this session · n no, tell codex why", "q abort"]
    assert wrap_choices(keys, 30) == ["y yes", "a yes, always this session", "n no, tell codex why · q abort"]
    assert all(visible_len(row) <= 12 for row in wrap_choices(keys, 12))
