"""What the client and the batch sender tell a call's trace, and the kind that records nothing.

:class:`CallTrace` and :class:`RequestTrace` do nothing; they are what a call gets when
``opentelemetry-api`` is not installed (see :mod:`.telemetry`), and the base of the recording
kind in :mod:`.otel_telemetry`. What a request's trace goes through, in order::

    with call.request(inputs, batch) as request:      # ends the span if the request fails
        with request.attempt(headers) as sent:        # the first attempt starts the span
            response = transport.post(url, body, sent, timeout)
        request.retrying(error, attempt, wait)        # an event per retry: status and wait
        request.responded(response)                   # the answer is in: the span's end time
    ...
    request.decoded(embeddings)                       # model and tokens known: the span ends

A request's span ends when its response is decoded (in the caller's thread, often after later
requests went out), stamped with the time the response arrived, so the span covers the request
alone and still carries the model that served and the tokens it took.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from typing_extensions import Self

from .._wire.batching import Batch
from .._wire.decoding import BatchEmbeddings
from .._wire.inputs import EmbeddingInput
from .._wire.raw_response import RawResponse
from ..errors import OrqError

if TYPE_CHECKING:
    from ..space import EmbeddingSpace

_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class TracedClient:
    """What every span of one client's calls says of the client (no key, no headers).

    Attributes:
        model: the model asked for.
        server_address, server_port: where requests go (the port given or the scheme's own).
        encoding_format: ``base64`` or ``float``.
        dimensions: the vector length asked for, if any.
        continue_trace_in_orq: add ``orq=1`` to the tracestate of requests this client's spans
            parent (``otel_continue_trace_in_orq``).
        record_input_sizes: put the inputs' sizes on the spans (``otel_record_input_sizes``).
    """

    model: str
    server_address: str
    server_port: int
    encoding_format: str
    dimensions: int | None = None
    continue_trace_in_orq: bool = False
    record_input_sizes: bool = False

    @classmethod
    def at(
        cls,
        base_url: str,
        model: str,
        *,
        encoding_format: str,
        dimensions: int | None,
        continue_trace_in_orq: bool,
        record_input_sizes: bool,
    ) -> TracedClient:
        """The description of a client sending to ``base_url``."""
        parts = urlsplit(base_url)
        return cls(
            model,
            parts.hostname or "",
            parts.port or _DEFAULT_PORTS.get(parts.scheme, 443),
            encoding_format,
            dimensions,
            continue_trace_in_orq,
            record_input_sizes,
        )


class _Scope:
    """A trace used as a context manager: ``with`` gives the trace, leaving it calls
    :meth:`left` with the exception that ended the block, if any."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.left(error)

    def left(self, error: BaseException | None) -> None:
        """The block is over; ``error`` ended it, or None."""


class RequestTrace(_Scope):
    """One request's trace, with its attempts; this one records nothing.

    Used as a context manager around sending the request: leaving it with an exception ends
    the span with ``error.type``; leaving it normally hands the span on to :meth:`decoded`.
    """

    def attempt(self, headers: Mapping[str, str]) -> AbstractContextManager[Mapping[str, str]]:
        """Around one attempt's send: the headers to send (``headers`` plus the trace context)."""
        return nullcontext(headers)

    def retrying(self, error: OrqError, attempt: int, wait: float) -> None:
        """Attempt number ``attempt`` failed with ``error``; the next one starts in ``wait`` s."""

    def responded(self, response: RawResponse) -> None:
        """A success response arrived (its body is decoded later)."""

    def decoded(self, embeddings: BatchEmbeddings) -> None:
        """The response's vectors were decoded: the request is done."""

    def failed(self, error: BaseException) -> None:
        """The request failed for good, or its response could not be decoded."""


class CallTrace(_Scope):
    """One call's trace: the parent of its requests' traces; this one records nothing.

    Used as a context manager around the whole call: leaving it ends the call's span.
    """

    def request(self, inputs: Sequence[EmbeddingInput], batch: Batch) -> RequestTrace:
        """The trace of one request sending ``batch`` of ``inputs``."""
        return NO_REQUEST_TRACE

    def served(self, space: EmbeddingSpace | None) -> None:
        """Every batch is in: ``space`` served them all (None: more than one space did)."""


NO_REQUEST_TRACE = RequestTrace()
NO_CALL_TRACE = CallTrace()
