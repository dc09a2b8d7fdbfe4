"""A response's headers and body held to the client's limits, the same way on both transports.

Both transports read the body raw and undo its Content-Encoding here, in steps no larger than
the room left under ``max_response_bytes``: an endless body or a gzip bomb is refused with a
ResponseTooLargeError after at most that many bytes, never inflated into memory first. Header
limits are checked here too, so the sync and async clients refuse exactly the same responses.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from ..errors import InvalidResponseError, ResponseTooLargeError

#: Most header fields of a response: what http.client accepts (it counts the blank line that ends
#: them against its 100), so the sync and async clients refuse exactly the same responses.
MAX_RESPONSE_HEADERS = 99
#: Most bytes of a response's header fields in all.
MAX_RESPONSE_HEADER_BYTES = 64 * 1024
#: The codings the client asks for (and can undo): those of the standard library.
ACCEPTED_CONTENT_ENCODINGS = "gzip, deflate"


def check_header_limits(origin: str, headers: Iterable[tuple[str, str]]) -> None:
    """Refuse a response with more header fields, or more header bytes, than the client accepts.

    Raises:
        InvalidResponseError: saying which limit the response's headers broke.
    """
    count = size = 0
    for name, value in headers:
        count += 1
        size += len(name) + len(value) + 4  # ": " and CRLF
    if count > MAX_RESPONSE_HEADERS or size > MAX_RESPONSE_HEADER_BYTES:
        raise header_limit_error(origin)


def header_limit_error(origin: str) -> InvalidResponseError:
    """The error for a response whose headers are beyond the limits, the same on both transports.

    (http.client stops reading at the first field or line over its limits, so the sync
    transport cannot say by how much; neither says, so that both say the same.)
    """
    return InvalidResponseError(
        f"the response from {origin} has more header fields or bytes than this client accepts "
        f"(at most {MAX_RESPONSE_HEADERS} fields and {MAX_RESPONSE_HEADER_BYTES} bytes)"
    )


class _Identity:
    """The decoder of a body sent as it is."""

    unconsumed_tail = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        return data


class _Deflate:
    """``deflate`` as servers send it: zlib-wrapped as the RFC says, or raw, as some do."""

    def __init__(self) -> None:
        self._decoder = zlib.decompressobj()
        self._first = True

    @property
    def unconsumed_tail(self) -> bytes:
        return self._decoder.unconsumed_tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._first:
            self._first = False
            try:
                return self._decoder.decompress(data, max_length)
            except zlib.error:
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._decoder.decompress(data, max_length)


def _decoder_for(content_encoding: str | None) -> _Identity | _Deflate | zlib._Decompress:
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return _Identity()
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Deflate()
    raise InvalidResponseError(
        f"the response is encoded as {coding!r}, which this client did not ask for and cannot "
        f"decode (it asks for {ACCEPTED_CONTENT_ENCODINGS})"
    )


class BoundedBody:
    """Collects a body's decoded bytes, refusing it the moment it grows past ``limit``."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self._decoder = _decoder_for(content_encoding)
        self._coding = content_encoding
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []

    @property
    def size(self) -> int:
        """Decoded bytes so far."""
        return self._size

    def feed(self, data: bytes) -> None:
        """Take the next raw bytes of the body.

        Raises:
            ResponseTooLargeError: the decoded body is now larger than the limit.
            InvalidResponseError: the bytes are not valid for the body's Content-Encoding.
        """
        try:
            while data:
                # Never more than one byte past the limit at a time: that byte proves the excess.
                decoded = self._decoder.decompress(data, self._limit - self._size + 1)
                self._size += len(decoded)
                if self._size > self._limit:
                    raise ResponseTooLargeError(
                        f"the response body is larger than max_response_bytes "
                        f"({self._limit} bytes, after decompression); it was abandoned"
                    )
                self._chunks.append(decoded)
                data = self._decoder.unconsumed_tail
        except zlib.error:
            raise InvalidResponseError(
                f"the response body is not valid {self._coding} data"
            ) from None

    def finish(self) -> bytes:
        """The whole decoded body."""
        return b"".join(self._chunks)
