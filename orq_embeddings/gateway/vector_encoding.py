"""Vectors as the wire carries them: JSON float lists, or base64 of little-endian float32 bytes."""

from __future__ import annotations

import base64

import numpy as np
import numpy.typing as npt

from ..options import EncodingFormat

#: One vector on the wire: a float list, or a base64 string.
EncodedVector = str | list[float]
Matrix = npt.NDArray[np.float32]


def encode_rows(matrix: Matrix, encoding_format: EncodingFormat) -> list[EncodedVector]:
    """Each row of ``matrix`` in the wire form ``encoding_format`` names."""
    if encoding_format == "base64":
        little_endian = matrix.astype("<f4", copy=False)
        return [base64.b64encode(row.tobytes()).decode("ascii") for row in little_endian]
    rows: list[EncodedVector] = matrix.tolist()
    return rows
