"""A tiny SBPL reader and rule evaluator, so tests on Linux can check what macOS would enforce.

It understands exactly the subset the generator emits (lists, atoms, "strings", #"regexes",
; comments) and evaluates file rules the way Seatbelt does: deny by default, the last matching
rule wins, filters inside one rule are alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias


class SexprError(ValueError):
    """The text is not a well-formed s-expression list."""


@dataclass(frozen=True)
class Str:
    """A double-quoted string literal."""

    value: str


@dataclass(frozen=True)
class Regex:
    """A #"..." regular-expression literal."""

    pattern: str


Node: TypeAlias = str | Str | Regex | list["Node"]


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read from just after an opening quote to the closing one; return (body, next index)."""
    out: list[str] = []
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise SexprError(f"unterminated string starting at offset {start - 1}")


def parse(text: str) -> list[Node]:
    """Read every top-level form; raise SexprError on unbalanced parentheses or strings."""
    stack: list[list[Node]] = [[]]
    opened_at: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char == ";":
            newline = text.find("\n", index)
            index = len(text) if newline == -1 else newline + 1
        elif char == "(":
            stack.append([])
            opened_at.append(index)
            index += 1
        elif char == ")":
            if len(stack) == 1:
                raise SexprError(f"unexpected ')' at offset {index}")
            done = stack.pop()
            opened_at.pop()
            stack[-1].append(done)
            index += 1
        elif text.startswith('#"', index):
            body, index = _read_quoted(text, index + 2)
            stack[-1].append(Regex(body))
        elif char == '"':
            body, index = _read_quoted(text, index + 1)
            stack[-1].append(Str(body))
        else:
            end = index
            while end < len(text) and not text[end].isspace() and text[end] not in '();"':
                end += 1
            stack[-1].append(text[index:end])
            index = end
    if len(stack) != 1:
        raise SexprError(f"'(' at offset {opened_at[-1]} is never closed")
    return stack[0]


def rule_operations(rule: list[Node]) -> list[str]:
    """The operation names of an (allow ...) / (deny ...) rule: the atoms after the verb."""
    return [item for item in rule[1:] if isinstance(item, str)]


def rule_filters(rule: list[Node]) -> list[list[Node]]:
    """The filters of a rule: the lists after the operation names."""
    return [item for item in rule[1:] if isinstance(item, list)]


def _operation_matches(rule_op: str, op: str) -> bool:
    if rule_op == "default" or rule_op == op:
        return True
    return rule_op.endswith("*") and op.startswith(rule_op[:-1])


def _value(node: Node, params: dict[str, str]) -> str:
    if isinstance(node, Str):
        return node.value
    if isinstance(node, list) and node and node[0] == "param" and isinstance(node[1], Str):
        name = node[1].value
        if name not in params:
            raise KeyError(f"profile uses (param {name!r}) but no -D{name}= is passed")
        return params[name]
    raise SexprError(f"expected a string or (param ...), got {node!r}")


def _filter_matches(node: list[Node], params: dict[str, str], path: str) -> bool:
    head = node[0]
    args = node[1:]
    if head == "literal":
        return path == _value(args[0], params)
    if head == "subpath":
        root = _value(args[0], params)
        return path == root or path.startswith(root.rstrip("/") + "/")
    if head == "regex":
        pattern = args[0]
        assert isinstance(pattern, Regex)
        return re.search(pattern.pattern, path) is not None
    if head in ("require-all", "require-any", "require-not"):
        results = [_filter_matches(child, params, path) for child in args if isinstance(child, list)]
        if head == "require-all":
            return all(results)
        if head == "require-any":
            return any(results)
        return not results[0]
    if head in ("vnode-type", "extension"):
        # Tests only ask about regular files without sandbox extensions.
        return False
    raise SexprError(f"filter {head!r} is not a path filter")


def is_allowed(forms: list[Node], params: dict[str, str], operation: str, path: str) -> bool:
    """Whether ``operation`` on ``path`` passes the profile (last matching rule wins)."""
    allowed = False
    for form in forms:
        if not isinstance(form, list) or form[0] not in ("allow", "deny"):
            continue
        if not any(_operation_matches(op, operation) for op in rule_operations(form)):
            continue
        filters = rule_filters(form)
        if not filters or any(_filter_matches(f, params, path) for f in filters):
            allowed = form[0] == "allow"
    return allowed
