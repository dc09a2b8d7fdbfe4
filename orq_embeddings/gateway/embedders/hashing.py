"""Meaningful vectors by signed feature hashing, for the local gateway's hashing models.

Every lower-cased token and every character trigram of a word adds +-weight at hashed positions,
and the sum is L2-normalised. Texts that share words share features, so they are closer than
texts that do not, and a small retrieval demo finds the right passage. The hash is keyed with the
model id, so each model has its own vector space, as real models do: vectors of two models are
not comparable (a model serving another's weights, ``same_vectors_as``, is keyed with theirs).
Each feature lands once within the first 8 components, once within the first 32, 128, ... and
once anywhere, so a vector cut short by ``dimensions`` still carries every feature (OpenAI's v3
models are trained to shorten well in the same way).

A pure function of (model id, input): the same text always gets the same vector, in every process.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence

import numpy as np

from ..._wire.inputs import EmbeddingInput
from ...options import EncodingFormat
from ..catalogue import ModelSpec
from ..tokens import STOPWORDS, is_word, plural_stripped, text_tokens
from ..vector_encoding import EncodedVector, Matrix, encode_rows
from .base import Embedder, normalised, shortened

#: Weights of the three kinds of feature: whole words dominate, trigrams let "embedding" and
#: "embeddings" meet, punctuation barely counts because nearly every text has some.
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.25
_PUNCTUATION_WEIGHT = 0.1
#: Words nearly every English text has ("the", "what", "of") say little about its topic.
_STOPWORD_WEIGHT = 0.1
#: Words shorter than this add no trigrams: theirs would mostly be the word itself.
_MIN_TRIGRAM_WORD = 4
#: Feature positions remembered per model; a corpus's vocabulary repeats, hashing it need not.
_FEATURE_MEMO_LIMIT = 1 << 17
#: The smallest prefix a feature is placed in, and the factor between successive prefixes.
_FIRST_PREFIX = 8
_PREFIX_GROWTH = 4


class HashingEmbedder(Embedder):
    """Meaningful vectors by signed feature hashing of tokens and character trigrams."""

    def __init__(self, spec: ModelSpec) -> None:
        self._dimensions = spec.dimensions
        self._key = hashlib.blake2b(spec.vectors_id.encode("utf-8"), digest_size=32).digest()
        self._prefixes = _prefixes(spec.dimensions)
        # A placement in a short prefix collides with most other features there; weighting it by
        # sqrt(prefix / dimensions) keeps that noise small in a full vector, while a vector cut
        # to the prefix still holds the feature.
        self._prefix_weights = tuple(math.sqrt(p / spec.dimensions) for p in self._prefixes)
        self._placements: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {}

    def embed(
        self,
        inputs: Sequence[EmbeddingInput],
        dimensions: int,
        encoding_format: EncodingFormat,
    ) -> list[EncodedVector]:
        return encode_rows(shortened(self.vectors(inputs), dimensions), encoding_format)

    def vectors(self, inputs: Sequence[EmbeddingInput]) -> Matrix:
        """The native-size unit vectors of the inputs, one row each."""
        matrix = np.zeros((len(inputs), self._dimensions), dtype=np.float32)
        for row, item in enumerate(inputs):
            positions: list[int] = []
            values: list[float] = []
            for feature, weight in _features(item):
                feature_positions, signs = self._placement(feature)
                positions.extend(feature_positions)
                values.extend(sign * weight for sign in signs)
            np.add.at(matrix[row], positions, values)
        return normalised(matrix)

    def _placement(self, feature: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """Where a feature lands in this model's space (one position per prefix), with signs."""
        known = self._placements.get(feature)
        if known is not None:
            return known
        digest = hashlib.blake2b(
            feature.encode("utf-8", "surrogatepass"), digest_size=64, key=self._key
        ).digest()
        words = [
            int.from_bytes(digest[8 * index : 8 * index + 8], "little")
            for index in range(len(self._prefixes))
        ]
        placement = (
            tuple(word % prefix for word, prefix in zip(words, self._prefixes, strict=True)),
            tuple(
                weight if word >> 63 else -weight
                for word, weight in zip(words, self._prefix_weights, strict=True)
            ),
        )
        if len(self._placements) >= _FEATURE_MEMO_LIMIT:
            self._placements.clear()
        self._placements[feature] = placement
        return placement


def _prefixes(dimensions: int) -> tuple[int, ...]:
    """The prefix lengths a feature is placed in: 8, 32, 128, ... below ``dimensions``, then it."""
    prefixes = []
    prefix = _FIRST_PREFIX
    while prefix < dimensions:
        prefixes.append(prefix)
        prefix *= _PREFIX_GROWTH
    return (*prefixes, dimensions)


def _features(item: EmbeddingInput) -> Iterator[tuple[str, float]]:
    """The weighted features of one input (token ids are features of their own)."""
    if not isinstance(item, str):
        for token_id in item:
            yield f"#{token_id}", _WORD_WEIGHT
        return
    for token in text_tokens(item):
        if not is_word(token):
            yield token, _PUNCTUATION_WEIGHT
            continue
        if token in STOPWORDS:
            yield token, _STOPWORD_WEIGHT
            continue
        yield plural_stripped(token), _WORD_WEIGHT
        if len(token) >= _MIN_TRIGRAM_WORD:
            marked = f"<{token}>"
            for start in range(len(marked) - 2):
                yield "3:" + marked[start : start + 3], _TRIGRAM_WEIGHT
