"""``requests_per_minute``: the gateway limits each API key on a rolling 60 s window, as orq does.

Requests go over real sockets; the window is read from the suite's stepped clock, so a minute
passes in a call to ``clock.advance``.
"""

from __future__ import annotations

import httpx
import pytest
from openai import OpenAI, RateLimitError
from orq_ai_sdk import Orq
from orq_ai_sdk.models import APIDefaultError

from orq_embeddings.gateway import GatewayConfig
from orq_embeddings.gateway.rate_limit import RollingWindowLimiter, rate_key
from tests.support.gateway_http import SMALL, embed, error_of

BODY = {"input": "hello", "model": SMALL}
KEY_A = {"Authorization": "Bearer sk-alpha"}
KEY_B = {"Authorization": "Bearer sk-beta"}


@pytest.fixture
def config():
    return GatewayConfig(seed=1, requests_per_minute=3)


def send(gateway, headers=KEY_A, body=BODY) -> httpx.Response:
    return embed(gateway, body, headers=headers)


def rate_headers(response: httpx.Response) -> tuple[str | None, ...]:
    names = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
    return tuple(response.headers.get(name) for name in names)


def test_a_request_over_the_limit_is_a_429_with_retry_after_and_the_rate_limit_headers(gateway):
    for _ in range(3):
        assert send(gateway).status_code == 200

    refused = send(gateway)

    assert refused.status_code == 429
    error = error_of(refused)
    assert (error["code"], error["type"]) == ("rate_limit_exceeded", "rate_limit_error")
    assert "3 requests per minute" in error["message"]
    assert refused.headers["retry-after"] == "60"
    assert rate_headers(refused) == ("3", "0", "60")


def test_successful_responses_carry_the_rate_limit_headers_counting_down(gateway, clock):
    first = send(gateway)
    clock.advance(15.5)
    second = send(gateway)
    third = send(gateway)

    assert rate_headers(first) == ("3", "2", "60")
    # Reset is the seconds until the oldest request leaves the window: 60 - 15.5, rounded up.
    assert rate_headers(second) == ("3", "1", "45")
    assert rate_headers(third) == ("3", "0", "45")
    assert "retry-after" not in third.headers


def test_retry_after_is_exactly_the_wait_until_a_slot_frees(gateway, clock):
    for _ in range(3):
        send(gateway)
        clock.advance(10)
    clock.advance(-5)  # now 25 s after the first request

    assert send(gateway).headers["retry-after"] == "35"
    clock.advance(34.5)
    almost = send(gateway)
    clock.advance(0.5)
    served = send(gateway)

    assert (almost.status_code, almost.headers["retry-after"]) == (429, "1")
    assert served.status_code == 200


def test_the_window_rolls_rather_than_resetting_each_minute(gateway, clock):
    send(gateway)
    clock.advance(30)
    send(gateway)
    send(gateway)
    clock.advance(30)  # the first request has left the window; the other two have not

    assert send(gateway).status_code == 200
    refused = send(gateway)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"


def test_a_refused_request_does_not_count_against_the_window(gateway, clock):
    for _ in range(3):
        send(gateway)
    clock.advance(30)
    assert send(gateway).status_code == 429
    clock.advance(30)

    assert [send(gateway).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_each_api_key_has_its_own_window_and_keyless_requests_share_one(gateway):
    for _ in range(3):
        send(gateway, KEY_A)

    assert send(gateway, KEY_A).status_code == 429
    assert send(gateway, KEY_B).status_code == 200
    assert rate_headers(send(gateway, KEY_B)) == ("3", "1", "60")
    assert [send(gateway, {}).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_counted_request_that_fails_validation_still_carries_the_headers(gateway):
    response = send(gateway, body={"input": "x", "model": SMALL, "bogus": 1})

    assert response.status_code == 400
    assert rate_headers(response) == ("3", "2", "60")


def test_refusals_show_in_the_request_log_and_counters(gateway):
    for _ in range(5):
        send(gateway)

    assert gateway.counters().refused_by_limit == {"requests_per_minute": 2}
    assert gateway.counters().responses_by_status == {200: 3, 429: 2}
    assert [record.refused_by for record in gateway.requests()] == [
        None,
        None,
        None,
        "requests_per_minute",
        "requests_per_minute",
    ]


def test_a_reset_gateway_starts_with_empty_windows(gateway):
    for _ in range(4):
        send(gateway)
    gateway.reset()

    assert send(gateway).status_code == 200


def test_the_openai_sdk_raises_its_rate_limit_error_with_the_headers(gateway):
    for _ in range(3):
        send(gateway, KEY_A)

    with (
        OpenAI(base_url=gateway.base_url, api_key="sk-alpha", max_retries=0) as client,
        pytest.raises(RateLimitError) as raised,
    ):
        client.embeddings.create(input="x", model=SMALL)

    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.response.headers["retry-after"] == "60"


def test_the_orq_sdk_reads_the_429_as_its_default_error(gateway):
    for _ in range(3):
        send(gateway, KEY_A)

    with (
        Orq(api_key="sk-alpha", server_url=gateway.url) as orq,
        pytest.raises(APIDefaultError) as raised,
    ):
        orq.router.embeddings.create(input="x", model=SMALL)

    assert raised.value.status_code == 429
    assert '"code": "rate_limit_exceeded"' in raised.value.body


class TestWithoutALimit:
    @pytest.fixture
    def config(self):
        return GatewayConfig(seed=1)

    def test_no_request_is_refused_and_no_rate_limit_header_is_sent(self, gateway):
        responses = [send(gateway) for _ in range(20)]

        assert {response.status_code for response in responses} == {200}
        assert rate_headers(responses[-1]) == (None, None, None)


class TestAShorterWindow:
    @pytest.fixture
    def config(self):
        return GatewayConfig(seed=1, requests_per_minute=1, rate_limit_window_seconds=2.0)

    def test_the_window_is_the_configured_one_and_the_refusal_names_it(self, gateway, clock):
        assert send(gateway).status_code == 200
        refused = send(gateway)
        clock.advance(2.0)
        served = send(gateway)

        assert (refused.status_code, refused.headers["retry-after"]) == (429, "2")
        assert "rolling 2 s window" in error_of(refused)["message"]
        assert served.status_code == 200


def test_the_limiter_keeps_a_digest_of_the_key_never_the_key():
    assert "sk-alpha" not in rate_key({"authorization": "Bearer sk-alpha"})
    assert rate_key({"authorization": "bearer  sk-alpha"}) == rate_key(
        {"authorization": "Bearer sk-alpha"}
    )
    assert rate_key({}) == rate_key({"authorization": "Bearer "})
    assert rate_key({}) != rate_key({"authorization": "Bearer sk-alpha"})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"limit": 0}, "at least 1 request"), ({"limit": 1, "window_seconds": 0}, "positive")],
)
def test_a_limiter_without_room_or_window_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        RollingWindowLimiter(clock=lambda: 0.0, **arguments)


def test_a_config_with_a_limit_under_one_is_refused():
    with pytest.raises(ValueError, match="requests_per_minute"):
        GatewayConfig(requests_per_minute=0)
