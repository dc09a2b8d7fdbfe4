"""LlamaIndex integration for orq.ai embeddings: :class:`OrqEmbedding`."""

from llama_index_orq.base import OrqEmbedding

__all__ = ["OrqEmbedding"]
