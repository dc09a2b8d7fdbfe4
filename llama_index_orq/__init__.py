"""LlamaIndex integration for orq.ai embeddings."""

__all__: list[str] = []
