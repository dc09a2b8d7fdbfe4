"""What every embedder of the local gateway is, and the unit-vector maths they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..._wire.inputs import EmbeddingInput
from ...options import EncodingFormat
from ..vector_encoding import EncodedVector, Matrix


def normalised(matrix: Matrix) -> Matrix:
    """Rows scaled to unit length; an all-zero row becomes the first unit vector.

    A zero vector would make every cosine similarity with it undefined, so no input gets one.
    """
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    zero = norms[:, 0] == 0
    matrix[zero, 0] = 1.0
    norms[zero] = 1.0
    result: Matrix = (matrix / norms).astype(np.float32, copy=False)
    return result


def shortened(matrix: Matrix, dimensions: int) -> Matrix:
    """The first ``dimensions`` components of each row, renormalised, as OpenAI's v3 models do."""
    if dimensions >= matrix.shape[1]:
        return matrix
    return normalised(np.array(matrix[:, :dimensions], dtype=np.float32))


class Embedder(ABC):
    """Turns a model's inputs into wire-encoded vectors."""

    @abstractmethod
    def embed(
        self,
        inputs: Sequence[EmbeddingInput],
        dimensions: int,
        encoding_format: EncodingFormat,
    ) -> list[EncodedVector]:
        """One encoded vector of ``dimensions`` components per input, in input order."""
