"""What each store module relies on, and how each refuses a store it cannot guard.

Three store modules reach into their library's private state (there is no public handle); the
tests here fail, naming the attribute, the day a release moves it.
"""

from __future__ import annotations

import inspect

import pytest

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import EmbeddingSpaceError
from orq_embeddings.space import STAMP_KEY
from tests.support.space_scenarios import MODEL, PASSAGES, STAMP
from tests.support.store_homes import ChromaHome


@pytest.fixture
def embeddings(orq_gateway):
    return OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url)


# -- the private state the store modules use ---------------------------------------------------


def test_langchain_chroma_still_keeps_its_collection_and_client_where_the_guard_reads_them(
    embeddings, tmp_path
):
    import chromadb
    from chromadb.api.models.Collection import Collection

    store = ChromaHome(str(tmp_path), "docs").store(embeddings)
    assert isinstance(store._collection, Collection), "Chroma._collection moved"
    assert isinstance(store._client, chromadb.api.ClientAPI), "Chroma._client moved"


def test_chromadb_still_refuses_the_distance_key_in_a_metadata_change(embeddings, tmp_path):
    """Why the stamp is written without ``hnsw:space`` (langchain_orq/stores/chroma.py)."""
    store = ChromaHome(str(tmp_path), "docs").store(embeddings)
    with pytest.raises(ValueError, match="distance function"):
        store._collection.modify(metadata={"hnsw:space": "cosine", "x": "y"})


def test_a_chroma_collection_made_with_a_distance_keeps_it_once_stamped(embeddings, tmp_path):
    store = embeddings.guard(ChromaHome(str(tmp_path), "docs").store(embeddings))
    store.add_texts([p.text for p in PASSAGES[:3]])
    reopened = ChromaHome(str(tmp_path), "docs")
    assert reopened.stamp() == STAMP
    assert store._collection.configuration["hnsw"]["space"] == "cosine"
    assert store._select_relevance_score_fn() == store._cosine_relevance_score_fn


def test_langchain_postgres_pgvectorstore_still_hides_its_store_and_loop_there(embeddings):
    from langchain_postgres import PGEngine, PGVectorStore
    from langchain_postgres.v2.async_vectorstore import AsyncPGVectorStore

    wrapped = inspect.signature(PGVectorStore.__init__).parameters
    assert list(wrapped)[1:] == ["key", "engine", "vs"], "PGVectorStore.__init__ changed"
    source = inspect.getsource(PGVectorStore.__init__)
    assert "self.__vs = vs" in source and "self._engine = engine" in source
    made = inspect.signature(AsyncPGVectorStore.__init__).parameters
    for name in ("engine", "schema_name", "table_name", "embedding_column"):
        assert name in made, f"AsyncPGVectorStore no longer takes {name}"
    assert callable(PGEngine._run_as_sync), "PGEngine._run_as_sync moved"
    assert "self._loop = loop" in inspect.getsource(PGEngine.__init__)


def test_llama_index_qdrant_still_makes_its_collection_with_create_collection():
    from llama_index.vector_stores.qdrant import QdrantVectorStore

    made = inspect.signature(QdrantVectorStore._create_collection).parameters
    assert list(made) == ["self", "collection_name", "vector_size"]


# -- stores a guard refuses ------------------------------------------------------------------------


def test_unstamped_chroma_vectors_are_adopted_only_when_asked(embeddings, tmp_path):
    store = ChromaHome(str(tmp_path), "docs").store(embeddings)
    store.add_texts([p.text for p in PASSAGES[:5]])
    with pytest.raises(EmbeddingSpaceError) as refused:
        embeddings.guard(store)
    assert str(refused.value).startswith(
        "Chroma collection 'docs' holds 5 vectors but no stamp, so nothing says which space "
        "they are in, and the guard does not adopt it silently; nothing was changed."
    )
    assert ChromaHome(str(tmp_path), "docs").stamp() is None
    embeddings.guard(store, adopt=True)
    assert ChromaHome(str(tmp_path), "docs").stamp() == STAMP


def test_a_damaged_chroma_stamp_is_refused_and_left_as_it_is(embeddings, tmp_path):
    store = ChromaHome(str(tmp_path), "docs").store(embeddings)
    store._collection.modify(metadata={STAMP_KEY: "orq-embeddings-space/1 text-embedding"})
    with pytest.raises(EmbeddingSpaceError, match="carries a damaged stamp"):
        embeddings.guard(store)
    assert ChromaHome(str(tmp_path), "docs").stamp() == "orq-embeddings-space/1 text-embedding"


def test_a_pgvector_in_async_mode_is_refused_saying_what_to_make(embeddings, postgres_url):
    from langchain_postgres import PGVector

    store = PGVector(
        embeddings=embeddings, collection_name="async", connection=postgres_url, async_mode=True
    )
    with pytest.raises(TypeError, match="make the store with async_mode=False"):
        embeddings.guard(store)


async def test_a_pgvectorstore_on_an_engine_without_a_loop_is_refused(embeddings, postgres_url):
    from langchain_postgres import PGEngine, PGVectorStore
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = PGEngine.from_engine(create_async_engine(postgres_url))
    await engine.ainit_vectorstore_table(table_name="no_loop", vector_size=1536)
    store = await PGVectorStore.create(engine, table_name="no_loop", embedding_service=embeddings)
    with pytest.raises(TypeError, match="PGEngine.from_connection_string"):
        embeddings.guard(store)
    await engine.close()


def test_a_llama_index_qdrant_store_with_only_an_async_client_is_refused(orq_gateway):
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import AsyncQdrantClient

    store = QdrantVectorStore(aclient=AsyncQdrantClient(location=":memory:"), collection_name="x")
    embed_model = OrqEmbedding(model_name=MODEL, base_url=orq_gateway.base_url)
    with pytest.raises(TypeError, match="make the QdrantVectorStore with client="):
        embed_model.guard(store)


def test_a_llama_index_postgres_table_with_a_comment_of_its_own_is_not_stamped(
    orq_gateway, postgres_url
):
    import sqlalchemy
    from llama_index.vector_stores.postgres import PGVectorStore

    store = PGVectorStore(
        connection_string=postgres_url,
        async_connection_string=postgres_url.replace("+psycopg:", "+asyncpg:"),
        table_name="commented",
        embed_dim=1536,
    )
    store.add([])
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("COMMENT ON TABLE data_commented IS 'our documents'"))
    engine.dispose()
    embed_model = OrqEmbedding(model_name=MODEL, base_url=orq_gateway.base_url)
    with pytest.raises(EmbeddingSpaceError, match=r"has a comment of its own \('our documents'\)"):
        embed_model.guard(store)
