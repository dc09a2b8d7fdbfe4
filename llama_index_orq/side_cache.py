"""A view of a LlamaIndex KV store that keeps one side's vectors (queries or documents) apart.

BaseEmbedding caches every vector under its raw text in the collection ``"embeddings"``, queries
and documents alike, so with prefixes a query would be handed the cached vector of a document of
the same text (or the other way round), and after a change of model or dimensions a persisted
cache would serve the old model's vectors. Through this view each entry lives in a collection
named for what made it, ``"embeddings.<cache namespace>"`` (the vector space, the side and its
prefix: :meth:`orq_embeddings.adapter_base.AdapterBase.cache_namespace`), so none of those ever
meet.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.storage.kvstore.types import DEFAULT_COLLECTION, BaseKVStore


class SideCollections(BaseKVStore):
    """``store``, with every collection name followed by ``.namespace``."""

    def __init__(self, store: BaseKVStore, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    def _collection(self, collection: str) -> str:
        return f"{collection}.{self.namespace}"

    def put(self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION) -> None:
        self.store.put(key, val, self._collection(collection))

    async def aput(
        self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION
    ) -> None:
        await self.store.aput(key, val, self._collection(collection))

    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        return self.store.get(key, self._collection(collection))

    async def aget(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        return await self.store.aget(key, self._collection(collection))

    def get_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        return self.store.get_all(self._collection(collection))

    async def aget_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        return await self.store.aget_all(self._collection(collection))

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return self.store.delete(key, self._collection(collection))

    async def adelete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return await self.store.adelete(key, self._collection(collection))
