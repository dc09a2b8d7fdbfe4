"""DESIGN.md's dependency rule, checked on the source: arrows point one way."""

from __future__ import annotations

import pytest

from tests.support.imports import imported_modules


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
