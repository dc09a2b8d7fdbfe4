"""LangChain integration for orq.ai embeddings: :class:`OrqEmbeddings`."""

from langchain_orq.embeddings import OrqEmbeddings

__all__ = ["OrqEmbeddings"]
