"""LlamaIndex integration for orq.ai embeddings: :class:`OrqEmbedding`.

Without llama-index-core, importing this package raises an ImportError that names the extra to
install, not one from deep inside LlamaIndex's imports.
"""

from orq_embeddings.extras import LLAMA_INDEX, require

require("llama_index_orq", LLAMA_INDEX)

from llama_index_orq.base import OrqEmbedding  # noqa: E402

__all__ = ["OrqEmbedding"]
