"""Turning a response (status, headers, body) into vectors in input order, or a typed error.

Pure functions, no sockets: every malformed response is a fast unit test. A response is accepted
only if every input gets exactly one finite vector, all of one length, placed by its ``index``
(orq does not promise order). Anything else is an InvalidResponseError that names the batch, the
positions and what was wrong: a misaligned or dropped vector would corrupt a search index silently.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import numpy as np
import numpy.typing as npt

from .base64_codec import decode_base64
from .batching import Batch
from .errors import APIStatusError, InvalidResponseError, RedirectError, error_class_for_status

TRACE_ID_HEADER = "x-orq-trace-id"
SPAN_ID_HEADER = "x-orq-trace-span-id"
#: How much of an unreadable body an error message quotes.
_BODY_EXCERPT_CHARS = 200

Vectors = npt.NDArray[np.float32]
#: What a vector's values may be once parsed from JSON.
_JSON_NUMBERS = (int, float)
#: ANSI escape sequences (CSI and OSC), then any other control character: server text shown in
#: an error message must not recolour, move or rewrite the user's terminal or split a log line.
_TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def printable(text: str) -> str:
    """Server text made safe to show: escape sequences removed, control characters a space."""
    return _CONTROL_CHARACTERS.sub(" ", _TERMINAL_ESCAPES.sub("", text)).strip()


class _DuplicateKeyError(ValueError):
    """A JSON object names one key twice: which value counts is the parser's guess."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object as a dict, refusing a repeated key (a second ``data`` would win silently)."""
    built = dict(pairs)
    if len(built) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(
                    f"the body repeats the key {printable(key)!r} in one object"
                )
            seen.add(key)
    return built


@dataclass(frozen=True)
class RawResponse:
    """What a transport hands back: status, headers (names lower-cased) and the whole body."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def trace_id(self) -> str | None:
        """orq's trace id for the request, if the response carried one."""
        return self.headers.get(TRACE_ID_HEADER)

    @property
    def span_id(self) -> str | None:
        """orq's trace span id for the request, if the response carried one."""
        return self.headers.get(SPAN_ID_HEADER)


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


def describe_body(body: bytes, content_type: str | None) -> str:
    """A short, safe description of a body that is not the JSON expected."""
    if not body.strip():
        return "the body is empty"
    text = body[: _BODY_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    kind = printable(content_type or "no content type")
    if "<html" in text.lower() or "<!doctype" in text.lower():
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        named = f" titled {printable(title.group(1))!r}" if title else ""
        return f"the body is an HTML page{named} ({kind}, {len(body)} bytes), not JSON"
    excerpt = " ".join(printable(text).split())[:_BODY_EXCERPT_CHARS]
    return f"the body is not valid JSON ({kind}, {len(body)} bytes): {excerpt!r}"


def _json_payload(response: RawResponse) -> Any:
    """The body parsed as JSON.

    Raises:
        ValueError: saying, safely and briefly, why the body cannot be read as JSON.
    """
    try:
        return json.loads(response.body, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError:
        raise
    except RecursionError:
        # Nesting deeper than the parser recurses is no reason to crash with a RecursionError.
        raise ValueError(
            f"the body is JSON nested too deeply to read ({len(response.body)} bytes)"
        ) from None
    except ValueError:
        raise ValueError(
            describe_body(response.body, response.headers.get("content-type"))
        ) from None


@dataclass(frozen=True)
class _ErrorFields:
    """What an error body says, whichever generation of orq's error bodies it is."""

    code: str | None = None
    message: str | None = None
    param: str | None = None
    failures: tuple[Any, ...] = ()


def _error_fields(payload: object) -> _ErrorFields:
    """The code, message, param and failures of any of the error body generations in the spec."""
    if not isinstance(payload, dict):
        return _ErrorFields()
    error = payload.get("error")
    if isinstance(error, dict):  # current orq shape, or OpenAI's
        code = error.get("code") or error.get("type")
        message = error.get("message")
        param = error.get("param")
        param = param if isinstance(param, str) and param else None
        if isinstance(message, str) and param:
            message = f"{message} (param: {param})"
        failures = error.get("failures")
        return _ErrorFields(
            code=str(code) if code is not None else None,
            message=message if isinstance(message, str) else None,
            param=param,
            failures=tuple(failures) if isinstance(failures, list) else (),
        )
    if isinstance(error, str):  # legacy {"code": 404, "error": "...", "source": ...}
        source = payload.get("source")
        suffix = f" (source: {source})" if isinstance(source, str) else ""
        return _ErrorFields(message=error + suffix)
    message = payload.get("message")
    return _ErrorFields(message=message if isinstance(message, str) else None)


def error_from_response(response: RawResponse, host: str | None = None) -> APIStatusError:
    """The typed error for a non-success response, whatever shape its body has.

    Args:
        host: who answered (``api.orq.ai``, ``127.0.0.1:8123``), for the message.
    """
    status = response.status_code
    try:
        payload: Any = _json_payload(response)
    except ValueError as unreadable:
        fields = _ErrorFields(message=str(unreadable))
    else:
        fields = _error_fields(payload)
    error_class = error_class_for_status(status, fields.code)
    return error_class(
        status,
        printable(fields.message if fields.message is not None else _status_phrase(status)),
        code=None if fields.code is None else printable(fields.code),
        trace_id=response.trace_id,
        headers=response.headers,
        span_id=response.span_id,
        param=None if fields.param is None else printable(fields.param),
        failures=fields.failures,
        host=host,
    )


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unrecognised status"


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
        payload: Any = _json_payload(response)
    except ValueError as unreadable:
        raise invalid(str(unreadable)) from None
    if not isinstance(payload, dict):
        raise invalid(f"expected a JSON object, got {type(payload).__name__}")
    data = payload.get("data")
    if not isinstance(data, list):
        fields = _error_fields(payload) if "error" in payload else _ErrorFields()
        if fields.message is not None:
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


def raise_for_status(response: RawResponse, host: str | None = None) -> None:
    """Return for a 2xx response; otherwise raise the error the status and body call for.

    Args:
        host: who answered, named in the error's message (``127.0.0.1:8123`` is not orq.ai).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        location = printable(response.headers.get("location", "an unnamed location"))
        raise RedirectError(
            f"{host or 'the server'} answered {status}, redirecting to {location}. Redirects are "
            "never followed, so the API key is never sent elsewhere; set base_url to the final "
            "address."
        )
    raise error_from_response(response, host)


def interpret(response: RawResponse, batch: Batch, host: str | None = None) -> BatchEmbeddings:
    """Vectors for a 2xx response; otherwise raise the error the status and body call for."""
    raise_for_status(response, host)
    return decode_embeddings(response, batch)
