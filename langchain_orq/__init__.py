"""LangChain integration for orq.ai embeddings: :class:`OrqEmbeddings`.

Without langchain-core, importing this package raises an ImportError that names the extra to
install, not one from deep inside LangChain's imports.
"""

from orq_embeddings.extras import LANGCHAIN, require

require("langchain_orq", LANGCHAIN)

from langchain_orq.embeddings import OrqEmbeddings  # noqa: E402

__all__ = ["OrqEmbeddings"]
