"""Rows of a fixed random bank, with their wire encodings prepared once.

Nearly free, so a client benchmark measures the client, not the gateway. A pure function of
(model id, input): the same input always gets the same row, in every process.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence

import numpy as np

from ..._wire.inputs import EmbeddingInput
from ...options import EncodingFormat
from ..catalogue import ModelSpec
from ..vector_encoding import EncodedVector, encode_rows
from .base import Embedder, normalised, shortened

#: Rows in the precomputed bank: enough that a batch's vectors differ from one another.
_BANK_ROWS = 256


def _input_bytes(item: EmbeddingInput) -> bytes:
    if isinstance(item, str):
        # JSON may carry lone surrogates; they must hash, not crash.
        return item.encode("utf-8", "surrogatepass")
    return ",".join(map(str, item)).encode("ascii")


class PrecomputedEmbedder(Embedder):
    """Rows of a fixed random bank, picked by a checksum of the input, encodings prepared once.

    The vectors mean nothing; the same input still always gets the same row.
    """

    def __init__(self, spec: ModelSpec) -> None:
        digest = hashlib.blake2b(spec.vectors_id.encode("utf-8"), digest_size=8).digest()
        seed = int.from_bytes(digest, "little")
        bank = np.random.default_rng(seed).standard_normal((_BANK_ROWS, spec.dimensions))
        self._bank = normalised(bank.astype(np.float32))
        self._encoded: dict[tuple[int, EncodingFormat], list[EncodedVector]] = {}

    def embed(
        self,
        inputs: Sequence[EmbeddingInput],
        dimensions: int,
        encoding_format: EncodingFormat,
    ) -> list[EncodedVector]:
        rows = self._encoded_rows(dimensions, encoding_format)
        return [rows[zlib.crc32(_input_bytes(item)) % _BANK_ROWS] for item in inputs]

    def _encoded_rows(
        self, dimensions: int, encoding_format: EncodingFormat
    ) -> list[EncodedVector]:
        key = (dimensions, encoding_format)
        if key not in self._encoded:
            self._encoded[key] = encode_rows(shortened(self._bank, dimensions), encoding_format)
        return self._encoded[key]
