"""OrqEmbeddingsClient: batching, bounded concurrency, retries and reassembly, for both adapters.

A call checks every input, cuts the inputs into batches (by count and bytes), sends up to
``max_concurrency`` of them at once, retries what is worth retrying, checks each response against
its batch and the batches against each other, and returns the vectors in input order. Sync and
async share all of it but the transport and the way they wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from typing_extensions import Unpack

from ._runtime.batch_sender import BatchSender, Fetched
from ._runtime.resources import SharedResources
from ._runtime.retry import RetryBudget, RetryPolicy
from ._runtime.telemetry import Telemetry
from ._runtime.traces import CallTrace, TracedClient
from ._transport.given_clients import refuse_pickling
from ._validation import validated
from ._version import __version__
from ._wire.batching import Batch
from ._wire.bounded_body import ACCEPTED_CONTENT_ENCODINGS
from ._wire.decoding import BatchEmbeddings, Vectors
from ._wire.dialects import Dialect, request_template
from ._wire.inputs import EmbeddingInput, check_inputs
from ._wire.reader import ResponseReader
from .config import (
    DEFAULT_BASE_URL,
    DEFAULT_BATCH_SIZE,
    DEFAULT_TIMEOUT,
    ClientConfig,
    env_api_key,
    env_base_url,
)
from .errors import (
    ConfigurationError,
    ConfigurationProblem,
)
from .options import EmbeddingSettings, EncodingFormat, OrqOptions
from .prefixes import Prefixes, TextPrefix
from .results import (
    ArrayFiller,
    CallChecks,
    EmbeddedBatch,
    EmbeddingResult,
    ListCollector,
    OnBatch,
)
from .settings import ClientSettings, ClientSettingsArgs
from .space import EmbeddingSpace, SpaceCheck, bound_space_problems

logger = logging.getLogger("orq_embeddings")


class OrqEmbeddingsClient:
    """A client for orq.ai's embeddings endpoint: sync and async, batched, concurrent, checked.

    Args:
        model: orq model id, ``provider/model`` (``openai/text-embedding-3-small``).
        api_key: orq API key; defaults to ``ORQ_API_KEY``. Not needed for a loopback base URL.
        base_url: defaults to ``ORQ_BASE_URL``, else ``https://api.orq.ai/v2/router``. A URL
            ending in ``/v2/gateway`` speaks the legacy gateway dialect.
        dimensions: shorten vectors to this length (models that support it).
        encoding_format: ``"base64"`` (default: a quarter of the bytes of float JSON) or
            ``"float"``. Either way, float lists in the response are accepted.
        user: end-user id sent as ``user``.
        orq: orq routing, cache and identity options: an OrqOptions or the dict from orq's docs.
        default_headers: extra headers on every request.
        timeout: seconds per attempt, connect to last byte (orq's call_timeout is separate).
        batch_size: most inputs per request.
        dialect: force ``"router"`` or ``"gateway"`` instead of inferring it from base_url.
        retry_policy: replaces the default RetryPolicy(max_retries=max_retries,
            max_retry_after=max_retry_after); the config then takes its limits. Given together
            with a ``max_retries`` or ``max_retry_after`` it disagrees with, it is refused.
        sleep, async_sleep: how retries wait; injectable so tests run on exact schedules.
        **settings: the settings of :class:`~orq_embeddings.settings.ClientSettings`
            (``max_retries``, ``max_retry_after``, ``retry_wait_budget``, ``max_batch_bytes``,
            ``max_concurrency``, ``max_response_bytes``, ``allow_insecure_http``, and the
            ``prefixes`` preset, ``query_prefix`` and ``document_prefix`` of asymmetric models,
            the ``requests_per_minute`` and ``tokens_per_minute`` budgets and their
            ``rate_limit_window``: see :mod:`orq_embeddings._runtime.pacing`; ``http_client`` and
            ``http_async_client``, the caller's own HTTP clients to send on: see
            :mod:`orq_embeddings._transport.given_clients`; ``space``, the vector space every
            response must come from: see :mod:`orq_embeddings.space`), each described there.

    Defaults and the reasons for them are in :mod:`orq_embeddings.config`.

    Raises:
        ConfigurationError: (a ValueError) a setting out of its limits, an unknown orq key, no
            key for a remote base URL; the message names each setting, its limit and the fix.
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        dimensions: int | None = None,
        encoding_format: EncodingFormat = "base64",
        user: str | None = None,
        orq: OrqOptions | Mapping[str, Any] | None = None,
        default_headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        batch_size: int = DEFAULT_BATCH_SIZE,
        dialect: Dialect | str | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **settings: Unpack[ClientSettingsArgs],
    ) -> None:
        unknown = sorted(settings.keys() - ClientSettings.model_fields.keys())
        if unknown:
            # What Python says of an unknown keyword argument, as before **settings took them.
            raise TypeError(
                f"OrqEmbeddingsClient.__init__() got an unexpected keyword argument {unknown[0]!r}"
            )
        body_settings = validated(
            EmbeddingSettings,
            {
                "model": model,
                "dimensions": dimensions,
                "encoding_format": encoding_format,
                "user": user,
                "orq": orq,
            },
        )
        config = validated(
            ClientConfig,
            {
                "api_key": api_key if api_key is not None else env_api_key(),
                "base_url": base_url or env_base_url() or DEFAULT_BASE_URL,
                "default_headers": dict(default_headers or {}),
                "timeout": timeout,
                "batch_size": batch_size,
                "dialect": dialect,
                **settings,
            },
        )
        config, policy = _retry_policy_for(config, retry_policy, given=settings.keys())
        self._setup(
            body_settings, config, policy, sleep, async_sleep, SharedResources.for_config(config)
        )

    def _setup(
        self,
        settings: EmbeddingSettings,
        config: ClientConfig,
        retry_policy: RetryPolicy,
        sleep: Callable[[float], None],
        async_sleep: Callable[[float], Awaitable[None]],
        resources: SharedResources,
    ) -> None:
        problems = bound_space_problems(
            config.space, settings.model, settings.dimensions, config.text_prefixes
        )
        if problems:
            # As every ConfigurationError: one paragraph, no chained report behind it.
            raise ConfigurationError(problems) from None
        self.settings = settings
        self.config = config
        self.retry_policy = retry_policy
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._resources = resources
        self._sender = BatchSender(
            resources,
            request_template(settings, config.wire_dialect),
            config.embeddings_url,
            _request_headers(config),
            ResponseReader(config.embeddings_url, urlsplit(config.base_url).netloc),
            model=settings.model,
            timeout=config.timeout,
            max_concurrency=config.max_concurrency,
            retry_policy=retry_policy,
            sleep=sleep,
            async_sleep=async_sleep,
        )
        self.prefixes: Prefixes = config.text_prefixes
        self._telemetry = Telemetry(_traced(settings, config))
        self._last_space: EmbeddingSpace | None = None

    # -- copies, pickling, closing ---------------------------------------------------------

    def with_options(
        self, *, orq: OrqOptions | Mapping[str, Any] | None = None, **settings: Any
    ) -> OrqEmbeddingsClient:
        """A copy with other request settings that shares this client's connections.

        Cheap: for one request path of a multi-tenant app (another identity, name or cache).
        ``orq`` is merged into the current options field by field; other keyword arguments
        (``model``, ``dimensions``, ``encoding_format``, ``user``) replace the current values.
        """
        current = self.settings.model_dump(exclude={"orq"})
        updated = validated(
            EmbeddingSettings, {**current, **settings, "orq": self.settings.orq.merged(orq)}
        )
        copy = object.__new__(OrqEmbeddingsClient)
        copy._setup(
            updated,
            self.config,
            self.retry_policy,
            self._sleep,
            self._async_sleep,
            self._resources,
        )
        return copy

    def __getstate__(self) -> dict[str, Any]:
        refuse_pickling(self, self.config.http_client, self.config.http_async_client)
        return {
            "settings": self.settings,
            "config": self.config,
            "retry_policy": self.retry_policy,
            "sleep": self._sleep,
            "async_sleep": self._async_sleep,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        config: ClientConfig = state["config"]
        self._setup(
            state["settings"],
            config,
            state["retry_policy"],
            state["sleep"],
            state["async_sleep"],
            SharedResources.for_config(config),
        )

    def __repr__(self) -> str:
        return (
            f"OrqEmbeddingsClient(model={self.settings.model!r}, "
            f"base_url={self.config.base_url!r}, dialect={self.config.wire_dialect.value!r})"
        )

    def close(self) -> None:
        """Close pooled connections (shared with copies made by with_options)."""
        self._resources.close()

    async def aclose(self) -> None:
        """Close this event loop's connections and the sync ones."""
        await self._resources.aclose()

    def __enter__(self) -> OrqEmbeddingsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> OrqEmbeddingsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the vector space --------------------------------------------------------------------

    @property
    def space(self) -> EmbeddingSpace | None:
        """The vector space this client is bound to (the ``space`` setting), or None."""
        return self.config.space

    @property
    def last_space(self) -> EmbeddingSpace | None:
        """The vector space of this client's last call whose vectors all came from one space.

        None before such a call. A store's ``guard()`` takes it rather than send a probe.
        """
        return self._last_space

    def _space_check(self) -> SpaceCheck:
        return SpaceCheck(self.config.space, self.prefixes, self.settings)

    # -- the public calls --------------------------------------------------------------------

    def embed(
        self, inputs: Sequence[EmbeddingInput], *, on_batch: OnBatch | None = None
    ) -> EmbeddingResult:
        """Embed ``inputs``; vector ``i`` belongs to input ``i``.

        Args:
            inputs: non-empty strings or token-id lists. An empty list returns at once.
            on_batch: called in the caller's thread after each batch, in input order.

        Raises:
            InvalidInputError: (a ValueError) naming every bad input (token ids, too, when
                there is a document prefix they cannot take); nothing was sent.
            APIStatusError: and its subclasses, when orq refused and retrying did not help.
            OrqTimeoutError, OrqConnectionError: when every attempt timed out or broke.
            InvalidResponseError: when a response did not fit its batch.
        """
        collected = ListCollector()
        for embedded in self.iter_batches(inputs, on_batch=on_batch):
            collected.add(embedded)
        return collected.result()

    async def aembed(
        self, inputs: Sequence[EmbeddingInput], *, on_batch: OnBatch | None = None
    ) -> EmbeddingResult:
        """Async :meth:`embed`."""
        collected = ListCollector()
        async for embedded in self.aiter_batches(inputs, on_batch=on_batch):
            collected.add(embedded)
        return collected.result()

    def embed_one(self, text: EmbeddingInput) -> list[float]:
        """The vector of a single document (with the document prefix, as :meth:`embed`)."""
        return self.embed([text]).vectors[0]

    async def aembed_one(self, text: EmbeddingInput) -> list[float]:
        """Async :meth:`embed_one`."""
        return (await self.aembed([text])).vectors[0]

    def embed_query(self, text: EmbeddingInput) -> list[float]:
        """The vector of a search query: ``text`` with the query prefix in front of it."""
        collected = ListCollector()
        for embedded in self._iter_batches([text], self.prefixes.query, None):
            collected.add(embedded)
        return collected.result().vectors[0]

    async def aembed_query(self, text: EmbeddingInput) -> list[float]:
        """Async :meth:`embed_query`."""
        collected = ListCollector()
        async for embedded in self._aiter_batches([text], self.prefixes.query, None):
            collected.add(embedded)
        return collected.result().vectors[0]

    def embed_numpy(
        self, inputs: Sequence[EmbeddingInput], *, on_batch: OnBatch | None = None
    ) -> Vectors:
        """Embed into one float32 array of shape ``(len(inputs), dimensions)``.

        Memory stays near the size of the output: batches are copied in as they finish and no
        per-float Python objects are made.
        """
        filled = ArrayFiller(len(inputs), self.settings.dimensions)
        for embedded in self.iter_batches(inputs, on_batch=on_batch):
            filled.add(embedded)
        return filled.array()

    async def aembed_numpy(
        self, inputs: Sequence[EmbeddingInput], *, on_batch: OnBatch | None = None
    ) -> Vectors:
        """Async :meth:`embed_numpy`."""
        filled = ArrayFiller(len(inputs), self.settings.dimensions)
        async for embedded in self.aiter_batches(inputs, on_batch=on_batch):
            filled.add(embedded)
        return filled.array()

    def iter_batches(
        self, inputs: Sequence[EmbeddingInput], *, on_batch: OnBatch | None = None
    ) -> Iterator[EmbeddedBatch]:
        """Yield each batch's vectors in input order while later batches are in flight.

        At most ``2 * max_concurrency`` batches are submitted ahead of the one being yielded, so
        memory is bounded however long ``inputs`` is. Each input gets the document prefix.
        """
        return self._iter_batches(inputs, self.prefixes.document, on_batch)

    def aiter_batches(
        self, inputs: Sequence[EmbeddingInput], *, on_batch: OnBatch | None = None
    ) -> AsyncIterator[EmbeddedBatch]:
        """Async :meth:`iter_batches`."""
        return self._aiter_batches(inputs, self.prefixes.document, on_batch)

    # -- planning and sending ------------------------------------------------------------------

    def _iter_batches(
        self, inputs: Sequence[EmbeddingInput], prefix: TextPrefix, on_batch: OnBatch | None
    ) -> Iterator[EmbeddedBatch]:
        """:meth:`iter_batches`, with ``prefix`` in front of each input."""
        texts, batches = self._plan(inputs, prefix)
        checks = CallChecks(self.settings, on_batch, self._space_check())
        waits = RetryBudget(self.config.retry_wait_budget)
        with self._telemetry.call(texts, batches) as trace:
            for fetched in self._sender.send_all(texts, batches, waits, trace):
                yield _accepted(checks, fetched, self._sender.decode(fetched))
            self._finished(checks, trace)

    async def _aiter_batches(
        self, inputs: Sequence[EmbeddingInput], prefix: TextPrefix, on_batch: OnBatch | None
    ) -> AsyncIterator[EmbeddedBatch]:
        """Async :meth:`_iter_batches`."""
        texts, batches = self._plan(inputs, prefix)
        checks = CallChecks(self.settings, on_batch, self._space_check())
        waits = RetryBudget(self.config.retry_wait_budget)
        with self._telemetry.call(texts, batches) as trace:
            async for fetched in self._sender.asend_all(texts, batches, waits, trace):
                yield _accepted(checks, fetched, await self._sender.adecode(fetched))
            self._finished(checks, trace)

    def _finished(self, checks: CallChecks, trace: CallTrace) -> None:
        """A call's batches are all in: the space that served them is remembered and traced."""
        space = checks.finish()
        trace.served(space)
        self._last_space = space or self._last_space

    def _plan(
        self, inputs: Sequence[EmbeddingInput], prefix: TextPrefix
    ) -> tuple[Sequence[EmbeddingInput], list[Batch]]:
        """The texts to send (the caller's, checked, then prefixed) and their batches.

        The caller's inputs are checked as given, so an empty text is refused even with a
        prefix; the batches are cut from the prefixed texts, so the byte budget counts prefixes.
        """
        check_inputs(inputs)
        texts = prefix.applied_to(inputs)
        batches = self._sender.batches_for(
            texts, self.config.batch_size, self.config.max_batch_bytes
        )
        return texts, batches


#: The retry limits a RetryPolicy and the config both hold; the config says what the client does.
_RETRY_LIMITS = ("max_retries", "max_retry_after")


def _retry_policy_for(
    config: ClientConfig, retry_policy: RetryPolicy | None, given: Iterable[str]
) -> tuple[ClientConfig, RetryPolicy]:
    """The config and the policy of a client, agreeing on the retry limits.

    Without a policy, it is made from the config's limits. With one, the config takes the
    policy's limits, unless a limit was also ``given`` explicitly with another value: then it is
    refused, since either would silently override the other.

    Raises:
        ConfigurationError: naming each limit given both ways with different values.
    """
    if retry_policy is None:
        return config, RetryPolicy(
            max_retries=config.max_retries, max_retry_after=config.max_retry_after
        )
    named = set(given)
    problems = [
        ConfigurationProblem(
            (limit,),
            f"is {getattr(config, limit)!r}, but retry_policy has "
            f"{limit}={getattr(retry_policy, limit)!r}; give one of them",
        )
        for limit in _RETRY_LIMITS
        if limit in named and getattr(config, limit) != getattr(retry_policy, limit)
    ]
    if problems:
        raise ConfigurationError(problems)
    limits = {limit: getattr(retry_policy, limit) for limit in _RETRY_LIMITS}
    return config.model_copy(update=limits), retry_policy


def _accepted(checks: CallChecks, fetched: Fetched, embeddings: BatchEmbeddings) -> EmbeddedBatch:
    """A batch's decoded vectors, checked against the call and reported with how it was sent."""
    return checks.accept(
        fetched.batch,
        embeddings,
        fetched.attempts,
        fetched.failures,
        split=fetched.split,
        batch_limit=fetched.batch_limit,
    )


def _traced(settings: EmbeddingSettings, config: ClientConfig) -> TracedClient:
    """What the client's spans say of it: the model, the server, the opt-in settings."""
    return TracedClient.at(
        config.base_url,
        settings.model,
        encoding_format=settings.encoding_format,
        dimensions=settings.dimensions,
        continue_trace_in_orq=config.otel_continue_trace_in_orq,
        record_input_sizes=config.otel_record_input_sizes,
    )


def _request_headers(config: ClientConfig) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Accept-Encoding": ACCEPTED_CONTENT_ENCODINGS,
        "User-Agent": f"orq-embeddings/{__version__}",
        **config.default_headers,
    }
    if config.api_key is not None:
        headers["Authorization"] = f"Bearer {config.api_key.get_secret_value()}"
    return headers
