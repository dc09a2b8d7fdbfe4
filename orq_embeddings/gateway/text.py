"""How the local gateway reads an input: its tokens, for vectors and for usage.

A token is a run of word characters or a single punctuation mark, lower-cased: ``"Hello, world!"``
is ``["hello", ",", "world", "!"]``, four tokens. Token-id inputs (``[[1, 2, 3]]``) count one token
per id. This is no provider's tokenizer; it is simple, deterministic and documented, which is what
tests and demos need from ``usage``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: One input as the wire carries it: text, or the token ids of a text.
EmbeddingInput = str | Sequence[int]

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
