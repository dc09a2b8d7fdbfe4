"""The retry policy's decisions and exact wait schedules, with injected randomness and clock."""

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from orq_embeddings import (
    AuthenticationError,
    BadRequestError,
    InvalidResponseError,
    NotFoundError,
    OrqConnectionError,
    OrqTimeoutError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
)
from orq_embeddings.errors import APIStatusError, error_class_for_status

NOW = 1_800_000_000.0


def policy(**overrides):
    values = {"max_retries": 5, "random": lambda: 0.5, "clock": lambda: NOW}
    return RetryPolicy(**{**values, **overrides})


def status_error(status, **headers):
    return error_class_for_status(status)(status, "failed", headers=headers)


def test_backoff_doubles_from_initial_delay_with_jitter_taken_off():
    schedule = [policy().delay_for(attempt, status_error(503)) for attempt in range(1, 6)]
    assert schedule == [0.4375, 0.875, 1.75, 3.5, 7.0]


def test_backoff_is_capped_at_max_delay():
    assert policy(max_delay=2.0).delay_for(5, status_error(500)) == pytest.approx(2.0 * 0.875)


def test_no_jitter_when_random_returns_zero():
    assert policy(random=lambda: 0.0).delay_for(1, status_error(500)) == 0.5


def test_retries_429_after_retry_after_seconds():
    assert policy().delay_for(1, status_error(429, **{"retry-after": "7"})) == 7.0


def test_retry_after_ms_wins_over_retry_after():
    error = status_error(429, **{"retry-after-ms": "250", "retry-after": "7"})
    assert policy().delay_for(1, error) == 0.25


def test_retry_after_as_an_http_date():
    when = format_datetime(datetime.fromtimestamp(NOW + 12, tz=timezone.utc), usegmt=True)
    assert policy().delay_for(1, status_error(503, **{"retry-after": when})) == 12.0


def test_retry_after_is_capped():
    error = status_error(429, **{"retry-after": "3600"})
    assert policy(max_retry_after=30).delay_for(1, error) == 30


@pytest.mark.parametrize(
    "value",
    [
        "soon",
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
        "01 Jan 2024 00:00:00 +9999999999999",
    ],
)
def test_unreadable_retry_after_falls_back_to_backoff(value):
    assert policy().delay_for(1, status_error(429, **{"retry-after": value})) == 0.4375


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retries_transient_statuses(status):
    assert policy().delay_for(1, status_error(status)) is not None


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 413, 422])
def test_never_retries_other_client_errors(status):
    assert policy().delay_for(1, status_error(status)) is None


@pytest.mark.parametrize(
    "error",
    [OrqConnectionError("refused"), OrqTimeoutError("slow")],
    ids=["connection", "timeout"],
)
def test_retries_connection_errors_and_timeouts(error):
    assert policy().delay_for(1, error) == 0.4375


def test_does_not_retry_an_invalid_response():
    assert policy().delay_for(1, InvalidResponseError("bad")) is None


def test_gives_up_after_max_retries():
    retrying = policy(max_retries=2)
    assert retrying.delay_for(2, status_error(503)) is not None
    assert retrying.delay_for(3, status_error(503)) is None


def test_zero_retries_never_retries():
    assert policy(max_retries=0).delay_for(1, status_error(503)) is None


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (404, NotFoundError),
        (408, RequestTimeoutError),
        (413, BadRequestError),
        (429, RateLimitError),
        (502, ServerError),
    ],
)
def test_each_status_has_its_error_class(status, error_class):
    assert error_class_for_status(status) is error_class


def test_a_408_is_both_a_status_error_and_a_timeout():
    error = status_error(408)
    assert isinstance(error, APIStatusError)
    assert isinstance(error, OrqTimeoutError)
    assert isinstance(error, TimeoutError)


def test_rejects_nonsense_settings():
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2)
