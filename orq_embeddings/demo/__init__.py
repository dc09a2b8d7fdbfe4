"""The demo corpus that ``orq-embeddings demo``, the notebooks and the tests share."""

from .corpus import QUESTIONS, Passage, load_corpus

__all__ = ["QUESTIONS", "Passage", "load_corpus"]
