"""How the local gateway reads an input: its tokens, for vectors and for usage.

A token is a run of word characters or a single punctuation mark, lower-cased: ``"Hello, world!"``
is ``["hello", ",", "world", "!"]``, four tokens. Token-id inputs (``[[1, 2, 3]]``) count one token
per id. This is no provider's tokenizer; it is simple, deterministic and documented, which is what
tests and demos need from ``usage``.
"""

from __future__ import annotations

import re

from .._wire.inputs import EmbeddingInput

#: Common English function words, which the hashing embedder weighs down.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD_CHARACTER = re.compile(r"\w")


def text_tokens(text: str) -> list[str]:
    """The lower-cased word and punctuation tokens of a text, in order."""
    return _TOKEN.findall(text.lower())


def is_word(token: str) -> bool:
    """Whether a token from :func:`text_tokens` is a word (else it is a punctuation mark)."""
    return _WORD_CHARACTER.match(token) is not None


def count_tokens(item: EmbeddingInput) -> int:
    """How many tokens one input counts for in ``usage``."""
    return len(text_tokens(item)) if isinstance(item, str) else len(item)


def plural_stripped(word: str) -> str:
    """A crude English singular, so "branches" and "branch" share a feature: "ies" -> "y",
    "ches"/"shes"/"xes"/"sses" lose "es", other words ending in one "s" lose it."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1]
