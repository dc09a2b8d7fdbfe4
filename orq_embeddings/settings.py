"""The client settings every surface offers under one name, each declared once.

:class:`ClientSettings` declares each setting with its type, limits, default, an example and a
description. The core's :class:`~orq_embeddings.config.ClientConfig` and both adapters inherit
its fields (so pydantic, mypy and IDEs see them), the client's keyword arguments are typed by
:class:`ClientSettingsArgs`, and the bulk command offers a flag for each field marked with
:class:`CommandLine`. A new setting with one name everywhere goes here, and only here;
tests/core/test_settings.py names the place one was forgotten.

Outside it on purpose: settings each framework names its own way (``model``/``model_name``,
``timeout``/``request_timeout``, ``batch_size``/``chunk_size``/``embed_batch_size``), the key and
base URL (read from the environment differently by each surface), ``default_headers`` (a dict in
the core, None in the adapters) and what goes in the request body.

The defaults, and why:

- ``max_retries`` 2: orq already retries on its side (twice by default) and the two multiply.
- ``max_retry_after`` 60 s: orq's platform rate limit is per minute on a rolling 60 s window, so a
  ``Retry-After`` within a minute is a wait that clears it; a longer one means a daily cap, a budget
  or an overloaded provider, which one call sleeping (up to a day, for ``Retry-After: 100000``)
  cannot outlast. Beyond it the client does not wait; it raises, naming the wait asked for.
- ``retry_wait_budget`` 300 s: the most one call (one ``embed``, all its batches together) spends
  sleeping between retries, so a rate-limit storm fails a call after about five windows' worth
  of waiting instead of stretching it without bound. Waits of concurrent batches add up.
- ``max_batch_bytes`` 750,000: orq publishes no limit; OpenAI allows 2,048 inputs and 300,000
  tokens a request, and 750 KB of text stays under that even at 2.5 bytes a token.
- ``max_concurrency`` 16 requests in flight: enough to hide a gateway round trip behind the others,
  few enough that a 429 from a rate limit is the exception. Lower it for tight rate limits.
- ``max_response_bytes`` 256 MiB per response body, counted after gzip/deflate are undone: the
  largest honest answer is a 2,048-input batch of 3,072-dimension vectors as float JSON. A float32
  printed as JSON takes 10-23 characters plus a comma (``-0.0123456789,`` typically, at most
  ``-1.2345678901234567e-05,``), so that batch is 2,048 x 3,072 x 14 = 88 MB typically and
  2,048 x 3,072 x 24 = 151 MB at worst, plus about 60 bytes per item. 256 MiB (268 MB) leaves
  room above the worst case while an endless body or a gzip bomb (1 MB inflating to gigabytes)
  is refused with a ResponseTooLargeError before it can take the machine's memory.
- ``requests_per_minute`` and ``tokens_per_minute`` unset: orq's limit is the workspace's, and the
  client paces itself from the ``X-RateLimit-*`` headers it answers with (see
  :mod:`orq_embeddings._runtime.pacing`); a budget is for sharing a workspace's limit knowingly.
- ``rate_limit_window`` 60 s: orq counts requests per minute over a rolling 60 s window.
- ``space`` unset: nothing is checked until the caller binds a space (a store's ``guard()`` binds
  the one its index was built in). It is a setting every surface shares, not a part of the
  request body, so a copy made by ``with_options`` and a client an adapter makes again after a
  field changed keep the binding.
- ``http_client`` and ``http_async_client`` unset: the client makes and owns its own pools. A
  given client is the caller's (see :mod:`._transport.given_clients`): never closed here, and
  its TLS and proxy settings are its own, so ``verify`` and ``proxy`` are refused beside it.
- ``otel_continue_trace_in_orq`` off: ``orq=1`` in the W3C ``tracestate`` asks orq to continue
  the caller's trace. orq's own SDK sends it, but orq does not document it, so it is opt-in.
- ``otel_record_input_sizes`` off: an input's size can say something about its text (a short
  query, a long contract), so spans carry counts of inputs by default and sizes only on request.
  Text itself never goes on a span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, Field, field_serializer, field_validator
from typing_extensions import TypedDict

from ._transport.given_clients import AsyncHttpClient, SyncHttpClient
from ._transport.trust import check_proxy, check_verify
from .prefixes import PRESETS, check_prefix, check_preset_name
from .space import EmbeddingSpace, space_setting

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 60.0
DEFAULT_RETRY_WAIT_BUDGET = 300.0
DEFAULT_MAX_BATCH_BYTES = 750_000
DEFAULT_MAX_CONCURRENCY = 16
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
DEFAULT_RATE_LIMIT_WINDOW = 60.0


@dataclass(frozen=True)
class CommandLine:
    """Marks a setting the bulk command offers as ``--its-name``; ``help`` says what it counts."""

    help: str


class ClientSettings(BaseModel):
    """The settings the core client and both adapters take under the same name.

    No ``model_config`` on purpose: each subclass brings its own (the core's config is frozen,
    the adapters' models are changed after construction).
    """

    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES,
        ge=0,
        examples=[5],
        description="Client retries after the first attempt; orq retries on its side too.",
    )
    max_retry_after: float = Field(
        default=DEFAULT_MAX_RETRY_AFTER,
        ge=0,
        allow_inf_nan=False,
        examples=[5.0],
        description="Longest Retry-After (seconds) a retry waits for; a longer one is raised "
        "at once, naming the wait asked for.",
    )
    retry_wait_budget: float = Field(
        default=DEFAULT_RETRY_WAIT_BUDGET,
        ge=0,
        allow_inf_nan=False,
        examples=[7.0],
        description="Most seconds one call spends waiting between retries, all its batches "
        "together; a retry that would pass it is not made.",
    )
    max_batch_bytes: int = Field(
        default=DEFAULT_MAX_BATCH_BYTES,
        ge=1,
        examples=[100_000],
        description="Most bytes of input text in one request.",
    )
    max_concurrency: Annotated[int, CommandLine("requests in flight")] = Field(
        default=DEFAULT_MAX_CONCURRENCY,
        ge=1,
        examples=[3],
        description="Most requests in flight at once, across threads (sync) or per event loop "
        "(async).",
    )
    max_response_bytes: int = Field(
        default=DEFAULT_MAX_RESPONSE_BYTES,
        ge=1,
        examples=[1_000_000],
        description="Most bytes of one response body, after decompression; a larger one is "
        "abandoned with ResponseTooLargeError.",
    )
    allow_insecure_http: bool = Field(
        default=False,
        examples=[True],
        description="Send the key over plain http to a host that is not this machine.",
    )
    prefixes: Annotated[
        str | None, CommandLine("the document prefix of a model family: " + ", ".join(PRESETS))
    ] = Field(
        default=None,
        examples=["e5"],
        description="A named preset of query and document prefixes for an asymmetric model ("
        + ", ".join(PRESETS)
        + "; see orq_embeddings/prefixes.py). None applies unless named.",
    )
    query_prefix: str | None = Field(
        default=None,
        examples=["query: "],
        description="Text put in front of each query (embed_query, get_query_embedding); "
        "wins over the preset's.",
    )
    document_prefix: Annotated[
        str | None,
        CommandLine("text put in front of every row, e.g. 'passage: '; wins over --prefixes"),
    ] = Field(
        default=None,
        examples=["passage: "],
        description="Text put in front of each document (every call but embed_query); wins "
        "over the preset's.",
    )
    space: Annotated[
        EmbeddingSpace | None,
        CommandLine(
            "the vector space every row must be embedded in, e.g. "
            "text-embedding-3-small:1536:none; a batch served in another fails the job"
        ),
    ] = Field(
        default=None,
        examples=[EmbeddingSpace("text-embedding-3-small", 1536)],
        description="The vector space every response must come from (an EmbeddingSpace or its "
        "text, 'text-embedding-3-small:1536:none'); a response from another, such as a "
        "fallback to another model, raises EmbeddingSpaceError and its vectors are never "
        "returned. None checks nothing. A store's guard() sets it (see "
        "orq_embeddings/space.py).",
    )

    verify: bool | str = Field(
        default=True,
        examples=[False],
        description="True checks https certificates against REQUESTS_CA_BUNDLE, else "
        "SSL_CERT_FILE, else certifi's bundle; a path names the CA bundle to trust instead; "
        "False checks none (a test network only).",
    )
    proxy: Annotated[
        str | None, CommandLine("proxy URL every request goes through, e.g. http://proxy:3128")
    ] = Field(
        default=None,
        repr=False,
        exclude=True,
        examples=["http://proxy.example:3128"],
        description="Proxy URL (http:// or https://) every request goes through, this machine "
        "included; None uses HTTP(S)_PROXY for other hosts. Kept out of repr and dumps: it "
        "may carry user:password@.",
    )
    requests_per_minute: Annotated[
        int | None, CommandLine("most requests started in any rolling minute")
    ] = Field(
        default=None,
        ge=1,
        examples=[30],
        description="Most requests this client and its copies start in any rolling "
        "rate_limit_window (a minute), retries included; None: paced only by what the server "
        "says.",
    )
    tokens_per_minute: Annotated[
        int | None, CommandLine("most input tokens sent in any rolling minute (estimated)")
    ] = Field(
        default=None,
        ge=1,
        examples=[100_000],
        description="Most input tokens this client and its copies send in any rolling "
        "rate_limit_window, estimated from text length and calibrated on the usage the server "
        "reports; a single batch above it is sent alone.",
    )
    rate_limit_window: float = Field(
        default=DEFAULT_RATE_LIMIT_WINDOW,
        gt=0,
        allow_inf_nan=False,
        examples=[10.0],
        description="Seconds the per-minute budgets and the server's X-RateLimit-Limit are "
        "counted over: orq's rolling 60 s; change it only for a server with another window.",
    )

    http_client: SyncHttpClient | None = Field(
        default=None,
        repr=False,
        exclude=True,
        description="A requests.Session or httpx.Client of the caller's that sync calls send "
        "on, as it is (its headers, hooks, adapters, TLS and proxies); never closed here. None: "
        "the client's own pool.",
    )
    http_async_client: AsyncHttpClient | None = Field(
        default=None,
        repr=False,
        exclude=True,
        description="An httpx.AsyncClient of the caller's that async calls send on, as it is; "
        "never closed here, and bound to the event loop it is first used on. None: the "
        "client's own pool per event loop.",
    )

    otel_continue_trace_in_orq: Annotated[
        bool, CommandLine("add orq=1 to each request's W3C tracestate (undocumented by orq)")
    ] = Field(
        default=False,
        examples=[True],
        description="With an OpenTelemetry SDK, add orq=1 to the W3C tracestate of each request, "
        "asking orq to continue the caller's trace as orq's own SDK does; orq does not "
        "document it.",
    )
    otel_record_input_sizes: Annotated[
        bool, CommandLine("put the inputs' byte sizes on the OpenTelemetry spans (never text)")
    ] = Field(
        default=False,
        examples=[True],
        description="Put the inputs' sizes in bytes (in all, and the largest) on each call's and "
        "request's OpenTelemetry span; text is never recorded.",
    )

    _check_preset = field_validator("prefixes")(check_preset_name)
    _check_verify = field_validator("verify")(check_verify)
    _check_proxy = field_validator("proxy")(check_proxy)
    _check_prefixes = field_validator("query_prefix", "document_prefix")(check_prefix)
    _read_space = field_validator("space", mode="before")(space_setting)

    @field_serializer("space")
    def _space_as_text(self, space: EmbeddingSpace | None) -> str | None:
        """Dumped as its text, which the setting reads back (LlamaIndex's to_dict/from_dict)."""
        return None if space is None else str(space)


class ClientSettingsArgs(TypedDict, total=False):
    """:class:`ClientSettings` as keyword arguments, for ``**settings`` signatures mypy checks."""

    max_retries: int
    max_retry_after: float
    retry_wait_budget: float
    max_batch_bytes: int
    max_concurrency: int
    max_response_bytes: int
    allow_insecure_http: bool
    prefixes: str | None
    query_prefix: str | None
    document_prefix: str | None
    space: EmbeddingSpace | None
    verify: bool | str
    proxy: str | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    rate_limit_window: float
    http_client: SyncHttpClient | None
    http_async_client: AsyncHttpClient | None
    otel_continue_trace_in_orq: bool
    otel_record_input_sizes: bool
