"""Sending a call's batches: bounded concurrency, retries, pacing and splitting.

:class:`BatchSender` takes batches already planned and encoded by the wire protocol and sends
them on the client's shared resources: up to ``max_concurrency`` in flight, each attempt started
when the pacer allows, failures retried as the retry policy decides within the call's wait
budget, a batch refused for its size split in halves. Responses come back undecoded, in batch
order, so the caller decodes while later batches are still in flight. Sync and async share all
of it but the transport and the way they wait.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from .._wire.batching import Batch, plan_batches
from .._wire.decoding import BatchEmbeddings
from .._wire.dialects import encode_request
from .._wire.inputs import EmbeddingInput
from .._wire.raw_response import RawResponse
from .._wire.reader import ResponseReader
from ..errors import OrqError, attach_note
from .batch_splitting import BatchSplit
from .lookahead import LookAhead, runs_inline
from .pacing import Start, await_start, wait_to_start
from .resources import SharedResources
from .retry import RetryBudget, RetryPolicy
from .traces import NO_REQUEST_TRACE, CallTrace, RequestTrace

logger = logging.getLogger("orq_embeddings")

#: Response bodies larger than this are decoded off the event loop, so it stays responsive.
_DECODE_OFF_LOOP_BYTES = 1 << 20


class Fetched(NamedTuple):
    """A batch's successful response, not yet decoded, the attempts it took and how they failed."""

    batch: Batch
    response: RawResponse
    attempts: int
    failures: tuple[OrqError, ...] = ()
    #: Whether the planned batch was refused for its size and this is one of its parts.
    split: bool = False
    #: The model's learned limit on inputs per request once the planned batch was sent, if any.
    batch_limit: int | None = None
    #: Characters of text in the batch, when the pacer calibrates its token estimate on them.
    chars: int = 0
    #: The request's span, ended once the response is decoded (see .traces).
    trace: RequestTrace = NO_REQUEST_TRACE


class BatchSender:
    """Sends one client's batches on its shared resources, sync or async.

    Args:
        resources: the transports, slots, pacer and learned batch limits the client shares.
        template: the request body without its inputs (see :mod:`.._wire.dialects`).
        url: where requests go.
        headers: the headers of every request.
        reader: how a response is checked and decoded.
        model: the model asked for, whose learned batch limit applies.
        timeout: seconds per attempt.
        max_concurrency: most requests in flight.
        retry_policy: whether and how long to wait before retrying a failed attempt.
        sleep, async_sleep: how retries wait.
    """

    def __init__(
        self,
        resources: SharedResources,
        template: dict[str, Any],
        url: str,
        headers: Mapping[str, str],
        reader: ResponseReader,
        *,
        model: str,
        timeout: float,
        max_concurrency: int,
        retry_policy: RetryPolicy,
        sleep: Callable[[float], None],
        async_sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._resources = resources
        self._template = template
        self._url = url
        self._headers = headers
        self._reader = reader
        self._model = model
        self._timeout = timeout
        self._max_concurrency = max_concurrency
        self._retry_policy = retry_policy
        self._sleep = sleep
        self._async_sleep = async_sleep

    def batches_for(
        self, texts: Sequence[EmbeddingInput], batch_size: int, max_batch_bytes: int
    ) -> list[Batch]:
        """``texts`` cut into batches, no larger than the model was found to take."""
        learned = self._resources.batch_limits.limit(self._model)
        size = batch_size if learned is None else min(learned, batch_size)
        return plan_batches(texts, max_inputs=size, max_bytes=max_batch_bytes)

    def _encode(self, inputs: Sequence[EmbeddingInput], batch: Batch) -> bytes:
        return encode_request(self._template, inputs[batch.start : batch.stop])

    def _delay_or_raise(
        self, error: OrqError, attempt: int, batch: Batch, waits: RetryBudget
    ) -> float:
        """How long to wait before retrying ``batch``, or raise the error if it is final.

        Final: the retry policy gives up (see RetryPolicy.decide), or the wait would take the
        call past its ``retry_wait_budget``.
        """
        decision = self._retry_policy.decide(attempt, error)
        delay = decision.delay
        if delay is not None and not waits.take(delay):
            attach_note(
                error,
                f"not retried: this call has waited {waits.spent:g} s between retries, and "
                f"{delay:g} s more would pass its retry_wait_budget of {waits.budget:g} s",
            )
            delay = None
        if delay is None:
            final = decision.error
            attach_note(final, f"{batch.describe()}, after {attempt} attempt(s) to {self._url}")
            raise final
        logger.info(
            "retrying %s in %.2f s after attempt %d failed: %s",
            batch.describe(),
            delay,
            attempt,
            error,
        )
        return delay

    def _split(self, batch: Batch) -> BatchSplit:
        return BatchSplit(batch, self._model, self._resources.batch_limits)

    def _send(
        self,
        inputs: Sequence[EmbeddingInput],
        batch: Batch,
        waits: RetryBudget,
        trace: CallTrace,
        abandoned: threading.Event | None = None,
    ) -> list[Fetched]:
        """Send ``batch``, split in halves while the server refuses it for its size (a split
        is not a retry: see :mod:`.batch_splitting`); its parts' responses in order.
        ``abandoned`` is set when the call is given up, ending a wait to start (see pacing).
        Each part sent is a request of ``trace`` (one span, however many attempts it takes).
        """
        split = self._split(batch)
        sent: list[Fetched] = []
        for part in split.parts():
            with split.sending(part), trace.request(inputs, part) as request:
                sent.append(self._send_part(inputs, part, waits, request, abandoned))
        return _marked(sent, split)

    async def _asend(
        self, inputs: Sequence[EmbeddingInput], batch: Batch, waits: RetryBudget, trace: CallTrace
    ) -> list[Fetched]:
        """Async :meth:`_send`."""
        split = self._split(batch)
        sent: list[Fetched] = []
        for part in split.parts():
            with split.sending(part), trace.request(inputs, part) as request:
                sent.append(await self._asend_part(inputs, part, waits, request))
        return _marked(sent, split)

    def _send_part(
        self,
        inputs: Sequence[EmbeddingInput],
        batch: Batch,
        waits: RetryBudget,
        request: RequestTrace,
        abandoned: threading.Event | None,
    ) -> Fetched:
        """Post ``batch`` until it succeeds or the retry policy gives up; leave it undecoded.

        Each attempt takes an in-flight slot, then waits for the pacer's leave to start (the
        other way round, every batch queued on a loop would be counted as started). The
        caller's thread decodes (:meth:`_decode`), so this one is free for the next batch as
        soon as a body is in: requests keep going out while earlier vectors are decoded.
        """
        body = self._encode(inputs, batch)
        counted, chars = self._counted(inputs, batch)
        pacer = self._resources.pacer
        transport = self._resources.transport()
        failures: list[OrqError] = []
        for attempt in itertools.count(1):
            try:
                with self._resources.slots:
                    start = wait_to_start(pacer, counted, abandoned, retry=attempt > 1)
                    response = None
                    try:
                        with request.attempt(self._headers) as headers:
                            response = transport.post(self._url, body, headers, self._timeout)
                    finally:
                        self._finished(start, response)
                _log_response(batch, response)
                self._reader.check(response)
                request.responded(response)
                return Fetched(
                    batch, response, attempt, tuple(failures), chars=chars, trace=request
                )
            except OrqError as error:
                delay = self._delay_or_raise(error, attempt, batch, waits)
                request.retrying(error, attempt, delay)
                self._sleep(delay)
                failures.append(error)
        raise AssertionError("unreachable")

    async def _asend_part(
        self,
        inputs: Sequence[EmbeddingInput],
        batch: Batch,
        waits: RetryBudget,
        request: RequestTrace,
    ) -> Fetched:
        """Async :meth:`_send_part`."""
        body = self._encode(inputs, batch)
        counted, chars = self._counted(inputs, batch)
        pacer = self._resources.pacer
        loop = await self._resources.for_running_loop()
        failures: list[OrqError] = []
        for attempt in itertools.count(1):
            try:
                async with loop.slots:
                    start = await await_start(pacer, counted, retry=attempt > 1)
                    response = None
                    try:
                        with request.attempt(self._headers) as headers:
                            response = await loop.transport.post(
                                self._url, body, headers, self._timeout
                            )
                    finally:
                        self._finished(start, response)
                _log_response(batch, response)
                self._reader.check(response)
                request.responded(response)
                return Fetched(
                    batch, response, attempt, tuple(failures), chars=chars, trace=request
                )
            except OrqError as error:
                delay = self._delay_or_raise(error, attempt, batch, waits)
                request.retrying(error, attempt, delay)
                await self._async_sleep(delay)
                failures.append(error)
        raise AssertionError("unreachable")

    def _counted(
        self, inputs: Sequence[EmbeddingInput], batch: Batch
    ) -> tuple[Sequence[EmbeddingInput] | None, int]:
        """The inputs the pacer estimates a batch's tokens from, and its characters of text.

        None and 0 when the pacer counts no tokens. A batch holding token ids gives no
        characters to calibrate the estimate on: its usage says nothing about text.
        """
        if not self._resources.pacer.counts_tokens:
            return None, 0
        items = inputs[batch.start : batch.stop]
        texts = [item for item in items if isinstance(item, str)]
        return items, sum(map(len, texts)) if len(texts) == len(items) else 0

    def _finished(self, start: Start, response: RawResponse | None) -> None:
        """Tell the pacer how an attempt ended: its status and rate-limit headers, or nothing."""
        if response is None:
            self._resources.pacer.finish(start, None, {})
        else:
            self._resources.pacer.finish(start, response.status_code, response.headers)

    def decode(self, fetched: Fetched) -> BatchEmbeddings:
        """The vectors of a successful response. A malformed one is final: it is not retried.

        The usage it reports calibrates the pacer's token estimate. The request's span ends here.
        """
        try:
            embeddings = self._reader.vectors(fetched.response, fetched.batch, fetched.attempts)
        except BaseException as error:
            fetched.trace.failed(error)
            raise
        fetched.trace.decoded(embeddings)
        if fetched.chars and embeddings.usage is not None:
            self._resources.pacer.calibrate(fetched.chars, embeddings.usage.total_tokens)
        return embeddings

    async def adecode(self, fetched: Fetched) -> BatchEmbeddings:
        """:meth:`_decode`, in a worker thread for a large body so the event loop stays free."""
        if len(fetched.response.body) > _DECODE_OFF_LOOP_BYTES:
            return await asyncio.to_thread(self.decode, fetched)
        return self.decode(fetched)

    def send_all(
        self,
        inputs: Sequence[EmbeddingInput],
        batches: list[Batch],
        waits: RetryBudget,
        trace: CallTrace,
    ) -> Iterator[Fetched]:
        """Send every batch, ``max_concurrency`` at a time, yielding responses in batch order.

        A worker thread is handed the call's ``trace``: it does not have the caller's context.
        """
        if runs_inline(batches, self._max_concurrency):
            for batch in batches:
                yield from self._send(inputs, batch, waits, trace)
            return
        executor = self._resources.executor()
        abandoned = threading.Event()
        window = LookAhead(
            batches,
            self._max_concurrency,
            lambda batch: executor.submit(self._send, inputs, batch, waits, trace, abandoned),
        )
        try:
            while (head := window.head()) is not None:
                sent = head.result()
                window.advance()
                yield from sent
        finally:
            abandoned.set()
            for future in window.abandon():
                future.cancel()

    async def asend_all(
        self,
        inputs: Sequence[EmbeddingInput],
        batches: list[Batch],
        waits: RetryBudget,
        trace: CallTrace,
    ) -> AsyncIterator[Fetched]:
        """Async :meth:`_send_all`: tasks on the running loop, awaited in batch order."""
        if runs_inline(batches, self._max_concurrency):
            for batch in batches:
                for fetched in await self._asend(inputs, batch, waits, trace):
                    yield fetched
            return
        window = LookAhead(
            batches,
            self._max_concurrency,
            lambda batch: asyncio.ensure_future(self._asend(inputs, batch, waits, trace)),
        )
        try:
            while (head := window.head()) is not None:
                sent = await head
                window.advance()
                for fetched in sent:
                    yield fetched
        finally:
            abandoned = window.abandon()
            for task in abandoned:
                task.cancel()
            await asyncio.gather(*abandoned, return_exceptions=True)


def _marked(sent: list[Fetched], split: BatchSplit) -> list[Fetched]:
    """The parts of one planned batch, each marked with whether it was split and the limit."""
    limit = split.batch_limit()
    return [fetched._replace(split=split.was_split, batch_limit=limit) for fetched in sent]


def _log_response(batch: Batch, response: RawResponse) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s: %d, %d bytes, x-orq-trace-id %s",
            batch.describe(),
            response.status_code,
            len(response.body),
            response.trace_id,
        )
