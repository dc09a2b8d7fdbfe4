"""LlamaIndex's default SimpleVectorStore: the stamp is a reserved key of its persisted data.

The store persists ``embedding_dict``, ``text_id_to_ref_doc_id`` and ``metadata_dict`` (as
``default__vector_store.json`` of a StorageContext). The stamp is an entry of ``metadata_dict``
under a key no node id takes; queries and deletions walk ``embedding_dict`` and
``text_id_to_ref_doc_id`` and look metadata up by the node ids found there, so it never comes
back in a result and survives inserts and deletions. ``clear()`` drops it with the vectors.
Persist the storage context after guarding to keep the stamp on disk.
"""

from __future__ import annotations

from llama_index.core.vector_stores import SimpleVectorStore

from orq_embeddings.space import STAMP_KEY, EmbeddingSpace

#: The metadata_dict key of the stamp: a node id is a UUID (or the caller's), never this.
RESERVED_KEY = f"__{STAMP_KEY}__"


class SimpleStamp:
    """A SimpleVectorStore's stamp, under a reserved key of its metadata_dict."""

    description = "this SimpleVectorStore"
    stamp_location = f"stamp in its persisted metadata_dict, key {RESERVED_KEY!r}"

    def __init__(self, store: SimpleVectorStore) -> None:
        self._data = store.data

    def read_stamp(self) -> object | None:
        entry = self._data.metadata_dict.get(RESERVED_KEY)
        return entry.get("stamp", entry) if isinstance(entry, dict) else entry

    def count_vectors(self) -> int:
        return len(self._data.embedding_dict)

    def vector_width(self) -> int | None:
        first = next(iter(self._data.embedding_dict.values()), None)
        return None if first is None else len(first)

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        # A dict, as every other entry is: code reading metadata_dict expects node metadata.
        self._data.metadata_dict[RESERVED_KEY] = {"stamp": stamp}


def stamped(store: SimpleVectorStore) -> SimpleStamp:
    return SimpleStamp(store)
