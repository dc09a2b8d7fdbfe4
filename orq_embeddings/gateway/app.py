"""The local orq gateway as a plain ASGI application.

Paths: ``/v2/router/embeddings`` and ``/v3/router/embeddings`` speak the router dialect,
``/v2/gateway/embeddings`` the gateway dialect; ``/_local_gateway/...`` are the control endpoints
(:mod:`orq_embeddings.gateway.control`); anything else is a 404 with an orq-style body.

An embeddings request goes through, in order: method (405), API key (401), the rate limit
(429, when ``requests_per_minute`` is set), body size (413), validation (400), the batch limit
(400, when ``max_inputs_per_request`` is set), response faults, the exact-match cache, then
routing (404 for an unknown model, 400 for ``dimensions`` a model cannot give, the last failure
when every model failed).
Every answer carries ``x-orq-trace-id`` and ``x-orq-trace-span-id``; a request that asked for the
cache also carries ``x-local-gateway-cache: hit`` or ``miss``, a header of the local gateway's own
(orq's name for it is not published). With a rate limit, every answer to a request it counted
carries ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset``.
"""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .._wire.dialects import Dialect

# The core's names for orq's trace headers, re-exported: the gateway sends what the client reads.
from .._wire.raw_response import SPAN_ID_HEADER as SPAN_ID_HEADER
from .._wire.raw_response import TRACE_ID_HEADER as TRACE_ID_HEADER
from .asgi import (
    Receive,
    Scope,
    Send,
    drop_connection,
    read_body,
    request_headers,
    send_response,
    serve_lifespan,
)
from .batch_limit import batch_refusal
from .cache import DEFAULT_TTL_SECONDS, cache_key
from .config import GatewayConfig
from .control import CONTROL_PREFIX, answer_control
from .errors import GatewayError
from .faults import ResponseFault
from .gateway_state import CachedResponse, GatewayState
from .rate_limit import rate_key
from .request_log import CacheOutcome, GatewayLimit, RecordedRequest, redacted
from .routing import Attempt, RoutingFailure
from .success_body import TRUNCATED_BODY, embeddings_body
from .tokens import count_tokens
from .tracing import answered, caller_trace_id, server_span
from .validation import EmbeddingRequest, parse_request

#: The local gateway's own cache header: ``hit`` or ``miss``, on requests that asked for the cache.
CACHE_HEADER = "x-local-gateway-cache"

DIALECT_BY_PATH: Mapping[str, Dialect] = {
    "/v2/router/embeddings": Dialect.ROUTER,
    "/v3/router/embeddings": Dialect.ROUTER,
    "/v2/gateway/embeddings": Dialect.GATEWAY,
}


@dataclass
class _Response:
    #: 0 when the connection is dropped instead.
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Close the connection instead of answering.
    drop: bool = False


@dataclass
class _Notes:
    """What the request log records about a request, gathered while it is answered."""

    headers: dict[str, str]
    trace_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    span_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    body: bytes = b""
    request: EmbeddingRequest | None = None
    served_model: str | None = None
    cache: CacheOutcome | None = None
    attempts: tuple[Attempt, ...] = ()
    rate_limit_headers: dict[str, str] = field(default_factory=dict)
    refused_by: GatewayLimit | None = None
    received_at: float = field(default_factory=time.time)

    def recorded(self, path: str, status: int) -> RecordedRequest:
        request = self.request
        identity = None if request is None else request.options.identity
        return RecordedRequest(
            trace_id=self.trace_id,
            caller_trace_id=caller_trace_id(self.headers),
            path=path,
            headers=redacted(self.headers),
            body=self.body.decode("utf-8", "replace"),
            status=status,
            model=None if request is None else request.model,
            served_model=self.served_model,
            identity=None if identity is None else identity.model_dump(mode="json"),
            cache=self.cache,
            attempts=self.attempts,
            refused_by=self.refused_by,
            received_at=self.received_at,
            answered_at=time.time(),
        )


class GatewayApp:
    """An orq-compatible embeddings server, as an ASGI callable.

    Args:
        config: its settings (defaults: no API key, OpenAI's input limit, no faults).
        clock: monotonic seconds for cache expiry and the rate-limit window; inject one to step
            past a ttl or a minute in a test.
    """

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or GatewayConfig()
        self.state = GatewayState(self.config, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        dialect = DIALECT_BY_PATH.get(path)
        if dialect is not None:
            with self.state.counters.in_flight_request():
                await self._embeddings(scope, receive, send, dialect)
            return
        if path.startswith(CONTROL_PREFIX):
            await self._control(scope, receive, send)
            return
        not_found = GatewayError(
            404,
            f"no endpoint at {path}; embeddings are served at " + ", ".join(DIALECT_BY_PATH),
        )
        await send_response(send, not_found.status, not_found.body, not_found.headers)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            headers = request_headers(scope)
            self._authenticate(headers)
            body = await read_body(receive, headers, self.config.max_body_bytes)
            answer = answer_control(self.state, scope["method"], scope["path"], body)
        except GatewayError as error:
            await send_response(send, error.status, error.body, error.headers)
        else:
            await send_response(send, 200, answer, {})

    async def _embeddings(
        self, scope: Scope, receive: Receive, send: Send, dialect: Dialect
    ) -> None:
        notes = _Notes(headers=request_headers(scope))
        with server_span(scope["method"], scope["path"], notes.headers) as span:
            try:
                response = await self._answer(scope, receive, dialect, notes)
            except GatewayError as error:
                response = _Response(error.status, error.body, dict(error.headers))
            if response.drop:
                await drop_connection(scope, receive)
            else:
                response.headers[TRACE_ID_HEADER] = notes.trace_id
                response.headers[SPAN_ID_HEADER] = notes.span_id
                response.headers.update(notes.rate_limit_headers)
                await send_response(send, response.status, response.body, response.headers)
            answered(
                span,
                response.status,
                trace_id=notes.trace_id,
                model=None if notes.request is None else notes.request.model,
                served_model=notes.served_model,
                cache=notes.cache,
                refused_by=notes.refused_by,
            )
        identity = None if notes.request is None else notes.request.options.identity
        self.state.record(notes.recorded(scope["path"], response.status), identity)

    async def _answer(
        self, scope: Scope, receive: Receive, dialect: Dialect, notes: _Notes
    ) -> _Response:
        if scope["method"] != "POST":
            raise GatewayError(405, f"{scope['method']} is not allowed here; send a POST")
        self._authenticate(notes.headers)
        self._admit(notes)
        notes.body = await read_body(receive, notes.headers, self.config.max_body_bytes)
        request = notes.request = parse_request(
            notes.body, dialect, max_inputs=self.config.max_inputs
        )
        refusal = batch_refusal(len(request.inputs), self.config.max_inputs_per_request)
        if refusal is not None:
            notes.refused_by = "max_inputs_per_request"
            raise refusal
        fault = self.state.faults.response_fault(request.model)
        if fault is not None:
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            faulty = _faulty_response(fault)
            if faulty is not None:
                return faulty
        return await self._embed(request, notes)

    async def _embed(self, request: EmbeddingRequest, notes: _Notes) -> _Response:
        """Vectors from the exact-match cache when the request asks for it, else from routing."""
        cache = request.options.cache
        if cache is None:
            _, body = await self._route(request, notes)
            return _Response(200, body)
        key = cache_key(request.dialect, notes.body)
        cached = self.state.cache.get(key)
        if cached is not None:
            notes.cache, notes.served_model = "hit", cached.model_id
            return _Response(200, cached.body, {CACHE_HEADER: "hit"})
        notes.cache = "miss"
        model_id, body = await self._route(request, notes)
        ttl = DEFAULT_TTL_SECONDS if cache.ttl is None else cache.ttl
        self.state.cache.put(key, CachedResponse(model_id, body), ttl)
        return _Response(200, body, {CACHE_HEADER: "miss"})

    async def _route(self, request: EmbeddingRequest, notes: _Notes) -> tuple[str, bytes]:
        """The id of the model that served the request, and the 200 body."""
        try:
            served = await self.state.router.route(request)
        except RoutingFailure as failure:
            notes.attempts = failure.attempts
            raise
        notes.attempts = served.attempts
        notes.served_model = served.model.id
        tokens = sum(count_tokens(item) for item in request.inputs)
        return served.model.id, embeddings_body(served.model.served_name, served.vectors, tokens)

    def _admit(self, notes: _Notes) -> None:
        """Count the request against its API key's rate limit, or refuse it with a 429.

        Without ``requests_per_minute`` there is no limit and nothing is counted.
        """
        limiter = self.state.rate_limiter
        if limiter is None:
            return
        decision = limiter.admit(rate_key(notes.headers))
        notes.rate_limit_headers = decision.headers()
        if not decision.admitted:
            notes.refused_by = "requests_per_minute"
            raise decision.refusal()

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        """Raise a 401 unless the request carries this gateway's key (when it has one)."""
        expected = self.config.api_key
        if expected is None:
            return
        given = headers.get("authorization")
        if given is None:
            raise GatewayError(
                401, "missing Authorization header: send `Authorization: Bearer <your key>`"
            )
        scheme, _, key = given.partition(" ")
        valid = scheme.lower() == "bearer" and hmac.compare_digest(
            key.strip().encode("utf-8", "surrogateescape"),
            expected.get_secret_value().encode("utf-8", "surrogateescape"),
        )
        if not valid:
            raise GatewayError(401, "the API key is not valid for this gateway")


def _faulty_response(fault: ResponseFault) -> _Response | None:
    """The response a response fault sends instead of the real one (None: only a delay)."""
    if fault.drop_connection:
        return _Response(0, drop=True)
    if fault.malformed_json:
        return _Response(200, TRUNCATED_BODY)
    if fault.status is None:
        return None
    body = (
        fault.body.encode("utf-8")
        if fault.body is not None
        else GatewayError(fault.status, "a response fault injected into the local gateway").body
    )
    return _Response(fault.status, body, fault.error_headers())
