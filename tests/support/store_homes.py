"""Each real store, as a user builds, opens and asks it through LangChain or LlamaIndex.

A home is made from its ``location`` (JSON: paths, names, the PostgreSQL URL), so the test
process and a fresh one (:mod:`tests.stores.reopen`) open the same store. The stamp is read back
through each library's own API, not through the guard's code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy

from orq_embeddings.space import STAMP_KEY
from tests.support.space_scenarios import PASSAGES, Home

WIDTH = 1536


def _texts() -> tuple[list[str], list[dict[str, str]]]:
    return [p.text for p in PASSAGES], [{"id": p.id} for p in PASSAGES]


def _sql_value(url: str, statement: str, **parameters: Any) -> Any:
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(statement), parameters).scalar()
    finally:
        engine.dispose()


def _table_comment(url: str, table: str) -> Any:
    return _sql_value(url, "SELECT obj_description(to_regclass(:t), 'pg_class')", t=table)


# -- LangChain ---------------------------------------------------------------------------------


class LangChainHome:
    """What LangChain stores share: texts added with their ids as metadata, asked by text."""

    def add(self, store: Any, embeddings: Any) -> None:
        texts, metadatas = _texts()
        store.add_texts(texts, metadatas=metadatas)

    def ask(self, store: Any, embeddings: Any, question: str) -> str:
        (best,) = store.similarity_search(question, k=1)
        return str(best.metadata["id"])

    def close(self) -> None:
        pass


class ChromaHome(LangChainHome):
    def __init__(self, path: str, name: str) -> None:
        self.path, self.name = path, name

    def store(self, embeddings: Any) -> Any:
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=self.name,
            embedding_function=embeddings,
            persist_directory=self.path,
            collection_metadata={"hnsw:space": "cosine"},
        )

    def stamp(self) -> object | None:
        import chromadb

        client = chromadb.PersistentClient(path=self.path)
        metadata = client.get_collection(self.name, embedding_function=None).metadata or {}
        return metadata.get(STAMP_KEY)


class QdrantFolder:
    """Qdrant local mode: one client per process holds the folder's lock."""

    def __init__(self, path: str, name: str) -> None:
        from qdrant_client import QdrantClient

        self.name = name
        self.client = QdrantClient(path=path)

    def stamp(self) -> object | None:
        if not self.client.collection_exists(self.name):
            return None
        return (self.client.get_collection(self.name).config.metadata or {}).get(STAMP_KEY)

    def close(self) -> None:
        self.client.close()


class QdrantHome(QdrantFolder, LangChainHome):
    def store(self, embeddings: Any) -> Any:
        from langchain_qdrant import QdrantVectorStore
        from qdrant_client.models import Distance, VectorParams

        if not self.client.collection_exists(self.name):
            params = VectorParams(size=WIDTH, distance=Distance.COSINE)
            self.client.create_collection(self.name, params)
        return QdrantVectorStore(
            client=self.client, collection_name=self.name, embedding=embeddings
        )


class PGVectorHome(LangChainHome):
    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name

    def store(self, embeddings: Any) -> Any:
        from langchain_postgres import PGVector

        return PGVector(
            embeddings=embeddings, collection_name=self.name, connection=self.url, use_jsonb=True
        )

    def stamp(self) -> object | None:
        metadata = _sql_value(
            self.url, "SELECT cmetadata FROM langchain_pg_collection WHERE name = :n", n=self.name
        )
        return (metadata or {}).get(STAMP_KEY)


class PGVectorStoreHome(LangChainHome):
    def __init__(self, url: str, name: str) -> None:
        from langchain_postgres import PGEngine

        self.url, self.name = url, name
        self.engine = PGEngine.from_connection_string(url=url)

    def store(self, embeddings: Any) -> Any:
        from langchain_postgres import PGVectorStore

        if _sql_value(self.url, "SELECT to_regclass(:t)", t=f'"public"."{self.name}"') is None:
            self.engine.init_vectorstore_table(table_name=self.name, vector_size=WIDTH)
        return PGVectorStore.create_sync(
            engine=self.engine, table_name=self.name, embedding_service=embeddings
        )

    def stamp(self) -> object | None:
        return _table_comment(self.url, f'"public"."{self.name}"')

    def close(self) -> None:
        self.engine._run_as_sync(self.engine.close())


class InMemoryHome(LangChainHome):
    """One InMemoryVectorStore for the life of the process, as an app keeps one."""

    def __init__(self) -> None:
        self._store: Any = None

    def store(self, embeddings: Any) -> Any:
        from langchain_core.vectorstores import InMemoryVectorStore

        if self._store is None:
            self._store = InMemoryVectorStore(embeddings)
        return self._store

    def ask(self, store: Any, embeddings: Any, question: str) -> str:
        # The store embeds with what it was made with; these embeddings ask the question.
        (best,) = store.similarity_search_by_vector(embeddings.embed_query(question), k=1)
        return str(best.metadata["id"])

    def stamp(self) -> object | None:
        return getattr(self._store, STAMP_KEY, None)


# -- LlamaIndex --------------------------------------------------------------------------------


def _nodes() -> list[Any]:
    from llama_index.core.schema import TextNode

    return [TextNode(text=p.text, metadata={"id": p.id}) for p in PASSAGES]


class LlamaIndexHome:
    """What LlamaIndex stores that keep text share: an index on the store, asked by text."""

    def add(self, store: Any, embeddings: Any) -> None:
        from llama_index.core import VectorStoreIndex

        VectorStoreIndex.from_vector_store(store, embed_model=embeddings).insert_nodes(_nodes())

    def ask(self, store: Any, embeddings: Any, question: str) -> str:
        from llama_index.core import VectorStoreIndex

        index = VectorStoreIndex.from_vector_store(store, embed_model=embeddings)
        (best,) = index.as_retriever(similarity_top_k=1).retrieve(question)
        return str(best.node.metadata["id"])

    def close(self) -> None:
        pass


class LlamaQdrantHome(QdrantFolder, LlamaIndexHome):
    def store(self, embeddings: Any) -> Any:
        from llama_index.vector_stores.qdrant import QdrantVectorStore

        return QdrantVectorStore(client=self.client, collection_name=self.name)


class LlamaPostgresHome(LlamaIndexHome):
    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name

    def store(self, embeddings: Any) -> Any:
        from llama_index.vector_stores.postgres import PGVectorStore

        return PGVectorStore(
            connection_string=self.url.replace("+psycopg:", "+psycopg2:"),
            async_connection_string=self.url.replace("+psycopg:", "+asyncpg:"),
            table_name=self.name,
            embed_dim=WIDTH,
        )

    def stamp(self) -> object | None:
        return _table_comment(self.url, f'"public"."data_{self.name}"')


class SimpleHome:
    """The default SimpleVectorStore, persisted with its StorageContext in a folder."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._context: Any = None

    def store(self, embeddings: Any) -> Any:
        from llama_index.core import StorageContext

        persisted = (self.path / "docstore.json").exists()
        self._context = StorageContext.from_defaults(
            persist_dir=str(self.path) if persisted else None
        )
        return self._context.vector_store

    def add(self, store: Any, embeddings: Any) -> None:
        from llama_index.core import VectorStoreIndex

        VectorStoreIndex(_nodes(), storage_context=self._context, embed_model=embeddings)
        self._context.persist(persist_dir=str(self.path))

    def ask(self, store: Any, embeddings: Any, question: str) -> str:
        from llama_index.core import load_index_from_storage

        index = load_index_from_storage(self._context, embed_model=embeddings)
        (best,) = index.as_retriever(similarity_top_k=1).retrieve(question)
        return str(best.node.metadata["id"])

    def stamp(self) -> object | None:
        persisted = self.path / "default__vector_store.json"
        if not persisted.exists():
            return None
        entry = json.loads(persisted.read_text())["metadata_dict"].get(f"__{STAMP_KEY}__")
        return None if entry is None else entry["stamp"]

    def close(self) -> None:
        pass


HOMES: dict[tuple[str, str], type] = {
    ("langchain", "chroma"): ChromaHome,
    ("langchain", "qdrant"): QdrantHome,
    ("langchain", "pgvector"): PGVectorHome,
    ("langchain", "pgvector_store"): PGVectorStoreHome,
    ("langchain", "in_memory"): InMemoryHome,
    ("llama_index", "qdrant"): LlamaQdrantHome,
    ("llama_index", "postgres"): LlamaPostgresHome,
    ("llama_index", "simple"): SimpleHome,
}


def home_for(adapter: str, kind: str, location: dict[str, str]) -> Home:
    home: Home = HOMES[adapter, kind](**location)
    return home


def embeddings_factory(adapter: str) -> Any:
    """Makes the adapter's embeddings from settings named as the core names them."""
    if adapter == "langchain":
        from langchain_orq import OrqEmbeddings

        return lambda **settings: OrqEmbeddings(**settings)
    from llama_index_orq import OrqEmbedding

    return lambda **settings: OrqEmbedding(**settings)
