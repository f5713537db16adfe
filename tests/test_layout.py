"""The package's layout holds: every import inside `assistant/` points the way its part's
docstring allows ("May import: ..."), no import goes in a circle, the top level stays a handful of
modules beside the parts' folders, and no module grows past 400 lines. Imports are read from each
module's source (its `ast`), lazy and type-checking ones included, so nothing is imported here."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
MAY_IMPORT = re.compile(r"^May import: (.+?)\.?$", re.MULTILINE)
MOST_TOP_MODULES = 8
MOST_LINES = 400


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name), migrations aside."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" not in parts:
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules `name` imports (a name imported from a package counts as its module
    when it is one)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target.split(".")[0] == "assistant":
                found.update(f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "assistant")
    return found


def part(name: str) -> str:
    """A top-level module is a part of its own; a folder's modules are their folder's part."""
    pieces = name.split(".")
    return pieces[1] if len(pieces) > 1 else "assistant"


def allowed() -> dict[str, set[str] | None]:
    """What each part may import, as its docstring says (None: anything)."""
    rules: dict[str, set[str] | None] = {}
    for name, path in modules().items():
        if name.count(".") == 1:  # a part's folder (its __init__) or a top-level module
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            said = MAY_IMPORT.search(doc)
            assert said, f"{path.relative_to(PACKAGE.parent)}: its docstring says nothing of what it may import"
            text = said.group(1)
            rules[part(name)] = None if text == "anything" else \
                set() if text == "nothing of ours" else {p.strip() for p in text.split(",")}
    return rules


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def wrong_imports(edges: dict[str, set[str]], rules: dict[str, set[str] | None]) -> list[str]:
    return [f"{name} imports {target}" for name, targets in edges.items() for target in sorted(targets)
            if part(target) != part(name) and (may := rules[part(name)]) is not None and part(target) not in may]


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle found by a depth-first walk, as the path that closes it."""
    state: dict[str, int] = defaultdict(int)  # 0 unseen, 1 on the path, 2 done
    found = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges.get(name, ())):
            if state[target] == 1:
                found.append(path[path.index(target):] + [target])
            elif state[target] == 0:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(edges):
        if state[name] == 0:
            visit(name, [name])
    return found


def test_every_import_points_the_way_its_part_allows() -> None:
    rules = allowed()
    rules["assistant"] = None  # the package's own __init__ imports nothing but may name anything
    assert not (wrong := wrong_imports(graph(), rules)), wrong


def test_no_import_goes_in_a_circle() -> None:
    assert not (found := circles(graph())), [" -> ".join(c) for c in found]


def test_the_top_level_is_a_handful_of_modules_beside_the_parts() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MOST_TOP_MODULES, top


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE.parent)): n for p in modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MOST_LINES}
    assert not long, long


def test_the_checks_see_a_wrong_import_and_a_circle(tmp_path: Path) -> None:
    """Planted: the store importing the engine (relative, as the package writes it), and a circle."""
    path = PACKAGE / "store" / "chroma.py"
    planted = tmp_path / "chroma.py"
    planted.write_text(path.read_text(encoding="utf-8").replace(
        "from __future__ import annotations", "from __future__ import annotations\nfrom ..engine import Assistant", 1),
        encoding="utf-8")
    edges = graph()
    edges["assistant.store.chroma"] = imports("assistant.store.chroma", planted, set(modules()))
    assert wrong_imports(edges, allowed()) == ["assistant.store.chroma imports assistant.engine"]
    # the engine reads the store, so the store importing the engine closes a circle
    assert [c for c in circles(edges) if {"assistant.engine", "assistant.store.chroma"} <= set(c)]
