"""The end-to-end demo (``orq-embeddings demo``) and the corpus it, the notebooks and tests share."""

from .corpus import QUESTIONS, Passage, load_corpus

__all__ = ["QUESTIONS", "Passage", "load_corpus"]
