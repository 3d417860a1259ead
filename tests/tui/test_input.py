"""Keys and the input box: what the terminal sends, and what typing does to the text."""

from __future__ import annotations

from codex.cli.tui.editor import Completer, Editor, History, InputBuffer, layout
from codex.cli.tui.keys import Key, KeyDecoder


def decode(*chunks: bytes) -> list[Key]:
    decoder = KeyDecoder()
    keys: list[Key] = []
    for chunk in chunks:
        keys += decoder.feed(chunk)
    return keys + decoder.flush()


def test_printable_control_and_arrow_keys() -> None:
    keys = decode(b"a\r\n\t\x7f\x03\x04\x1b[A\x1b[B\x1bOC\x1b[D\x1b[3~\x1b[H\x1b[4~")
    names = [key.name for key in keys]
    assert names == ["char", "enter", "newline", "tab", "backspace", "ctrl-c", "ctrl-d", "up", "down", "right",
                     "left", "delete", "home", "end"]
    assert keys[0].text == "a"


def test_utf8_split_across_reads_is_one_character() -> None:
    data = "é→".encode()
    keys = decode(data[:1], data[1:3], data[3:])
    assert [key.text for key in keys] == ["é", "→"]


def test_escape_sequence_split_across_reads() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b") == []
    assert decoder.waiting
    assert decoder.feed(b"[") == []
    assert decoder.feed(b"1;5C") == [Key("right", ctrl=True)]


def test_lone_escape_is_the_esc_key_after_a_pause() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b") == []
    assert decoder.flush() == [Key("esc")]


def test_alt_keys_and_alt_enter() -> None:
    assert decode(b"\x1bb", b"\x1b\r") == [Key("char", "b", alt=True), Key("newline", alt=True)]


def test_bracketed_paste_keeps_newlines_and_is_one_event() -> None:
    keys = decode(b"x\x1b[200~line one\r\nline", b" two\x1b[20", b"1~y")
    assert keys == [Key("char", "x"), Key("paste", "line one\nline two"), Key("char", "y")]


def test_shift_enter_reports_become_newlines() -> None:
    assert decode(b"\x1b[13;2u", b"\x1b[27;2;13~") == [Key("newline"), Key("newline")]


def type_into(editor: Editor, text: str) -> list[str | None]:
    return [editor.handle(Key("char", char)) for char in text]


def test_enter_submits_and_ctrl_j_adds_a_line() -> None:
    editor = Editor()
    type_into(editor, "first")
    assert editor.handle(Key("newline")) is None
    type_into(editor, "second")
    assert editor.handle(Key("enter")) == "submit"
    assert editor.take() == "first\nsecond"
    assert editor.text == ""


def test_editing_keys() -> None:
    editor = Editor()
    type_into(editor, "hello brave world")
    editor.handle(Key("ctrl-w"))
    assert editor.text == "hello brave "
    editor.handle(Key("home"))
    editor.handle(Key("char", "f", alt=True))
    editor.handle(Key("ctrl-k"))
    assert editor.text == "hello"
    editor.handle(Key("left"))
    editor.handle(Key("backspace"))
    assert editor.text == "helo"
    editor.handle(Key("ctrl-a"))
    editor.handle(Key("delete"))
    assert editor.text == "elo"
    editor.handle(Key("ctrl-e"))
    editor.handle(Key("ctrl-u"))
    assert editor.text == ""


def test_ctrl_d_deletes_or_means_eof_on_an_empty_box() -> None:
    editor = Editor()
    assert editor.handle(Key("ctrl-d")) == "eof"
    type_into(editor, "ab")
    editor.handle(Key("left"))
    assert editor.handle(Key("ctrl-d")) is None
    assert editor.text == "a"


def test_up_and_down_move_between_lines_then_walk_the_history() -> None:
    editor = Editor(History(["older", "newer"]))
    type_into(editor, "draft")
    editor.handle(Key("up"))
    assert editor.text == "newer"
    editor.handle(Key("up"))
    assert editor.text == "older"
    editor.handle(Key("up"))
    assert editor.text == "older"
    editor.handle(Key("down"))
    editor.handle(Key("down"))
    assert editor.text == "draft"

    multi = Editor(History(["from history"]))
    multi.handle(Key("paste", "one\ntwo"))
    multi.handle(Key("up"))
    assert multi.text == "one\ntwo" and multi.buffer.cursor == 3
    multi.handle(Key("up"))
    assert multi.text == "from history"


def test_history_skips_repeats_and_prepends_saved_entries() -> None:
    history = History()
    history.add("a")
    history.add("a")
    history.add("  ")
    history.prepend(["saved"])
    assert history.entries == ["saved", "a"]
    assert history.previous("") == "a"


def test_tab_completes_slash_commands_and_at_paths() -> None:
    files = ["src/app.py", "src/apply.py", "docs/guide.md"]
    completer = Completer([("/model", "m"), ("/approvals", "a"), ("/quit", "q")], lambda: files)
    editor = Editor(completer=completer)
    type_into(editor, "/mo")
    editor.handle(Key("tab"))
    assert editor.text == "/model "

    editor = Editor(completer=completer)
    type_into(editor, "look at @src/ap")
    assert editor.suggestions is not None
    assert [item[0] for item in editor.suggestions.items] == ["@src/app.py", "@src/apply.py"]
    editor.handle(Key("down"))  # moves the highlight to the second candidate
    editor.handle(Key("tab"))
    assert editor.text == "look at @src/apply.py "
    assert editor.suggestions is None

    editor = Editor(completer=completer)
    type_into(editor, "@guide")
    assert editor.handle(Key("enter")) is None  # Enter first accepts the file
    assert editor.text == "@docs/guide.md "
    assert editor.handle(Key("enter")) == "submit"


def test_layout_wraps_by_cells_and_places_the_cursor() -> None:
    shape = layout("abcdefgh", 8, 6, "> ", 2)
    assert shape.rows == ["> abcd", "  efgh", "  "]
    assert (shape.cursor_row, shape.cursor_col) == (2, 2)

    wide = layout("日本語", 1, 6, "> ", 2)
    assert wide.rows == ["> 日本", "  語"]
    assert (wide.cursor_row, wide.cursor_col) == (0, 4)

    lines = layout("ab\ncd", 4, 20, "> ", 2)
    assert lines.rows == ["> ab", "  cd"]
    assert (lines.cursor_row, lines.cursor_col) == (1, 3)


def test_buffer_word_moves() -> None:
    buffer = InputBuffer("one two  three")
    buffer.word_left()
    assert buffer.cursor == len("one two  ")
    buffer.word_left()
    assert buffer.cursor == len("one ")
    buffer.word_right()
    assert buffer.cursor == len("one two")
