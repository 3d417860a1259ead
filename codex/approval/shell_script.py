"""Reading a `bash -c` script with tree-sitter-bash: the words of each command when the script is a plain
sequence of simple commands, or `NotPlainScript` naming the part that is not (redirection,
substitution, control flow, lookalike characters...). Time and size are bounded."""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codex.approval import safe_commands_data as data

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["NotPlainScript", "Word", "excerpt", "program_name", "script_commands", "shell_call", "show_words"]


class NotPlainScript(ValueError):
    """A script is not a plain sequence of simple commands; `reason` says which part and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason



@dataclass(frozen=True, slots=True)
class Word:
    """One argv word; `glob` when it holds an unquoted glob character the shell would expand."""

    value: str
    glob: bool = False
    glob_may_be_option: bool = False  # its expansion could start with `-`



def shell_call(argv: Sequence[str]) -> tuple[str, str] | None:
    """(shell, script) when argv is `bash|sh|zsh|dash -c|-lc SCRIPT`, else None."""
    if len(argv) != 3 or argv[1] not in data.SCRIPT_FLAGS:
        return None
    program = program_name(argv[0])
    if program not in data.SCRIPT_SHELLS:
        return None
    return program, argv[2]


_STATEMENT_CONTAINERS = frozenset({"program", "list", "pipeline"})
_OPERATORS = frozenset({"&&", "||", ";", "|"})
_WORD_NODES = frozenset({"word", "raw_string", "string", "concatenation", "number"})
_WORD_INNER_NODES = _WORD_NODES | {"string_content", '"', "command_name"}


def script_commands(
    script: str, shell: str, *, max_bytes: int, max_nesting: int, deadline_seconds: float
) -> list[tuple[Word, ...]]:
    """The words of each command of a plain script, or NotPlainScript naming the offending part.

    The limits bound the work: a script over ``max_bytes``, nested more than ``max_nesting``
    brackets deep, or taking longer than ``deadline_seconds`` to parse is not plain. Example::

        script_commands("ls && git log", "bash", max_bytes=65536, max_nesting=64, deadline_seconds=1.0)
        # [(Word("ls"),), (Word("git"), Word("log"))]
    """
    if "\x00" in script:
        raise NotPlainScript("the script contains a NUL byte")
    try:
        source = script.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotPlainScript("the script is not valid UTF-8 text") from exc
    if len(source) > max_bytes:
        raise NotPlainScript(
            f"the script is {len(source)} bytes; scripts over {max_bytes} bytes "
            "are not checked"
        )
    depth = _bracket_depth(script)
    if depth > max_nesting:
        raise NotPlainScript(f"the script nests brackets {depth} deep (limit {max_nesting})")
    root = _parse(source, deadline_seconds)
    _reject_parse_errors(root, source)
    try:
        return _walk_commands(root, source, shell)
    except NotPlainScript as exc:
        # Safe scripts skip this second walk; rejected ones get the most specific reason.
        found = _first(root, lambda n: n.type in _SYNTAX_REASONS or n.type in _REDIRECTIONS)
        if found is None:
            raise
        raise NotPlainScript(_describe(found, source)) from exc


def _walk_commands(root: Node, source: bytes, shell: str) -> list[tuple[Word, ...]]:
    items: list[tuple[int, int, tuple[Word, ...] | str]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in _STATEMENT_CONTAINERS:
            stack.extend(reversed(node.children))
        elif node.type == "command":
            items.extend(_command_words(node, source, shell))
        elif not node.is_named and node.type in _OPERATORS:
            items.append((node.start_byte, node.end_byte, node.type))
        else:
            raise NotPlainScript(_describe(node, source))

    commands: list[tuple[Word, ...]] = []
    previous_end = 0
    expect_command = True
    for start, end, item in items:
        gap = _gap(source, previous_end, start)
        if isinstance(item, tuple):
            if not expect_command and "\n" not in gap.replace("\\\n", ""):
                raise NotPlainScript("two commands follow each other without an operator")
            commands.append(item)
            expect_command = False
        elif expect_command:
            raise NotPlainScript(f"operator `{item}` has no command before it")
        else:
            expect_command = True
        previous_end = end
    _gap(source, previous_end, len(source))
    if not commands:
        raise NotPlainScript("the script has no commands")
    if expect_command and items and items[-1][2] != ";":
        raise NotPlainScript(f"the script ends with the operator `{items[-1][2]}`")
    return commands


def _command_words(node: Node, source: bytes, shell: str) -> list[tuple[int, int, tuple[Word, ...]]]:
    """The words of a command node as (start, end, words); more than one command when the
    grammar ran on across a newline, where the shell ends a command (``find .<newline>git log``
    inside a pipeline parses as one node)."""
    pieces: list[list[list[int]]] = [[]]  # per command, the [start, end] byte span of each word
    for child in node.children:
        if child.type != "command_name" and child.type not in _WORD_NODES:
            raise NotPlainScript(_describe(child, source))
        spans = pieces[-1]
        gap = _gap(source, spans[-1][1] if spans else node.start_byte, child.start_byte).replace("\\\n", "")
        if spans and not gap:
            # Nothing but line continuations between two parts: the shell reads one word (`'a'\:`,
            # `-dele\<newline>te`), whatever the grammar made of it.
            spans[-1][1] = child.end_byte
        elif spans and "\n" in gap:
            pieces.append([[child.start_byte, child.end_byte]])
        else:
            spans.append([child.start_byte, child.end_byte])
    if not pieces[0]:
        raise NotPlainScript(f"`{excerpt(_node_text(node, source))}` is not a simple command")
    commands = []
    for spans in pieces:
        words = tuple(_decode_word(source[start:end].decode("utf-8"), shell) for start, end in spans)
        commands.append((spans[0][0], spans[-1][1], words))
    return commands


def _gap(source: bytes, start: int, end: int) -> str:
    """Text between accepted nodes: only blanks, newlines and line continuations may hide there."""
    gap = source[start:end].decode("utf-8")
    for char in gap.replace("\\\n", ""):
        if char not in " \t\n":
            shown = f"`{char}`" if char.isprintable() else f"U+{ord(char):04X}"
            raise NotPlainScript(f"unexpected character {shown} between words")
    return gap


_PLAIN_WORD = re.compile(r"[A-Za-z0-9_./:,+@%=-][A-Za-z0-9_./:,+@%=~!#-]*")  # nothing to decode
_GLOB_CHARS = "*?["
_ZSH_GLOB_CHARS = _GLOB_CHARS + "^#~"  # extended_glob patterns in zsh
_UNQUOTED_SYNTAX = "|&;<>()$`"
_DOUBLE_QUOTE_ESCAPES = '$`"\\\n'
_SHELL_SIGNIFICANT = set(" \t\n|&;<>(){}$`\\\"'*?[]#=~!")
_LOOKALIKES = {
    "\u01c0": "|", "\u2223": "|", "\u2502": "|", "\u2016": "||", "\u2039": "<", "\u203a": ">",
    "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"', "\u2032": "'",
    "\u2033": '"', "\u0589": ":", "\u02bc": "'",
}


def _decode_word(text: str, shell: str) -> Word:
    """Remove quotes and escapes as the shell would, rejecting anything but literal text."""
    if shell != "zsh" and _PLAIN_WORD.fullmatch(text):  # zsh globs with `#` and `~` too
        return Word(text)
    glob_chars = _ZSH_GLOB_CHARS if shell == "zsh" else _GLOB_CHARS
    out: list[str] = []
    glob = False
    glob_first = False
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            if index + 1 >= length:
                raise NotPlainScript(f"trailing backslash in `{excerpt(text)}`")
            if text[index + 1] != "\n":
                out.append(text[index + 1])
            index += 2
        elif char == "'":
            close = text.find("'", index + 1)
            if close < 0:
                raise NotPlainScript(f"unterminated quote in `{excerpt(text)}`")
            out.append(text[index + 1 : close])
            index = close + 1
        elif char == '"':
            index = _decode_double_quoted(text, index + 1, out)
        elif char in " \t\n":
            # The parser kept a blank inside one word; the shell would split it there.
            raise NotPlainScript(f"ambiguous word boundary inside `{excerpt(text)}`")
        elif char in "{}":
            raise NotPlainScript(f"brace `{char}` in `{excerpt(text)}` can expand into extra arguments; quote it")
        elif char in _UNQUOTED_SYNTAX:
            raise NotPlainScript(f"`{char}` in `{excerpt(text)}` is shell syntax, not a plain word")
        elif char == "#" and index == 0:
            raise NotPlainScript(f"`{excerpt(text)}` starts like a comment")
        elif char in glob_chars and not (char == "~" and index == 0):
            if not any(out):
                glob_first = True
            glob = True
            out.append(char)
            index += 1
        else:
            _reject_lookalike(char, text)
            out.append(char)
            index += 1
    return Word("".join(out), glob=glob, glob_may_be_option=glob and glob_first)


def _decode_double_quoted(text: str, index: int, out: list[str]) -> int:
    """Decode the inside of "..." starting after the quote; return the index after the closing one."""
    while index < len(text):
        char = text[index]
        if char == '"':
            return index + 1
        if char in "$`":
            raise NotPlainScript(f"`{char}` inside double quotes in `{excerpt(text)}` expands")
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _DOUBLE_QUOTE_ESCAPES:
            if text[index + 1] != "\n":
                out.append(text[index + 1])
            index += 2
        else:
            out.append(char)
            index += 1
    raise NotPlainScript(f"unterminated double quote in `{excerpt(text)}`")


def _reject_lookalike(char: str, text: str) -> None:
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        raise NotPlainScript(f"control character U+{code:04X} in `{excerpt(text)}`; quote it")
    if code < 0x80:
        return
    looks_like = _LOOKALIKES.get(char) or "".join(
        c for c in unicodedata.normalize("NFKC", char) if c in _SHELL_SIGNIFICANT
    )
    if looks_like:
        shown = looks_like.replace("\n", "newline").replace(" ", "space")
        raise NotPlainScript(
            f"unquoted `{char}` (U+{code:04X}) looks like the shell's `{shown}`; quote it if it "
            "is meant literally"
        )
    if unicodedata.category(char) in {"Cf", "Cc", "Zs", "Zl", "Zp", "Co", "Cn"}:
        raise NotPlainScript(f"invisible or unassigned character U+{code:04X} in `{excerpt(text)}`")


def _bracket_depth(script: str) -> int:
    """Maximum nesting of ( { [ ignoring quotes: a cheap bound on what the parser must face."""
    depth = deepest = 0
    for char in script:
        if char in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")}]" and depth:
            depth -= 1
    return deepest


@functools.cache
def _bash_language() -> Any:
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Language(tree_sitter_bash.language())


def _parse(source: bytes, deadline_seconds: float) -> Node:
    """Parse with tree-sitter-bash, stopping at the first syntax error or at the deadline."""
    try:
        import tree_sitter

        language = _bash_language()
    except ImportError as exc:
        raise NotPlainScript(
            "shell scripts cannot be checked: install the `tree-sitter` and `tree-sitter-bash` "
            "packages"
        ) from exc
    parser = tree_sitter.Parser(language)
    stop_at = time.monotonic() + deadline_seconds
    stopped: list[str] = []

    def read(offset: int, _point: object) -> bytes:
        return source[offset:]

    def progress(offset: int, has_error: bool) -> bool:
        if has_error:
            stopped.append(f"the script is not valid shell syntax (near byte {offset})")
        elif time.monotonic() > stop_at:
            stopped.append(f"parsing the script took longer than {deadline_seconds:g} s")
        return bool(stopped)

    read_callback: Callable[[int, Any], bytes] = read
    try:
        tree = parser.parse(read_callback, progress_callback=progress)
    except ValueError as exc:  # tree-sitter reports a cancelled parse this way
        raise NotPlainScript(stopped[0] if stopped else "the script could not be parsed") from exc
    except TypeError as exc:  # a tree-sitter older than 0.25 has no progress callback
        raise NotPlainScript("shell scripts cannot be checked: upgrade `tree-sitter` to 0.25 or newer") from exc
    return tree.root_node


_SYNTAX_REASONS = {
    "heredoc_redirect": "here-document `{}` is not allowed",
    "herestring_redirect": "here-string `{}` is not allowed",
    "command_substitution": "command substitution `{}` runs another command",
    "process_substitution": "process substitution `{}` runs another command",
    "simple_expansion": "expansion `{}` depends on variables",
    "expansion": "expansion `{}` depends on variables",
    "arithmetic_expansion": "arithmetic expansion `{}` can run commands",
    "brace_expression": "brace expansion `{}` can add arguments",
    "ansi_c_string": "ANSI-C quoting `{}` is not allowed",
    "translated_string": "locale quoting `{}` is not allowed",
    "subshell": "subshell `{}` is not allowed",
    "compound_statement": "command group `{}` is not allowed",
    "function_definition": "function definition `{}` is not allowed",
    "variable_assignment": "assignment `{}` changes the command's environment",
    "declaration_command": "declaration `{}` is not allowed",
    "unset_command": "`{}` changes the shell's state",
    "negated_command": "negation `{}` is not allowed",
    "test_command": "test expression `{}` is not allowed",
    "comment": "comment `{}` is not allowed in a known-safe script",
    "if_statement": "control flow `{}` is not allowed",
    "while_statement": "control flow `{}` is not allowed",
    "for_statement": "control flow `{}` is not allowed",
    "c_style_for_statement": "control flow `{}` is not allowed",
    "case_statement": "control flow `{}` is not allowed",
    "$": "unquoted `{}` starts an expansion or locale quoting; quote it if it is meant literally",
    "&": "background operator `{}` runs a command in the background",
    "|&": "`{}` pipes standard error too (a file-descriptor redirection)",
}


_REDIRECTIONS = frozenset({"file_redirect", "redirected_statement"})


def _reject_parse_errors(root: Node, source: bytes) -> None:
    if root.has_error:
        bad = _first(root, lambda n: n.type == "ERROR" or n.is_missing)
        if bad is not None and bad.is_missing:
            raise NotPlainScript(f"the script is incomplete: `{bad.type}` expected at byte {bad.start_byte}")
        near = excerpt(_node_text(bad, source)) if bad is not None else ""
        raise NotPlainScript(f"the script is not valid shell syntax near `{near}`")


def _first(root: Node, wanted: Callable[[Node], bool]) -> Node | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if wanted(node):
            return node
        stack.extend(reversed(node.children))
    return None


def _describe(node: Node, source: bytes) -> str:
    if node.type == "redirected_statement":
        redirect = _first(node, lambda n: n.type.endswith("redirect"))
        if redirect is not None:
            return _describe(redirect, source)
    text = excerpt(_node_text(node, source))
    if node.type == "file_redirect":
        if ">&" in text or "<&" in text:
            return f"file-descriptor redirection `{text}` is not allowed"
        if ">" in text:
            return f"redirection `{text}` can write files"
        return f"input redirection `{text}` is not allowed"
    template = _SYNTAX_REASONS.get(node.type)
    if template is not None:
        return template.format(text)
    if not node.is_named:
        return f"operator `{text}` is not allowed in a known-safe script"
    return f"shell syntax `{text}` ({node.type}) is not allowed in a known-safe script"


def _node_text(node: Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8")


def program_name(path: str) -> str | None:
    if "/" not in path:
        return path
    for directory in data.SYSTEM_BIN_DIRS:
        name = path[len(directory) :]
        if path.startswith(directory) and name and "/" not in name:
            return name
    return None



def show_words(words: Sequence[str] | Sequence[Word]) -> str:
    return " ".join(w.value if isinstance(w, Word) else w for w in words)


def excerpt(text: str, limit: int = 60) -> str:
    line = text.split("\n", 1)[0]
    return line if len(line) <= limit and line == text else line[:limit] + "…"
