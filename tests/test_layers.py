"""The layers of the core, as the tree shows them, checked on the source.

``orq_embeddings`` holds its public modules at the top and its internals in private packages,
one per layer (docs/architecture.md):

- ``_wire``: the protocol, sans-IO. Bodies, input checks, batching, responses read into vectors
  or typed errors. It opens no socket and imports no HTTP library, transport or runtime.
- ``_transport``: moving bytes. The only place in the client that imports an HTTP library.
- ``_runtime``: what runs a call (shared pools, worker threads, pacing, look-ahead, splitting,
  retries). It reaches the network only through the transport's protocol, and imports no engine.
- ``_engines``: what the Ray and Spark engines share. Ray and pyspark are imported only where an
  engine runs: the public modules ``ray`` and ``spark``, ``_engines/local_sessions.py`` (which
  starts one on this machine) and the command line's ``--engine`` (``bulk/engines.py``).

The adapters import only the core's public face: ``orq_embeddings`` and its public modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.imports import ROOT, runtime_imports

CORE = ROOT / "orq_embeddings"

#: What users and the two adapters import: the public modules at the top of the core.
PUBLIC_MODULES = {
    "adapter_base",
    "cli",
    "client",
    "config",
    "errors",
    "extras",
    "options",
    "prefixes",
    "ray",
    "results",
    "settings",
    "space",
    "spark",
}
#: The private packages of the core, one per layer, and the packages of their own.
PRIVATE_LAYERS = {"_wire", "_transport", "_runtime", "_engines"}
OWN_PACKAGES = {"gateway", "bulk"}

HTTP_LIBRARIES = ("requests", "urllib3", "httpx", "httpcore", "h11", "anyio", "certifi")
#: What a sans-IO layer has no use for: sockets, TLS, event loops and threads.
IO_MODULES = ("socket", "ssl", "select", "asyncio", "threading", "selectors")


def _top(name: str) -> str:
    return name.split(".")[0]


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in files
        for name, line in runtime_imports(path)
        if _top(name) in forbidden or name in forbidden
    ]


def test_the_top_of_the_core_holds_only_the_public_modules_and_the_layers():
    modules = {path.stem for path in CORE.glob("*.py") if not path.stem.startswith("_")}
    packages = {path.name for path in CORE.iterdir() if (path / "__init__.py").exists()}
    assert modules == PUBLIC_MODULES
    assert packages == PRIVATE_LAYERS | OWN_PACKAGES


def test_the_wire_protocol_imports_no_transport_runtime_or_http_library():
    wire = _files(CORE / "_wire")
    assert _offending(wire, HTTP_LIBRARIES + IO_MODULES) == []
    layers_above = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in wire
        for name, line in runtime_imports(path)
        if name.startswith(("orq_embeddings._transport", "orq_embeddings._runtime"))
        or name in ("orq_embeddings.client", "orq_embeddings.adapter_base")
    ]
    assert layers_above == []


def test_only_the_transport_imports_an_http_library():
    # The gateway is a server of its own (it speaks HTTP on the other side) and is not bound.
    outside = [
        path
        for path in _files(CORE)
        if "_transport" not in path.parts and "gateway" not in path.parts
    ]
    assert _offending(outside, HTTP_LIBRARIES) == []


def test_the_runtime_reaches_the_network_only_through_the_transport_protocol():
    assert _offending(_files(CORE / "_runtime"), (*HTTP_LIBRARIES, "socket", "ssl")) == []


ENGINES = ("ray", "pyspark")


def test_an_engine_is_imported_only_where_one_runs():
    importers = {
        path.relative_to(ROOT).as_posix()
        for path in _files(CORE)
        for name, _ in runtime_imports(path)
        if _top(name) in ENGINES
    }
    assert importers == {
        "orq_embeddings/ray.py",
        "orq_embeddings/spark.py",
        "orq_embeddings/_engines/local_sessions.py",
        "orq_embeddings/bulk/engines.py",
    }


@pytest.mark.parametrize("adapter", ["langchain_orq", "llama_index_orq"])
def test_adapters_import_only_the_public_face_of_the_core(adapter):
    private = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _files(ROOT / adapter)
        for name, line in runtime_imports(path, type_checking=True)
        if _top(name) == "orq_embeddings"
        and (
            any(part.startswith("_") for part in name.split(".")[1:])
            or (len(name.split(".")) > 1 and name.split(".")[1] not in PUBLIC_MODULES)
        )
    ]
    assert private == []


def test_each_layer_says_what_it_is():
    for layer in PRIVATE_LAYERS:
        docstring = ast.get_docstring(ast.parse((CORE / layer / "__init__.py").read_text()))
        assert docstring, f"orq_embeddings/{layer}/__init__.py has no docstring"


def test_test_helpers_come_from_tests_support_never_from_a_conftest():
    """A conftest holds fixtures; the names tests import live in tests/support (issue 19)."""
    from_conftest = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _files(ROOT / "tests")
        for name, line in runtime_imports(path, type_checking=True)
        if name.split(".")[-1] == "conftest" or ".conftest." in name
    ]
    assert from_conftest == []
