"""The arrows that must never exist (DESIGN.md, "Rules of the house"), read from the source.

Every import counts: at module level, inside a function (a lazy import is still an arrow, it only
fires later), under ``if TYPE_CHECKING:`` (a type names a dependency too), and ``"module:attr"``
references that codex imports on demand. From them:

- no import cycles among the modules of ``codex/`` and ``plugins/``;
- ``codex/`` never imports a plugin, and plugins never import each other;
- the engine (everything in ``codex/`` but the faces ``codex.cli``, ``codex.mcp`` and
  ``codex.__main__``) never imports a face;
- no module imports another module's private (underscore) names, ours or a dependency's;
- plugins (built-in, the third-party example, the examples) import from codex only its public
  plugin API, ``codex.plugin``, and the conformance kit, ``codex.testing``.

A failure lists every offending import with its file and line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACES = ("codex.cli", "codex.mcp", "codex.__main__")
# What a plugin may import from codex: the public plugin API and the conformance kit.
PUBLIC_FOR_PLUGINS = ("codex.plugin", "codex.testing")
# Packaged plugins outside plugins/, each written as a third party would write one.
THIRD_PARTY_PACKAGES = (
    "tests/thirdparty_plugin/*/__init__.py",
    "examples/*/*/__init__.py",
    "examples/*/src/*/__init__.py",
)

# Cycles we know of and have not untangled yet, as the import that closes each one (an exception
# hides every cycle through its import, so each is the narrowest one: type-only where possible).
# Remove an entry when its cycle is gone (the test says so); never add one to make a cycle pass.
KNOWN_CYCLE_IMPORTS = {
    # All type-only. The interactive app hands itself to the slash commands and bridges, which
    # name its type, and names command.py's ResumeTarget, while command.py builds the app. Fix:
    # a small Protocol for what slash.py and bridges.py use, and ResumeTarget beside the app.
    ("codex.cli.tui.slash", "codex.cli.tui.app"),
    ("codex.cli.tui.bridges", "codex.cli.tui.app"),
    ("codex.cli.tui.app", "codex.cli.tui.command"),
}

# Private names imported across modules before this test existed, as (importer, imported) module
# prefixes. Remove an entry when its import goes; never add one.
KNOWN_PRIVATE_IMPORTS = (
    # loader.py and schema.py read model.py's table base class (_Section) and type hints (_hints)
    # to build and check the pydantic validators.
    ("codex.config.loader", "codex.config.model"),
    ("codex.config.schema", "codex.config.model"),
    # The patch engine's modules share parsing and diff helpers among themselves.
    ("codex.tools.patch.", "codex.tools.patch."),
)

_REFERENCE = re.compile(r"(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Import:
    """One arrow: ``source`` imports ``target`` (a module of ours, or any name of another package)."""

    source: str
    target: str
    names: tuple[str, ...]
    path: Path
    line: int
    lazy: bool
    type_only: bool

    def __str__(self) -> str:
        how = ", ".join(word for word, on in (("lazy", self.lazy), ("type-only", self.type_only)) if on)
        names = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.path}:{self.line}: {self.source} -> {self.target}{names}" + (f" [{how}]" if how else "")


def project_modules(root: Path) -> dict[str, Path]:
    """Module name -> file for ``root/codex`` and every ``root/plugins/<name>/<package>``."""
    modules: dict[str, Path] = {}
    packages = [root / "codex", *sorted(p.parent for p in root.glob("plugins/*/*/__init__.py"))]
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            parts = path.relative_to(package.parent).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path], root: Path) -> Iterator[Import]:
    """Every import in one module, resolved to our deepest module where the target is ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    relative = path.relative_to(root)

    def ours(target: str) -> str:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target

    def visit(node: ast.AST, lazy: bool, type_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            child_lazy = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            line = getattr(child, "lineno", 0)
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    yield from visit(ast.Module([statement], []), lazy, True)
                for statement in child.orelse:
                    yield from visit(ast.Module([statement], []), lazy, type_only)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(name, ours(alias.name) or alias.name, (), relative, line, lazy, type_only)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from pkg import module` depends on the module; `from module import name` on it.
                plain = [a.name for a in child.names if f"{base}.{a.name}" not in modules]
                for alias in child.names:
                    if f"{base}.{alias.name}" in modules:
                        yield Import(name, f"{base}.{alias.name}", (), relative, line, lazy, type_only)
                if plain:
                    yield Import(name, ours(base) or base, tuple(plain), relative, line, lazy, type_only)
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                match = _REFERENCE.fullmatch(child.value)
                if match and match["module"] in modules:
                    yield Import(name, match["module"], (), relative, line, True, type_only)
            yield from visit(child, child_lazy, type_only)

    for found in visit(tree, False, False):
        if found.target != name:
            yield found


def project_imports(root: Path = ROOT) -> list[Import]:
    """Every import in ``root``'s codex/ and plugins/ packages."""
    modules = project_modules(root)
    return [found for name, path in modules.items() for found in imports_of(name, path, modules, root)]


def plugin_imports(root: Path = ROOT) -> list[Import]:
    """Every import in the plugin packages: plugins/ and the third-party ones (THIRD_PARTY_PACKAGES)."""
    modules = project_modules(root)
    plugin_packages = [p.parent for p in root.glob("plugins/*/*/__init__.py")]
    for pattern in THIRD_PARTY_PACKAGES:
        for init in sorted(root.glob(pattern)):
            for path in sorted(init.parent.rglob("*.py")):
                parts = path.relative_to(init.parent.parent).with_suffix("").parts
                modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
            plugin_packages.append(init.parent)
    tops = {package.name for package in plugin_packages}
    return [
        found
        for name, path in modules.items()
        if _top(name) in tops
        for found in imports_of(name, path, modules, root)
    ]


def import_cycles(imports: Iterable[Import], modules: Iterable[str]) -> list[list[Import]]:
    """The imports inside each strongly connected group of modules (each group is a cycle or more)."""
    edges: dict[str, dict[str, list[Import]]] = {module: {} for module in modules}
    for found in imports:
        if found.target in edges:
            edges[found.source].setdefault(found.target, []).append(found)
    # Tarjan's algorithm, iterative: one visit per module and per edge.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    position = stack.index(module)
                    group = set(stack[position:])
                    del stack[position:]
                    on_stack -= group
                    if len(group) > 1:
                        groups.append(group)
            elif target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                on_stack.add(target)
                work.append((target, iter(edges[target])))
            elif target in on_stack:
                low[module] = min(low[module], index[target])
    return [
        [found for source in sorted(group) for target in sorted(edges[source]) if target in group
         for found in edges[source][target]]
        for group in groups
    ]


def _report(title: str, found: Iterable[object]) -> str:
    return title + "\n" + "\n".join(f"  {item}" for item in found)


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return project_imports()


def test_the_module_graph_has_no_cycles(imports: list[Import]) -> None:
    known = [i for i in imports if (i.source, i.target) in KNOWN_CYCLE_IMPORTS]
    cycles = import_cycles([i for i in imports if i not in known], project_modules(ROOT))
    assert not cycles, "\n".join(
        _report(f"import cycle among {sorted({i.source for i in cycle})}:", cycle) for cycle in cycles
    ) + "\nmove what both sides need to a module of its own, or to where it belongs"
    # A known exception that no longer closes a cycle must leave the list, so it only shrinks.
    all_cycles = {(i.source, i.target) for cycle in import_cycles(imports, project_modules(ROOT)) for i in cycle}
    stale = sorted(KNOWN_CYCLE_IMPORTS - all_cycles)
    assert not stale, f"no longer part of a cycle, remove from KNOWN_CYCLE_IMPORTS: {stale}"


def test_codex_never_imports_a_plugin(imports: list[Import]) -> None:
    plugins = {p.parent.name for p in ROOT.glob("plugins/*/*/__init__.py")}
    wrong = [i for i in imports if _top(i.source) == "codex" and _top(i.target) in plugins]
    assert not wrong, _report("codex/ imports a plugin (a missing hook?):", wrong)


def test_plugins_never_import_each_other(imports: list[Import]) -> None:
    plugins = {p.parent.name for p in ROOT.glob("plugins/*/*/__init__.py")}
    wrong = [i for i in imports if _top(i.source) in plugins and _top(i.target) in plugins - {_top(i.source)}]
    assert not wrong, _report("a plugin imports another plugin (use the core's registries):", wrong)


def test_plugins_import_only_the_public_plugin_api() -> None:
    found = plugin_imports()
    assert any(i.source.startswith("codex_plugin_example") for i in found), "the example plugin was not read"
    wrong = _beyond_public(found)
    assert not wrong, _report(
        "a plugin imports codex beyond codex.plugin (add what it needs to codex/plugin.py):", wrong
    )


def test_the_plugin_rule_sees_every_kind_of_import(tmp_path: Path) -> None:
    (tmp_path / "codex").mkdir()
    for module in ("__init__", "plugin", "wire", "testing"):
        (tmp_path / "codex" / f"{module}.py").write_text("")
    package = tmp_path / "examples" / "codex-acme" / "codex_acme"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import typing\nfrom codex.plugin import hookimpl, events\nfrom codex.testing import check_wire\n"
        "if typing.TYPE_CHECKING:\n    from codex.wire import WireApi\n"
        "def wires():\n    import codex.wire\n    return 'codex.wire:LazyWireApi'\n"
    )
    found = plugin_imports(tmp_path)
    wrong = sorted((i.line, i.target) for i in _beyond_public(found))
    assert wrong == [(5, "codex.wire"), (7, "codex.wire"), (8, "codex.wire")]


def test_the_engine_never_imports_a_face(imports: list[Import]) -> None:
    wrong = [i for i in imports if _top(i.source) == "codex" and not _is_face(i.source) and _is_face(i.target)]
    assert not wrong, _report("the engine imports a face (faces consume events instead):", wrong)


def test_no_module_imports_private_names(imports: list[Import]) -> None:
    wrong = [
        i for i in imports
        if (any(_private(part) for part in i.target.split(".")) or any(_private(name) for name in i.names))
        and not any(i.source.startswith(source) and i.target.startswith(target)
                    for source, target in KNOWN_PRIVATE_IMPORTS)
    ]
    assert not wrong, _report("imports of private names (make them public where they live):", wrong)


def test_the_checks_see_lazy_and_type_only_imports(tmp_path: Path) -> None:
    # A tree shaped like the cycles this test was written to keep out: a lazy import back, and a
    # type-only import back, each with a private name.
    package = tmp_path / "codex"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "listing.py").write_text("def pick():\n    from codex.cli import command\n")
    (package / "cli.py").write_text("from codex.listing import _pick\nX = 'codex.listing:pick'\n")
    (package / "rules.py").write_text(
        "import typing\nif typing.TYPE_CHECKING:\n    from codex.parser import Parser\nelse:\n    import codex.cli\n"
    )
    (package / "parser.py").write_text("from codex.rules import _Rule\n")
    found = project_imports(tmp_path)
    cycles = import_cycles(found, project_modules(tmp_path))
    assert sorted(sorted({i.source for i in cycle}) for cycle in cycles) == [
        ["codex.cli", "codex.listing"],
        ["codex.parser", "codex.rules"],
    ]
    lazy_back = next(i for i in found if i.source == "codex.listing")
    assert (lazy_back.target, lazy_back.lazy, lazy_back.type_only) == ("codex.cli", True, False)
    type_back = next(i for i in found if i.source == "codex.rules" and i.target == "codex.parser")
    assert type_back.type_only and str(type_back).endswith("[type-only]")
    runtime = next(i for i in found if i.source == "codex.rules" and i.target == "codex.cli")
    assert not runtime.type_only and not runtime.lazy
    assert {i.names for i in found if i.source in {"codex.cli", "codex.parser"}} == {("_pick",), ("_Rule",), ()}


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (also the ``TYPE_CHECKING = False`` idiom)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _beyond_public(found: Iterable[Import]) -> list[Import]:
    """The imports of codex modules other than the ones public for plugins."""
    return [i for i in found if _top(i.target) == "codex" and i.target not in PUBLIC_FOR_PLUGINS]


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _is_face(module: str) -> bool:
    return any(module == face or module.startswith(face + ".") for face in FACES)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
