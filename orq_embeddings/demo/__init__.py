"""Moved to :mod:`orq_embeddings_demo.corpus`; kept for notebooks written against the old path.

The corpus module is standard library only and ships in every wheel, so this alias costs the
core nothing.
"""

from orq_embeddings_demo.corpus import QUESTIONS as QUESTIONS
from orq_embeddings_demo.corpus import Passage as Passage
from orq_embeddings_demo.corpus import load_corpus as load_corpus

__all__ = ["QUESTIONS", "Passage", "load_corpus"]
