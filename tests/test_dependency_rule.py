"""DESIGN.md's dependency rule, checked on the source: arrows point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    """The absolute name of a ``from ... import`` target, relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each file of ``package`` imports, relative imports resolved."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.add(_absolute(node, path))
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path}: {name}"
        for path, names in imported_modules(package).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden
    ]


def test_the_core_never_imports_a_framework_or_an_adapter():
    assert (
        offenders(
            "orq_embeddings",
            (
                "langchain_core",
                "langchain",
                "llama_index",
                "langchain_orq",
                "llama_index_orq",
                "orq_embeddings_demo",
            ),
        )
        == []
    )


@pytest.mark.parametrize("adapter", ["langchain_orq", "llama_index_orq"])
def test_adapters_leave_http_json_and_retries_to_the_core(adapter):
    assert offenders(adapter, ("requests", "httpx", "urllib3", "json", "aiohttp", "tenacity")) == []


def test_the_client_never_needs_the_local_gateway():
    # The command line is an application on top of both; everything else is the client's.
    client_side = {
        path: names
        for path, names in imported_modules("orq_embeddings").items()
        if "/gateway/" not in path and not path.endswith("/cli.py")
    }
    assert [
        path
        for path, names in client_side.items()
        if any(name.startswith("orq_embeddings.gateway") for name in names)
    ] == []
