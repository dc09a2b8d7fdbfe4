"""Body to vectors: a success response's embeddings in input order, or an InvalidResponseError.

Pure functions, no sockets: every malformed response is a fast unit test. A response is accepted
only if every input gets exactly one finite vector, all of one length, placed by its ``index``
(orq does not promise order). Anything else is an InvalidResponseError that names the batch, the
positions and what was wrong: a misaligned or dropped vector would corrupt a search index silently.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidResponseError
from .base64_codec import decode_base64
from .batching import Batch
from .json_body import printable, read_json
from .raw_response import RawResponse
from .status_errors import error_fields

Vectors = npt.NDArray[np.float32]
#: What a vector's values may be once parsed from JSON.
_JSON_NUMBERS = (int, float)


@dataclass(frozen=True)
class Usage:
    """Tokens a request (or a whole call) consumed, as orq reports them."""

    prompt_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens, self.total_tokens + other.total_tokens
        )


@dataclass(frozen=True)
class BatchEmbeddings:
    """One batch's vectors, row ``i`` for the batch's ``i``-th input, with what orq said of it."""

    vectors: Vectors
    model: str | None
    usage: Usage | None
    trace_id: str | None
    span_id: str | None = None


def _decode_vector(value: object) -> Vectors | str:
    """One embedding as float32, or a sentence saying why it cannot be one."""
    if isinstance(value, str):
        try:
            raw = decode_base64(value)
        except (binascii.Error, ValueError):
            return "is a string that is not valid base64"
        if not raw or len(raw) % 4:
            return f"decodes to {len(raw)} bytes, not a whole number of float32 values"
        return np.frombuffer(raw, dtype="<f4")
    if isinstance(value, list):
        # type(), not isinstance(): JSON's true is a bool, which Python counts as an int.
        if not value or not all(type(number) in _JSON_NUMBERS for number in value):
            return "is not a non-empty list of numbers"
        try:
            array = np.asarray(value, dtype=np.float64)
        except OverflowError:
            return "has an integer too large for any float"
        with np.errstate(over="ignore"):  # an overflow becomes inf, refused with the NaN check
            return array.astype(np.float32)
    return f"is {type(value).__name__}, not a list of numbers or a base64 string"


def decode_embeddings(response: RawResponse, batch: Batch) -> BatchEmbeddings:
    """Place a success response's vectors by ``index``, checking that they fit the batch exactly.

    Raises:
        InvalidResponseError: the body is not JSON, ``data`` is null or not a list, the count is
            wrong, an index is missing, repeated or out of range, a vector is malformed or has a
            different length from the others, or a value is NaN or infinite.
    """
    where = batch.describe()

    def invalid(message: str) -> InvalidResponseError:
        return InvalidResponseError(message, batch=where, trace_id=response.trace_id)

    try:
        payload: Any = read_json(response)
    except ValueError as unreadable:
        raise invalid(str(unreadable)) from None
    if not isinstance(payload, dict):
        raise invalid(f"expected a JSON object, got {type(payload).__name__}")
    data = payload.get("data")
    if not isinstance(data, list):
        fields = error_fields(payload) if "error" in payload else None
        if fields is not None and fields.message is not None:
            # A 200 that carries an error object: the server's words say what went wrong.
            coded = f" {printable(fields.code)}" if fields.code else ""
            raise invalid(
                f"the server answered 200 with an error{coded}: {printable(fields.message)}"
            )
        shown = "null or missing" if data is None else f"a {type(data).__name__}"
        raise invalid(f"'data' is {shown}, not a list of embeddings")
    if len(data) != batch.size:
        raise invalid(f"expected {batch.size} embeddings, got {len(data)}")

    vectors = _packed_base64(data)
    if vectors is None:
        vectors = _placed_by_index(data, batch, invalid)
    finite_rows = np.isfinite(vectors).all(axis=1)
    if not finite_rows.all():
        bad = (np.flatnonzero(~finite_rows) + batch.start).tolist()
        raise invalid(f"NaN or infinite values in the embeddings of inputs {bad}")
    return BatchEmbeddings(
        vectors=vectors,
        model=_string_or_none(payload.get("model")),
        usage=_usage(payload.get("usage")),
        trace_id=response.trace_id,
        span_id=response.span_id,
    )


def _packed_base64(data: list[Any]) -> Vectors | None:
    """The usual response decoded in one pass, or None when it is not the usual one.

    Usual: items in index order, each embedding a base64 string of one length that decodes to
    whole float32 values without padding. Joined, they are one base64 text that decodes to the
    whole matrix at once, which saves a decode, an array and a copy per vector. Anything else
    (floats, padding, another order, a malformed item) is left to :func:`_placed_by_index`,
    which decodes it or says exactly what is wrong.
    """
    strings: list[str] = []
    for position, item in enumerate(data):
        if type(item) is not dict:
            return None
        index, embedding = item.get("index"), item.get("embedding")
        if type(index) is not int or index != position or type(embedding) is not str:
            return None
        strings.append(embedding)
    width = len(strings[0])
    # 16 base64 characters are 12 bytes, three float32 values, and never need padding.
    if not width or width % 16 or any(len(string) != width for string in strings):
        return None
    try:
        raw = decode_base64("".join(strings))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != len(strings) * width // 4 * 3:  # padding inside: not the usual response
        return None
    return np.frombuffer(raw, dtype="<f4").reshape(len(strings), -1).astype(np.float32)


def _placed_by_index(
    data: list[Any], batch: Batch, invalid: Callable[[str], InvalidResponseError]
) -> Vectors:
    """Each item decoded on its own and placed by its ``index``: any order, any mix of encodings.

    Raises:
        InvalidResponseError: (made by ``invalid``) naming the first item that does not fit.
    """
    vectors: Vectors | None = None
    filled = np.zeros(batch.size, dtype=bool)
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise invalid(f"item {position} of 'data' is a {type(item).__name__}, not an object")
        index = item.get("index")
        if type(index) is not int or not 0 <= index < batch.size:
            raise invalid(f"an item has index {index!r}; expected an int within 0-{batch.size - 1}")
        if filled[index]:
            raise invalid(f"index {index} appears more than once")
        vector = _decode_vector(item.get("embedding"))
        if isinstance(vector, str):
            raise invalid(f"the embedding for input {batch.start + index} {vector}")
        if vectors is None:
            vectors = np.empty((batch.size, vector.shape[0]), dtype=np.float32)
        elif vector.shape[0] != vectors.shape[1]:
            raise invalid(
                f"vectors of different lengths in one response: input "
                f"{batch.start + index} has {vector.shape[0]}, others {vectors.shape[1]}"
            )
        vectors[index] = vector
        filled[index] = True
    assert vectors is not None  # batch.size >= 1 and the count matched
    return vectors


def _string_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _usage(value: object) -> Usage | None:
    """Token usage if the body reports it sensibly; usage is informative, never a reason to fail."""
    if not isinstance(value, dict):
        return None
    prompt, total = value.get("prompt_tokens"), value.get("total_tokens")
    if type(prompt) is not int or type(total) is not int:
        return None
    return Usage(prompt, total)
