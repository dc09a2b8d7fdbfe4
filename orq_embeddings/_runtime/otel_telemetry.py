"""The client's spans and metrics in OpenTelemetry, by the GenAI conventions of semconv v1.41.

The only module of the client that imports OpenTelemetry (the API alone, never the SDK); it is
imported on a client's first call, and only when ``opentelemetry-api`` is installed (see
:mod:`.telemetry`). The names it emits are in :mod:`.genai_conventions`, which says which
version of the conventions they follow and why ``gen_ai.provider.name`` is ``orq``.

- A call is an INTERNAL span, ``orq_embeddings.embed {model}``, under whatever span is current
  when the call starts: the caller's own, or a framework's that makes its span current. It is
  not made current itself (a call is a generator; making a span current across its ``yield``
  would leak it into the caller), so its requests name it as their parent explicitly. That is
  also how a request on one of the sync client's worker threads, or in an asyncio task, finds
  its parent: the context is carried, never looked up in a thread that does not have it.
- A request is a CLIENT span, ``embeddings {model}``, covering every attempt it took, with an
  ``orq_embeddings.retry`` event per retry (the failure's status and the wait). It is current
  while an attempt is sent, so an HTTP library's own instrumentation nests under it, and its
  context goes out in the request's headers through the globally configured propagator
  (``traceparent``, ``tracestate``, ``baggage`` by default).
- Each request records ``gen_ai.client.operation.duration`` and, when the response reports
  usage, ``gen_ai.client.token.usage`` (input tokens).

Providers are looked up globally on every call (a dictionary read), so the providers an
application sets after making a client, or sets again in a forked worker, are the ones used;
nothing here holds a provider or an exporter across a fork. No input text, no vector and no
header value ever goes on a span: only counts, sizes on request, names and orq's trace ids.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import Histogram, MeterProvider
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
)
from opentelemetry.util.types import AttributeValue

from .._version import __version__
from .._wire.batching import Batch, input_size
from .._wire.decoding import BatchEmbeddings
from .._wire.inputs import EmbeddingInput
from .._wire.raw_response import RawResponse
from ..errors import APIStatusError, OrqError
from . import genai_conventions as names
from .traces import CallTrace, RequestTrace, TracedClient

if TYPE_CHECKING:
    from ..space import EmbeddingSpace

Attributes = dict[str, AttributeValue]


# -- the tracer and instruments of the providers in force -----------------------------------------


Provider = TypeVar("Provider")
Made = TypeVar("Made")


class _PerProvider(Generic[Provider, Made]):
    """What is made from a global provider, made again when the provider in force changes.

    Args:
        provider: the global provider now (a proxy until an application sets one).
        make: what to make from it.
    """

    def __init__(self, provider: Callable[[], Provider], make: Callable[[Provider], Made]) -> None:
        self._provider = provider
        self._make = make
        self._made: tuple[Provider, Made] | None = None

    def __call__(self) -> Made:
        provider = self._provider()
        made = self._made
        if made is None or made[0] is not provider:  # a race makes it twice: both are right
            made = self._made = (provider, self._make(provider))
        return made[1]


class _Instruments(NamedTuple):
    """The conventions' two client histograms."""

    duration: Histogram
    tokens: Histogram


def _made_instruments(provider: MeterProvider) -> _Instruments:
    meter = provider.get_meter(names.SCOPE, __version__, schema_url=names.SCHEMA_URL)
    return _Instruments(
        meter.create_histogram(
            names.OPERATION_DURATION,
            unit="s",
            description=names.OPERATION_DURATION_DESCRIPTION,
            explicit_bucket_boundaries_advisory=names.DURATION_BUCKETS,
        ),
        meter.create_histogram(
            names.TOKEN_USAGE,
            unit="{token}",
            description=names.TOKEN_USAGE_DESCRIPTION,
            explicit_bucket_boundaries_advisory=names.TOKEN_BUCKETS,
        ),
    )


def _made_tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer(names.SCOPE, __version__, schema_url=names.SCHEMA_URL)


#: The client's tracer and instruments, from the global providers in force.
_tracer = _PerProvider(trace.get_tracer_provider, _made_tracer)
_instruments = _PerProvider(metrics.get_meter_provider, _made_instruments)


# -- what errors are called ---------------------------------------------------------------------


def error_type(error: BaseException) -> str:
    """``error.type``: the exception's class name (``RateLimitError``, ``OrqTimeoutError``...)."""
    return type(error).__name__


def _status_of(error: BaseException) -> Status:
    """The span's error status: the error's type and HTTP status, never the server's words.

    A server's error text may quote an input, so it stays off the span.
    """
    if isinstance(error, APIStatusError):
        return Status(StatusCode.ERROR, f"{error_type(error)}: HTTP {error.status_code}")
    return Status(StatusCode.ERROR, error_type(error))


def _sizes(items: Sequence[EmbeddingInput]) -> Attributes:
    """The opt-in size attributes of some inputs (counted as the batch budget counts them)."""
    sizes = [input_size(item) for item in items]
    return {names.INPUT_BYTES: sum(sizes), names.LARGEST_INPUT_BYTES: max(sizes, default=0)}


# -- one call --------------------------------------------------------------------------------------


class OtelCallTrace(CallTrace):
    """A call's INTERNAL span and the counts it ends with; the parent of its requests' spans.

    Args:
        client: what the spans say of the client.
        inputs: the texts (or token ids) the call sends, prefixes applied.
        batches: the batches planned for them.
    """

    def __init__(
        self, client: TracedClient, inputs: Sequence[EmbeddingInput], batches: Sequence[Batch]
    ) -> None:
        self.client = client
        self.inputs = inputs
        #: The tracer and instruments of the providers in force when the call started.
        self.tracer = _tracer()
        self.instruments = _instruments()
        self.span = self.tracer.start_span(f"orq_embeddings.embed {client.model}")
        self.recording = self.span.is_recording()
        #: The context each request's span is started in: the caller's, with this span in it.
        self.context = trace.set_span_in_context(self.span)
        #: What a request's span is given when it starts (what a sampler may look at).
        self.request_attributes: Attributes = {
            names.GEN_AI_OPERATION_NAME: names.EMBEDDINGS_OPERATION,
            names.GEN_AI_PROVIDER_NAME: names.ORQ_PROVIDER,
            names.GEN_AI_REQUEST_MODEL: client.model,
            names.SERVER_ADDRESS: client.server_address,
            names.SERVER_PORT: client.server_port,
        }
        self._lock = threading.Lock()
        self._requests = self._attempts = self._input_tokens = 0
        if self.recording:
            attributes: Attributes = {
                names.CALL_MODEL: client.model,
                names.CALL_INPUTS: len(inputs),
                names.CALL_BATCHES: len(batches),
            }
            if client.record_input_sizes:
                attributes.update(_sizes(inputs))
            self.span.set_attributes(attributes)

    def request(self, inputs: Sequence[EmbeddingInput], batch: Batch) -> RequestTrace:
        return OtelRequestTrace(self, batch)

    def served(self, space: EmbeddingSpace | None) -> None:
        if self.recording:
            self.span.set_attribute(names.CALL_SPACE, str(space) if space else names.MIXED_SPACES)

    def counted(self, *, requests: int = 0, attempts: int = 0, input_tokens: int = 0) -> None:
        """Add to the call's totals (from any thread)."""
        with self._lock:
            self._requests += requests
            self._attempts += attempts
            self._input_tokens += input_tokens

    def left(self, error: BaseException | None) -> None:
        if self.recording:
            with self._lock:
                totals: Attributes = {
                    names.CALL_REQUESTS: self._requests,
                    names.CALL_ATTEMPTS: self._attempts,
                    names.CALL_INPUT_TOKENS: self._input_tokens,
                }
            self.span.set_attributes(totals)
            # GeneratorExit: the caller stopped reading the batches, which is no failure.
            if error is not None and not isinstance(error, GeneratorExit):
                self.span.set_attribute(names.ERROR_TYPE, error_type(error))
                self.span.set_status(_status_of(error))
        self.span.end()


# -- one request -----------------------------------------------------------------------------------


def _end_unused(span: Span, end_time: int) -> None:
    """End the span of a response nobody decoded (its call was given up first), as it arrived.

    It records no metric: what the response said (the model, the tokens) was never read.
    """
    span.end(end_time=end_time)


class OtelRequestTrace(RequestTrace):
    """A request's CLIENT span, from its first attempt to the decoding of its response."""

    def __init__(self, call: OtelCallTrace, batch: Batch) -> None:
        self._call = call
        self._batch = batch
        self._span: Span | None = None
        self._recording = False
        self._context = Context()
        self._headers: Mapping[str, str] = {}
        self._started = self._arrived = 0
        self._attempts = 0
        self._ended = False
        self._unused: weakref.finalize[Any, Any] | None = None

    # -- sending ------------------------------------------------------------------------------

    @contextmanager
    def attempt(self, headers: Mapping[str, str]) -> Iterator[Mapping[str, str]]:
        if self._span is None:
            self._start(headers)
        self._attempts += 1
        if not self._recording:
            yield self._headers
            return
        self._call.counted(attempts=1)
        token = otel_context.attach(self._context)
        try:
            yield self._headers
        finally:
            otel_context.detach(token)

    def _start(self, headers: Mapping[str, str]) -> None:
        """Start the span at the first attempt, and work out the headers every attempt sends."""
        call = self._call
        self._started = time.time_ns()
        span = self._span = call.tracer.start_span(
            f"{names.EMBEDDINGS_OPERATION} {call.client.model}",
            context=call.context,
            kind=SpanKind.CLIENT,
            attributes=call.request_attributes,
            start_time=self._started,
        )
        self._recording = span.is_recording()
        self._context = trace.set_span_in_context(span, call.context)
        self._headers = _with_trace_context(headers, self._trace_context(span))
        if self._recording:
            call.counted(requests=1)
            span.set_attributes(self._request_attributes())

    def _request_attributes(self) -> Attributes:
        client, batch = self._call.client, self._batch
        attributes: Attributes = {
            names.GEN_AI_REQUEST_ENCODING_FORMATS: (client.encoding_format,),
            names.BATCH_INDEX: batch.number,
            names.BATCH_FIRST_INPUT: batch.start,
            names.BATCH_INPUTS: batch.size,
        }
        if client.dimensions is not None:
            attributes[names.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = client.dimensions
        if client.record_input_sizes:
            attributes.update(_sizes(self._call.inputs[batch.start : batch.stop]))
        return attributes

    def _trace_context(self, span: Span) -> dict[str, str]:
        """The headers that carry the span's context, as the global propagator writes them."""
        context = self._context
        if self._call.client.continue_trace_in_orq:
            context = _with_orq_tracestate(span, self._call.span, context)
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=context)
        return carrier

    def retrying(self, error: OrqError, attempt: int, wait: float) -> None:
        if not self._recording or self._span is None:
            return
        event: Attributes = {
            names.RETRY_ATTEMPT: attempt,
            names.ERROR_TYPE: error_type(error),
            names.RETRY_WAIT_SECONDS: wait,
        }
        if isinstance(error, APIStatusError):
            event[names.HTTP_RESPONSE_STATUS_CODE] = error.status_code
        self._span.add_event(names.RETRY_EVENT, event)

    def responded(self, response: RawResponse) -> None:
        self._arrived = time.time_ns()
        if not self._recording or self._span is None:
            return
        attributes: Attributes = {names.HTTP_RESPONSE_STATUS_CODE: response.status_code}
        if self._attempts > 1:
            attributes[names.HTTP_REQUEST_RESEND_COUNT] = self._attempts - 1
        if response.trace_id is not None:
            attributes[names.ORQ_TRACE_ID] = response.trace_id
        if response.span_id is not None:
            attributes[names.ORQ_SPAN_ID] = response.span_id
        self._span.set_attributes(attributes)
        # Ended in decoded(); if the call is given up before that, when it is let go.
        self._unused = weakref.finalize(self, _end_unused, self._span, self._arrived)
        self._unused.atexit = False

    # -- ending -------------------------------------------------------------------------------

    def decoded(self, embeddings: BatchEmbeddings) -> None:
        if self._span is None or self._ended:
            return
        tokens = None if embeddings.usage is None else embeddings.usage.prompt_tokens
        self._record(embeddings.model, tokens, None)
        if self._recording:
            attributes: Attributes = {
                names.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: int(embeddings.vectors.shape[1])
            }
            if embeddings.model is not None:
                attributes[names.GEN_AI_RESPONSE_MODEL] = embeddings.model
            if tokens is not None:
                attributes[names.GEN_AI_USAGE_INPUT_TOKENS] = tokens
                self._call.counted(input_tokens=tokens)
            self._span.set_attributes(attributes)
        self._end(self._arrived)

    def failed(self, error: BaseException) -> None:
        if self._span is None or self._ended:
            return
        self._record(None, None, error)
        if self._recording:
            attributes: Attributes = {names.ERROR_TYPE: error_type(error)}
            if isinstance(error, APIStatusError):
                attributes[names.HTTP_RESPONSE_STATUS_CODE] = error.status_code
            if self._attempts > 1:
                attributes[names.HTTP_REQUEST_RESEND_COUNT] = self._attempts - 1
            self._span.set_attributes(attributes)
            self._span.set_status(_status_of(error))
        # A response that could not be decoded ends when it arrived; a failed send, now.
        self._end(self._arrived or time.time_ns())

    def left(self, error: BaseException | None) -> None:
        if error is not None:
            self.failed(error)

    def _end(self, end_time: int) -> None:
        assert self._span is not None
        self._ended = True
        if self._unused is not None:
            self._unused.detach()
        self._span.end(end_time=end_time)

    def _record(
        self, response_model: str | None, input_tokens: int | None, error: BaseException | None
    ) -> None:
        """The request's duration (first attempt to response or failure) and tokens, as metrics."""
        ended = self._arrived or time.time_ns()
        attributes: Attributes = dict(self._call.request_attributes)
        if response_model is not None:
            attributes[names.GEN_AI_RESPONSE_MODEL] = response_model
        instruments = self._call.instruments
        if input_tokens is not None:
            instruments.tokens.record(
                input_tokens, {**attributes, names.GEN_AI_TOKEN_TYPE: names.INPUT_TOKEN_TYPE}
            )
        if error is not None:
            attributes[names.ERROR_TYPE] = error_type(error)
        instruments.duration.record((ended - self._started) / 1e9, attributes)


# -- trace context on the wire ---------------------------------------------------------------------


def _with_orq_tracestate(span: Span, parent: Span, context: Context) -> Context:
    """``context`` with ``orq=1`` first in the tracestate of ``span``, when the span is ours.

    W3C Trace Context lets a vendor change the tracestate only along with the traceparent: a
    span that is no new span of this client (no SDK: the caller's context passed on as it came)
    keeps its tracestate untouched.
    """
    ours = span.get_span_context()
    if not ours.is_valid or ours.span_id == parent.get_span_context().span_id:
        return context
    state = ours.trace_state
    if names.ORQ_TRACESTATE_KEY in state:
        state = state.update(names.ORQ_TRACESTATE_KEY, names.ORQ_TRACESTATE_VALUE)
    else:
        state = state.add(names.ORQ_TRACESTATE_KEY, names.ORQ_TRACESTATE_VALUE)
    stamped = SpanContext(ours.trace_id, ours.span_id, ours.is_remote, ours.trace_flags, state)
    return trace.set_span_in_context(NonRecordingSpan(stamped), context)


def _with_trace_context(headers: Mapping[str, str], carried: dict[str, str]) -> Mapping[str, str]:
    """``headers`` with the trace context's; a header of the same name given by the caller
    (``default_headers``) gives way to the context's."""
    if not carried:
        return headers
    replaced = {name.lower() for name in carried}
    kept = {name: value for name, value in headers.items() if name.lower() not in replaced}
    return {**kept, **carried}
