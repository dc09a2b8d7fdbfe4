"""What the packages import, read from their source: for the dependency rule and the cycle check.

Every import counts, at module level, inside a function or under ``TYPE_CHECKING``, because a
lazy import is still an arrow between two modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("orq_embeddings", "langchain_orq", "llama_index_orq", "orq_embeddings_demo")


def _absolute(node: ast.ImportFrom, path: Path, root: Path = ROOT) -> str:
    """The absolute name of a ``from ... import`` target, relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(path: Path, root: Path) -> Iterator[tuple[str, list[str], int]]:
    """Each import of a file: the module named, the names taken from it, and the line."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            yield _absolute(node, path, root), [alias.name for alias in node.names], node.lineno


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each file of ``package`` imports, relative imports resolved."""
    return {
        str(path.relative_to(ROOT)): {name for name, _, _ in _imports(path, ROOT)}
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(
    root: Path = ROOT, packages: tuple[str, ...] = PACKAGES
) -> dict[str, dict[str, int]]:
    """Each module of the packages, with the modules of the packages it imports and on which line.

    ``from pkg import sub`` is an arrow to ``pkg.sub`` when that is a module; otherwise trailing
    parts are stripped until a module is named. There is no implicit arrow to a parent
    ``__init__``: the lazy package faces would make every submodule look circular.
    """
    files = {
        _module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }
    graph: dict[str, dict[str, int]] = {module: {} for module in files}
    for module, path in files.items():
        for name, taken, line in _imports(path, root):
            targets = [f"{name}.{each}" for each in taken if f"{name}.{each}" in files]
            if len(targets) < len(taken) or not taken:
                parts = name.split(".")
                while parts and ".".join(parts) not in files:
                    parts.pop()
                if parts:
                    targets.append(".".join(parts))
            for target in targets:
                if target != module:
                    graph[module].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.get(module, {}):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def _type_checking_blocks(tree: ast.Module) -> set[int]:
    """The ids of the nodes inside ``if TYPE_CHECKING:`` blocks (imports for type hints only)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            for child in node.body:
                inside.update(id(each) for each in ast.walk(child))
    return inside


def runtime_imports(path: Path, *, type_checking: bool = False) -> list[tuple[str, int]]:
    """Each module a file imports and the line, relative imports resolved.

    Imports under ``if TYPE_CHECKING:`` (type hints only, never run) are left out unless
    ``type_checking``; lazy imports inside functions count, since they run.
    """
    tree = ast.parse(path.read_text(), str(path))
    hints_only = set() if type_checking else _type_checking_blocks(tree)
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in hints_only:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((_absolute(node, path), node.lineno))
    return found
