"""Every persisted store, through its adapter: built and stamped here, reopened in a fresh process.

The test process builds each store with text-embedding-3-small and guards it; a fresh Python
process reopens it from disk (or from PostgreSQL) and runs every scenario of
:mod:`tests.support.space_scenarios` on it. Real stores: Chroma persistent, Qdrant local mode,
pgvector on a PostgreSQL started on 127.0.0.1 (through langchain-postgres and
llama-index-vector-stores-postgres), LlamaIndex's SimpleVectorStore persisted with its
StorageContext. The gateways serve on 127.0.0.1 too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.imports import ROOT
from tests.support.space_scenarios import SCENARIOS, STAMP, build, ends_as_expected
from tests.support.store_homes import embeddings_factory, home_for

# Qdrant's local mode says the payload index llama-index makes has no effect there: true, and
# nothing here depends on it.
pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

#: (adapter, kind of store): every store whose stamp is persisted.
PERSISTED = [
    ("langchain", "chroma"),
    ("langchain", "qdrant"),
    ("langchain", "pgvector"),
    ("langchain", "pgvector_store"),
    ("llama_index", "qdrant"),
    ("llama_index", "postgres"),
    ("llama_index", "simple"),
]
#: How each store is named in the guard's messages.
DESCRIBED = {
    ("langchain", "chroma"): "Chroma collection 'docs'",
    ("langchain", "qdrant"): "Qdrant collection 'docs'",
    ("langchain", "pgvector"): "PGVector collection 'docs-langchain-pgvector'",
    ("langchain", "pgvector_store"): 'PGVectorStore table "public"."docs_langchain_pgvector_store"',
    ("llama_index", "qdrant"): "Qdrant collection 'docs'",
    ("llama_index", "postgres"): 'PGVectorStore table "public"."data_docs_llama_index_postgres"',
    ("llama_index", "simple"): "this SimpleVectorStore",
}


def location(kind: str, adapter: str, folder: str, request: pytest.FixtureRequest) -> dict:
    if kind in ("chroma", "qdrant"):
        return {"path": folder, "name": "docs"}
    if kind == "simple":
        return {"path": folder}
    name = f"docs-{adapter}-{kind}" if kind == "pgvector" else f"docs_{adapter}_{kind}"
    return {"url": request.getfixturevalue("postgres_url"), "name": name}


@pytest.fixture(scope="module", params=PERSISTED, ids=["-".join(p) for p in PERSISTED])
def reopened(request, tmp_path_factory, space_urls) -> tuple[tuple[str, str], dict[str, Any]]:
    """Build the store here, then every scenario's outcome in a fresh process."""
    adapter, kind = request.param
    folder = str(tmp_path_factory.mktemp(f"{adapter}-{kind}"))
    where = location(kind, adapter, folder, request)
    home = home_for(adapter, kind, where)
    try:
        build(home, embeddings_factory(adapter), space_urls)
    finally:
        home.close()
    asked = {
        "adapter": adapter,
        "kind": kind,
        "location": where,
        "urls": {"up": space_urls.up, "down": space_urls.down},
    }
    finished = subprocess.run(
        [sys.executable, "-m", "tests.stores.reopen", json.dumps(asked)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    return request.param, json.loads(finished.stdout.splitlines()[-1])


def test_the_stamp_is_kept_across_processes_and_no_refusal_wrote_to_it(reopened):
    _, found = reopened
    assert found["stamp before"] == found["stamp after"] == STAMP


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "other-width"])
def test_each_scenario_ends_as_it_must(reopened, scenario):
    store, found = reopened
    assert ends_as_expected(found[scenario], scenario, DESCRIBED[store]), found[scenario]


def test_a_model_of_another_width_is_refused(reopened):
    store, found = reopened
    if store == ("langchain", "qdrant"):
        # langchain-qdrant's constructor embeds a probe and checks the width itself first.
        assert found["other-width"].startswith("refused QdrantVectorStoreError")
    else:
        assert ends_as_expected(found["other-width"], "other-width", DESCRIBED[store])
