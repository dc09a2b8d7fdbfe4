"""The end-to-end RAG demo behind ``orq-embeddings demo``: both adapters, one corpus.

A package of its own because it imports LangChain and LlamaIndex, which the core never does.
:data:`COMMAND` declares the subcommand to the core's command line (an ``orq_embeddings.commands``
entry point) without importing either framework, so ``orq-embeddings --help`` works in every
install and ``orq-embeddings demo`` without them says what to install.
"""

from orq_embeddings.cli import Subcommand
from orq_embeddings.extras import LANGCHAIN, LLAMA_INDEX

DEFAULT_MODEL = "openai/text-embedding-3-small"

COMMAND = Subcommand(
    "demo",
    "run an end-to-end RAG demo through LangChain and LlamaIndex",
    "orq_embeddings_demo.command",
    needs={**LANGCHAIN, **LLAMA_INDEX},
)
