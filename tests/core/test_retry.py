"""The retry policy's decisions and exact wait schedules, with injected randomness and clock."""

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from orq_embeddings import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InvalidResponseError,
    NotFoundError,
    OrqConnectionError,
    OrqEmbeddingsClient,
    OrqTimeoutError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
)
from orq_embeddings.errors import (
    APIStatusError,
    NotSupportedByServerError,
    QuotaExceededError,
    RetryAfterTooLongError,
    error_class_for_status,
)
from tests.support.scripted_server import embedding_reply, reply

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


def test_a_retry_after_up_to_the_cap_is_waited_for():
    error = status_error(429, **{"retry-after": "30"})
    assert policy(max_retry_after=30).delay_for(1, error) == 30


def test_a_429_asking_beyond_the_cap_is_not_waited_for_and_names_the_wait():
    error = status_error(429, **{"retry-after": "100000"})

    decision = policy(max_retry_after=60).decide(1, error)

    assert decision.delay is None
    assert isinstance(decision.error, RetryAfterTooLongError)
    assert isinstance(decision.error, RateLimitError)
    assert decision.error.retry_after == 100000
    assert "asked to wait 100000 s" in str(decision.error)
    assert "max_retry_after=60 s" in str(decision.error)


def test_a_503_asking_beyond_the_cap_is_raised_as_it_is():
    error = status_error(503, **{"retry-after": "100000"})

    decision = policy(max_retry_after=60).decide(1, error)

    assert (decision.delay, decision.error) == (None, error)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (501, None),
        (505, None),
        (402, "quota_exceeded"),
        (429, "insufficient_quota"),
        (429, "quota_exceeded"),
    ],
)
def test_what_waiting_cannot_fix_is_never_retried(status, code):
    error = error_class_for_status(status, code)(status, "no", code=code)
    assert policy().delay_for(1, error) is None


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
        (501, NotSupportedByServerError),
        (505, NotSupportedByServerError),
        (402, QuotaExceededError),
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


# -- the client's retry loop against a scripted server on 127.0.0.1 --------------------------------


def orq_error(code=None, **extra):
    return {"error": {"code": code, "message": "scripted", "param": None, "type": "t", **extra}}


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (501, None, NotSupportedByServerError),
        (505, None, NotSupportedByServerError),
        (402, "quota_exceeded", QuotaExceededError),
        (429, "insufficient_quota", QuotaExceededError),
        (429, "quota_exceeded", QuotaExceededError),
    ],
)
def test_the_client_tries_what_waiting_cannot_fix_once(
    make_client, server, waits, embed, status, code, error_class
):
    server.push(reply(status, orq_error(code), {"retry-after": "1"}))

    with pytest.raises(error_class, match="waiting will not help"):
        embed(make_client(max_retries=3), ["x"])

    assert (len(server.requests), waits) == (1, [])


def test_the_client_does_not_sleep_a_retry_after_beyond_its_cap(make_client, server, waits, embed):
    server.push(reply(429, orq_error("rate_limit_exceeded"), {"retry-after": "100000"}))

    with pytest.raises(RetryAfterTooLongError, match="asked to wait 100000 s") as raised:
        embed(make_client(max_retries=3), ["x"])

    assert raised.value.retry_after == 100000
    assert (len(server.requests), waits) == (1, [])


def test_the_cap_is_a_client_setting(server, waits, embed):
    server.push(reply(429, orq_error(), {"retry-after": "100"}))
    client = OrqEmbeddingsClient(
        "openai/text-embedding-3-small",
        base_url=server.base_url,
        max_retries=1,
        max_retry_after=100,
        sleep=waits.sleep,
        async_sleep=waits.async_sleep,
    )

    with client:
        embed(client, ["x"])

    assert waits == [100]


def test_a_call_stops_retrying_when_its_waits_would_pass_the_budget(
    make_client, server, waits, embed
):
    server.push(*[reply(429, orq_error(), {"retry-after": "3"})] * 3)

    with pytest.raises(RateLimitError) as raised:
        embed(make_client(max_retries=5, retry_wait_budget=5), ["x"])

    assert waits == [3]
    assert len(server.requests) == 2
    assert any("retry_wait_budget of 5 s" in note for note in raised.value.__notes__)


def test_the_budget_is_shared_by_every_batch_of_a_call(make_client, server, waits, embed):
    server.push(*[reply(503, orq_error(), {"retry-after": "3"})] * 2)
    client = make_client(max_retries=5, retry_wait_budget=5, batch_size=1, max_concurrency=1)

    with pytest.raises(ServerError):
        embed(client, ["first", "second"])

    assert waits == [3]


def test_each_call_has_a_budget_of_its_own(make_client, server, waits, embed):
    client = make_client(max_retries=5, retry_wait_budget=3)
    for _ in range(2):
        server.push(reply(503, orq_error(), {"retry-after": "3"}))
        embed(client, ["x"])

    assert waits == [3, 3]


def test_errors_name_the_host_that_answered(make_client, server, embed):
    server.push(reply(401, orq_error("invalid_api_key")))

    with pytest.raises(APIStatusError, match=rf"^127\.0\.0\.1:{server.port} answered 401"):
        embed(make_client(), ["x"])


def test_errors_carry_orqs_failures_and_span_id(make_client, server, embed):
    failures = [{"model": "a/x", "status": 503}, {"model": "b/y", "status": 503}]
    server.push(reply(503, orq_error(failures=failures), {"x-orq-trace-span-id": "span-1"}))

    with pytest.raises(ServerError) as raised:
        embed(make_client(max_retries=0), ["x"])

    assert raised.value.failures == tuple(failures)
    assert raised.value.span_id == "span-1"
    assert "failed attempts: a/x 503, b/y 503" in str(raised.value)


def test_a_batch_report_carries_the_span_id_and_the_failed_attempts_before_it(
    make_client, server, embed
):
    server.push(
        reply(503, orq_error(failures=[{"model": "a/x", "status": 503}])),
        embedding_reply(headers={"x-orq-trace-span-id": "span-2"}),
    )

    (report,) = embed(make_client(max_retries=1), ["x"]).reports

    assert report.span_id == "span-2"
    (failure,) = report.failures
    assert isinstance(failure, ServerError)
    assert failure.failures == ({"model": "a/x", "status": 503},)


@pytest.mark.parametrize("setting", ["max_retry_after", "retry_wait_budget"])
def test_the_cap_and_the_budget_refuse_a_negative_number_by_name(setting):
    with pytest.raises(ConfigurationError, match=rf"{setting}: must be at least 0"):
        OrqEmbeddingsClient("m", base_url="http://127.0.0.1:9/v2/router", **{setting: -1})


# -- one source of truth: the config's limits are what the client's retries do ----------------

LOOPBACK = "http://127.0.0.1:9/v2/router"


def test_max_retries_and_a_disagreeing_retry_policy_are_refused():
    with pytest.raises(ConfigurationError) as caught:
        OrqEmbeddingsClient(
            "m", base_url=LOOPBACK, max_retries=5, retry_policy=RetryPolicy(max_retries=2)
        )

    assert str(caught.value) == (
        "max_retries: is 5, but retry_policy has max_retries=2; give one of them"
    )


def test_a_retry_policy_alone_sets_the_config_limits():
    given = RetryPolicy(max_retries=4, max_retry_after=9.0)
    client = OrqEmbeddingsClient("m", base_url=LOOPBACK, retry_policy=given)

    assert client.retry_policy is given
    assert (client.config.max_retries, client.config.max_retry_after) == (4, 9.0)


def test_a_retry_policy_and_equal_limits_agree():
    given = RetryPolicy(max_retries=3)
    client = OrqEmbeddingsClient("m", base_url=LOOPBACK, max_retries=3, retry_policy=given)

    assert (client.retry_policy, client.config.max_retries) == (given, 3)


def test_max_retries_alone_builds_the_policy():
    client = OrqEmbeddingsClient("m", base_url=LOOPBACK, max_retries=4, max_retry_after=9)

    assert (client.retry_policy.max_retries, client.retry_policy.max_retry_after) == (4, 9.0)
    assert (client.config.max_retries, client.config.max_retry_after) == (4, 9.0)
