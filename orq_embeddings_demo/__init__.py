"""The end-to-end RAG demo behind ``orq-embeddings demo``: both adapters, one corpus.

A package of its own because it imports LangChain and LlamaIndex, which the core never does.
"""
