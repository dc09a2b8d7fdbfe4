"""The fault matrix: every fault, through every surface, ends exactly as specified.

One table, ``FAULTS``, says for each fault how it is provoked and how a call must end: with the
right vectors in input order, or with the typed error whose message says what happened; after
exactly so many requests reached the server; after exactly the waits the retry policy promises
(recorded through the core's injectable sleep; an adapter's real waits are bounded by the wall
clock from both sides); and within the configured time, ``attempts x timeout`` plus the waits.

Faults come from three places:

- the local gateway's ``ResponseFault``, which strikes the response to the client;
- its ``ProviderFault``, which strikes orq's side, where the gateway's own retries react first;
- the scripted raw-socket server, for what no well-behaved server sends: a reset halfway through a
  body, a drip, an HTML page with a 200, a payload that does not fit its batch.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from orq_embeddings import (
    AuthenticationError,
    BadRequestError,
    InvalidResponseError,
    NotFoundError,
    OrqConnectionError,
    OrqError,
    OrqTimeoutError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from orq_embeddings.gateway import ProviderFault, ResponseFault
from tests.support.scripted_server import (
    Action,
    after,
    drip,
    embedding_reply,
    reply,
    reset_mid_body,
)
from tests.support.stage import Provoke, Stage, gateway, nothing_listening, scripted
from tests.support.surfaces import MODEL, PINNED_RANDOM, Call, Surface

#: Five texts in one batch: unicode, and a duplicate pair whose vectors must both come back.
TEXTS = [
    "What does orq.ai route?",
    "Ein kurzer Satz über Einbettungen.",
    "向量检索与重排序",
    "the same passage twice",
    "the same passage twice",
]
#: Beyond the configured bound: making clients and event loops, and loopback round trips.
SLACK_SECONDS = 0.5
#: Retry-After values small enough that an adapter's real waits keep the suite fast.
SHORT_WAIT = 0.02
RATE_LIMITED_BODY = {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}
HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
)
CAPTIVE_PORTAL = (
    "<html><head><title>Sign in to the hotel Wi-Fi</title></head><body>Accept terms</body></html>"
)


# -- what a fault must end in ------------------------------------------------------------------


@dataclass(frozen=True)
class NamedWait:
    """A wait the response named (``Retry-After`` or ``retry-after-ms``): exactly that long."""

    seconds: float

    @property
    def pinned(self) -> float:
        return self.seconds

    @property
    def least(self) -> float:
        return self.seconds

    @property
    def most(self) -> float:
        return self.seconds


@dataclass(frozen=True)
class Backoff:
    """The policy's own wait after failed attempt ``attempt``: 0.5 s doubling, less up to 25%."""

    attempt: int

    @property
    def ceiling(self) -> float:
        return 0.5 * 2 ** (self.attempt - 1)

    @property
    def pinned(self) -> float:
        """The wait with the jitter's ``random()`` pinned, as the core surfaces pin it."""
        return self.ceiling * (1 - 0.25 * PINNED_RANDOM)

    @property
    def least(self) -> float:
        return self.ceiling * 0.75

    @property
    def most(self) -> float:
        return self.ceiling


Wait = NamedWait | Backoff


@dataclass(frozen=True)
class Returns:
    """The call returns every text's own vector, in input order."""

    attempts: int
    waits: tuple[Wait, ...] = ()


@dataclass(frozen=True)
class Raises:
    """The call raises ``error`` whose message matches ``says``."""

    error: type[OrqError]
    says: str
    attempts: int
    waits: tuple[Wait, ...] = ()


# -- payloads that do not fit their batch ----------------------------------------------------


def edited(edit: Callable[[dict[str, Any]], None]) -> Action:
    """A valid embeddings reply (items in reverse order) with ``edit`` applied to its payload."""

    def apply(payload: dict[str, Any]) -> dict[str, Any]:
        edit(payload)
        return payload

    return embedding_reply(edit=apply)


def _drop_one_item(payload: dict[str, Any]) -> None:
    payload["data"].pop()


def _repeat_an_index(payload: dict[str, Any]) -> None:
    payload["data"][1]["index"] = payload["data"][0]["index"]


def _shorten_one_vector(payload: dict[str, Any]) -> None:
    payload["data"][0]["embedding"] = [0.5, 0.5, 0.5, 0.5]


def _nan_for_input_2(payload: dict[str, Any]) -> None:
    (item,) = [item for item in payload["data"] if item["index"] == 2]
    item["embedding"] = [math.nan] * 8


def _null_data(payload: dict[str, Any]) -> None:
    payload["data"] = None


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One row of the matrix; ``name`` reads as the behaviour it specifies."""

    name: str
    provoke: Provoke
    ends: Returns | Raises
    max_retries: int = 2
    timeout: float = 1.0
    orq: dict[str, Any] | None = None


RETRYABLE_STATUSES = (408, 409, 500, 502, 503, 504, 529)
REFUSED_STATUSES = {
    400: (BadRequestError, "invalid_request_body"),
    401: (AuthenticationError, "invalid_api_key"),
    403: (PermissionDeniedError, "insufficient_scope"),
    404: (NotFoundError, "not_found"),
    422: (BadRequestError, "provider_credential_invalid"),
}

FAULTS = [
    # Rate limits: the server's wait, whichever header names it, else the policy's backoff.
    Fault(
        "retries_429_after_retry_after_seconds_then_returns_vectors_in_order",
        gateway(ResponseFault(status=429, retry_after=0.05, times=1)),
        Returns(attempts=2, waits=(NamedWait(0.05),)),
    ),
    Fault(
        "retries_429_after_retry_after_ms_then_returns_vectors_in_order",
        scripted(reply(429, RATE_LIMITED_BODY, {"retry-after-ms": "50"})),
        Returns(attempts=2, waits=(NamedWait(0.05),)),
    ),
    Fault(
        "retries_429_naming_no_wait_after_backoff_then_returns_vectors_in_order",
        scripted(reply(429, RATE_LIMITED_BODY)),
        Returns(attempts=2, waits=(Backoff(1),)),
    ),
    Fault(
        "gives_up_on_429_after_max_retries_with_a_rate_limit_error",
        gateway(ResponseFault(status=429, retry_after=SHORT_WAIT)),
        Raises(
            RateLimitError,
            r"answered 429 rate_limit_exceeded",
            attempts=3,
            waits=(NamedWait(SHORT_WAIT),) * 2,
        ),
    ),
    # Statuses worth another attempt.
    *(
        Fault(
            f"retries_{status}_after_its_retry_after_then_returns_vectors_in_order",
            gateway(ResponseFault(status=status, retry_after=SHORT_WAIT, times=1)),
            Returns(attempts=2, waits=(NamedWait(SHORT_WAIT),)),
        )
        for status in RETRYABLE_STATUSES
    ),
    Fault(
        "gives_up_on_503_after_max_retries_with_a_server_error",
        gateway(ResponseFault(status=503, retry_after=SHORT_WAIT)),
        Raises(
            ServerError,
            r"answered 503 provider_overloaded",
            attempts=3,
            waits=(NamedWait(SHORT_WAIT),) * 2,
        ),
    ),
    Fault(
        "gives_up_on_an_html_502_page_saying_it_was_html_and_its_title",
        gateway(ResponseFault(status=502, retry_after=SHORT_WAIT, body=HTML_PAGE)),
        Raises(
            ServerError,
            r"502: the body is an HTML page titled '502 Bad Gateway'",
            attempts=2,
            waits=(NamedWait(SHORT_WAIT),),
        ),
        max_retries=1,
    ),
    # Statuses that retrying cannot fix: one attempt, the error class and orq's code.
    *(
        Fault(
            f"never_retries_{status}_and_raises_{error.__name__}_with_its_code",
            gateway(ResponseFault(status=status, times=1)),
            Raises(error, rf"answered {status} {code}: ", attempts=1),
        )
        for status, (error, code) in REFUSED_STATUSES.items()
    ),
    # A 413 is a refusal of the batch's size: split in halves (not retried), not raised.
    Fault(
        "splits_a_batch_refused_with_413_in_halves_and_returns_vectors_in_order",
        gateway(ResponseFault(status=413, times=1)),
        Returns(attempts=3),
    ),
    # orq's side: the gateway's own retries absorb what they can, and only the outcome shows.
    Fault(
        "leaves_a_provider_503_to_orqs_own_retries_and_returns_vectors_in_one_attempt",
        gateway(ProviderFault(model=MODEL, status=503, times=2)),
        Returns(attempts=1),
    ),
    Fault(
        "retries_when_orqs_own_retries_are_spent_on_a_provider_503_then_gives_up",
        gateway(ProviderFault(model=MODEL, status=503, retry_after=SHORT_WAIT)),
        Raises(
            ServerError,
            r"answered 503 provider_overloaded: .*answered 503",
            attempts=3,
            waits=(NamedWait(SHORT_WAIT),) * 2,
        ),
    ),
    Fault(
        "never_retries_a_provider_400_which_orq_does_not_retry_either",
        gateway(ProviderFault(model=MODEL, status=400)),
        Raises(BadRequestError, r"answered 400 invalid_request_body", attempts=1),
    ),
    Fault(
        "retries_after_orqs_call_timeout_strikes_each_provider_attempt_then_returns_vectors",
        gateway(ProviderFault(model=MODEL, latency_ms=500, times=3)),
        Returns(attempts=2, waits=(Backoff(1),)),
        orq={"timeout": {"call_timeout": 30}},
    ),
    # The network.
    Fault(
        "raises_a_connection_error_naming_the_address_when_refused_after_retries",
        nothing_listening(),
        Raises(
            OrqConnectionError,
            r"connection to http://127\.0\.0\.1:\d+ failed",
            attempts=2,
            waits=(Backoff(1),),
        ),
        max_retries=1,
    ),
    Fault(
        "retries_a_connection_dropped_before_an_answer_then_returns_vectors_in_order",
        gateway(ResponseFault(drop_connection=True, times=1)),
        Returns(attempts=2, waits=(Backoff(1),)),
    ),
    Fault(
        "retries_a_connection_reset_mid_body_then_returns_vectors_in_order",
        scripted(reset_mid_body()),
        Returns(attempts=2, waits=(Backoff(1),)),
    ),
    Fault(
        "retries_a_read_timeout_then_returns_vectors_in_order",
        scripted(after(5.0, embedding_reply())),
        Returns(attempts=2, waits=(Backoff(1),)),
        timeout=0.3,
    ),
    Fault(
        "raises_a_timeout_naming_the_limit_when_no_answer_comes_in_time",
        scripted(after(5.0, embedding_reply())),
        Raises(OrqTimeoutError, r"no complete response from .* within 0\.3 s", attempts=1),
        max_retries=0,
        timeout=0.3,
    ),
    Fault(
        "raises_a_timeout_when_a_body_drips_in_slower_than_the_timeout",
        scripted(drip(b'{"data": []}' * 20, every=0.05)),
        Raises(OrqTimeoutError, r"within 0\.3 s", attempts=1),
        max_retries=0,
        timeout=0.3,
    ),
    # Bodies that cannot be trusted: refused at once, never retried, the batch named.
    Fault(
        "refuses_truncated_json_without_retrying",
        gateway(ResponseFault(malformed_json=True, times=1)),
        Raises(
            InvalidResponseError,
            r"batch 1 of 1 \(inputs 0-4\): the body is not valid JSON",
            attempts=1,
        ),
    ),
    Fault(
        "refuses_an_html_page_sent_with_200_naming_its_title",
        scripted(reply(200, CAPTIVE_PORTAL, {"content-type": "text/html"})),
        Raises(InvalidResponseError, r"HTML page titled 'Sign in to the hotel Wi-Fi'", attempts=1),
    ),
    Fault(
        "refuses_a_response_with_one_vector_too_few",
        scripted(edited(_drop_one_item)),
        Raises(InvalidResponseError, r"expected 5 embeddings, got 4", attempts=1),
    ),
    Fault(
        "refuses_a_response_with_a_duplicate_index",
        scripted(edited(_repeat_an_index)),
        Raises(InvalidResponseError, r"index 4 appears more than once", attempts=1),
    ),
    Fault(
        "refuses_a_response_mixing_vector_lengths",
        scripted(edited(_shorten_one_vector)),
        Raises(InvalidResponseError, r"vectors of different lengths in one response", attempts=1),
    ),
    Fault(
        "refuses_a_response_with_nan_naming_the_input",
        scripted(edited(_nan_for_input_2)),
        Raises(
            InvalidResponseError,
            r"NaN or infinite values in the embeddings of inputs \[2\]",
            attempts=1,
        ),
    ),
    Fault(
        "refuses_a_response_whose_data_is_null",
        scripted(edited(_null_data)),
        Raises(InvalidResponseError, r"'data' is null or missing", attempts=1),
    ),
]
RECOVERABLE = [fault for fault in FAULTS if isinstance(fault.ends, Returns)]
UNRECOVERABLE = [fault for fault in FAULTS if isinstance(fault.ends, Raises)]


def _name(fault: Fault) -> str:
    return fault.name


# -- the runner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ended:
    """How one call ended, and what it took."""

    vectors: list[list[float]] | None
    error: OrqError | None
    attempts: int
    elapsed: float


def exercise(fault: Fault, surface: Surface, stage: Stage) -> Ended:
    call = Call(
        base_url=fault.provoke(stage),
        max_retries=fault.max_retries,
        timeout=fault.timeout,
        orq=fault.orq,
    )
    vectors, error = None, None
    started = time.monotonic()
    try:
        vectors = surface.embed(call, TEXTS)
    except OrqError as raised:
        error = raised
    elapsed = time.monotonic() - started
    return Ended(vectors, error, stage.attempts(), elapsed)


def assert_attempts_waits_and_time(fault: Fault, surface: Surface, ended: Ended) -> None:
    expected = fault.ends
    assert ended.attempts == expected.attempts
    slept_for_real = 0.0
    if surface.records_waits:
        assert surface.waits == pytest.approx([wait.pinned for wait in expected.waits])
    else:
        slept_for_real = sum(wait.most for wait in expected.waits)
        assert ended.elapsed >= sum(wait.least for wait in expected.waits)
    bound = expected.attempts * fault.timeout + slept_for_real + SLACK_SECONDS
    assert ended.elapsed <= bound


@pytest.mark.parametrize("fault", RECOVERABLE, ids=_name)
def test_a_recoverable_fault_ends_in_every_texts_own_vector_in_order(fault, surface, stage):
    ended = exercise(fault, surface, stage)

    assert ended.error is None
    assert ended.vectors == stage.expected_vectors(TEXTS)
    assert_attempts_waits_and_time(fault, surface, ended)


@pytest.mark.parametrize("fault", UNRECOVERABLE, ids=_name)
def test_an_unrecoverable_fault_ends_in_a_typed_error_saying_what_happened(fault, surface, stage):
    ended = exercise(fault, surface, stage)

    expected = fault.ends
    assert isinstance(expected, Raises)
    assert type(ended.error) is expected.error, ended.error
    assert re.search(expected.says, str(ended.error)), str(ended.error)
    assert_attempts_waits_and_time(fault, surface, ended)
