"""Rate limits over real sockets: budgets see no 429, pacing from the headers sees few, none lost.

The local gateway limits the suite's key to :data:`LIMIT` requests per :data:`WINDOW` seconds
(a short window so a test sees it pass), and the clients count their budgets over the same
window (``rate_limit_window``); the public settings stay per minute. Every vector is held to the
reference vector of its own text.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings.gateway import GatewayConfig, LocalGateway
from tests.support.scripted_server import (
    Action,
    Recorded,
    ScriptedServer,
    after,
    embedding_payload,
    embedding_reply,
    reply,
    reply_with,
)
from tests.support.stage import Reference
from tests.support.surfaces import HASHING_64, KEY, MODEL, Call, Surface

LIMIT = 3
WINDOW = 0.5
#: Seven one-text requests: they cannot all fit in fewer than three windows.
TEXTS = [f"rate-limited text {number}" for number in range(7)]


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    return GatewayConfig(
        api_key=KEY,
        models=(HASHING_64,),
        requests_per_minute=LIMIT,
        rate_limit_window_seconds=WINDOW,
    )


def call_on(gateway: LocalGateway, **more: Any) -> Call:
    return Call(
        base_url=gateway.base_url,
        batch_size=1,
        max_concurrency=4,
        timeout=5.0,
        more={"rate_limit_window": WINDOW, **more},
    )


def refusals(gateway: LocalGateway) -> int:
    return gateway.counters().responses_by_status.get(429, 0)


def test_a_request_budget_at_the_servers_limit_sees_no_429(
    orq_gateway: LocalGateway, surface: Surface, reference: Reference
):
    vectors = surface.embed(call_on(orq_gateway, requests_per_minute=LIMIT), TEXTS)

    assert vectors == reference.vectors(TEXTS)
    assert refusals(orq_gateway) == 0
    assert orq_gateway.counters().requests == len(TEXTS)


def test_without_a_budget_pacing_from_the_headers_keeps_429s_few(
    orq_gateway: LocalGateway, surface: Surface, reference: Reference
):
    vectors = surface.embed(call_on(orq_gateway), TEXTS)

    assert vectors == reference.vectors(TEXTS)
    # Only the first wave, sent before any response named the limit, can pass it: 4 in flight
    # against a limit of 3. After that the window is paced on the limit the headers name.
    assert refusals(orq_gateway) <= 4 - LIMIT


def test_threads_loops_and_copies_share_one_budget(orq_gateway: LocalGateway, reference):
    client = OrqEmbeddingsClient(
        MODEL,
        base_url=orq_gateway.base_url,
        api_key=KEY,
        batch_size=1,
        max_concurrency=4,
        requests_per_minute=LIMIT,
        rate_limit_window=WINDOW,
    )
    texts = {name: [f"{name} {number}" for number in range(3)] for name in "abcd"}
    results: dict[str, list[list[float]]] = {}

    def sync_job(name: str) -> None:
        results[name] = client.with_options(user=name).embed(texts[name]).vectors

    def loop_job(name: str) -> None:
        async def embed() -> list[list[float]]:
            copy = client.with_options(user=name)
            return (await copy.aembed(texts[name])).vectors

        results[name] = asyncio.run(embed())

    jobs = [sync_job, sync_job, loop_job, loop_job]
    threads = [
        threading.Thread(target=job, args=(name,)) for job, name in zip(jobs, texts, strict=True)
    ]
    with client:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert {name: results.get(name) for name in texts} == {
        name: reference.vectors(each) for name, each in texts.items()
    }
    assert refusals(orq_gateway) == 0
    assert orq_gateway.counters().requests == 12


# -- what the client does with the headers alone: the scripted server ---------------------------


class Arrivals:
    """When each request arrived, as the server saw it."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def then(self, action: Action) -> Action:
        def act(conn: Any, request: Recorded) -> bool:
            self.times.append(time.monotonic())
            return action(conn, request)

        return act


class Overlap:
    """The most requests one kind of action was answering at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = 0
        self.peak = 0

    def around(self, action: Action) -> Action:
        def act(conn: Any, request: Recorded) -> bool:
            with self._lock:
                self._now += 1
                self.peak = max(self.peak, self._now)
            try:
                return action(conn, request)
            finally:
                with self._lock:
                    self._now -= 1

        return act


def with_headers(headers: dict[str, str]) -> Action:
    def make(request: Recorded) -> tuple[int, Any, dict[str, str]]:
        return 200, embedding_payload(request), headers

    return reply_with(make)


def test_a_remaining_of_0_holds_the_next_start_until_reset(
    server: ScriptedServer, make_client: Callable[..., OrqEmbeddingsClient], embed
):
    arrivals = Arrivals()
    server.push(
        arrivals.then(with_headers({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}))
    )
    server.default = arrivals.then(embedding_reply())
    client = make_client(batch_size=1, max_concurrency=1)

    result = embed(client, ["first", "second"])

    assert len(result.vectors) == 2
    first, second = arrivals.times
    assert second - first >= 0.95


def test_the_limit_the_server_names_paces_a_rolling_window(
    server: ScriptedServer, make_client: Callable[..., OrqEmbeddingsClient], embed
):
    arrivals = Arrivals()
    named = {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "1"}
    server.default = arrivals.then(with_headers(named))
    client = make_client(batch_size=1, max_concurrency=2, rate_limit_window=0.4)

    result = embed(client, ["a", "b", "c", "d", "e", "f"])

    assert [len(vector) for vector in result.vectors] == [8] * 6
    times = arrivals.times
    # Any two requests two apart are a window apart: the third waits for the first's slot.
    for earlier, later in zip(times, times[2:], strict=False):
        assert later - earlier >= 0.4


def test_after_a_storm_of_429s_the_retries_do_not_all_fire_at_once(
    server: ScriptedServer, make_client: Callable[..., OrqEmbeddingsClient], embed
):
    overlap = Overlap()
    server.push(*[reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})] * 4)
    server.default = overlap.around(after(0.1, embedding_reply()))
    client = make_client(batch_size=1, max_concurrency=4, max_retries=5)

    result = embed(client, ["a", "b", "c", "d"])

    assert len(result.vectors) == 4
    # Four 429s halve the four in flight down to one; successes raise it by one per cap.
    assert overlap.peak <= 2


def test_a_sync_call_given_up_while_its_batches_wait_starts_no_more_requests(
    server: ScriptedServer, make_client: Callable[..., OrqEmbeddingsClient]
):
    client = make_client(
        batch_size=1, max_concurrency=2, requests_per_minute=2, rate_limit_window=0.3
    )
    batches = client.iter_batches([f"text {number}" for number in range(6)])

    next(batches)
    batches.close()
    time.sleep(1.0)  # three windows: a waiting batch that was not told would have started

    assert len(server.requests) == 2


async def test_cancelling_an_async_call_ends_its_waits_and_starts_no_more_requests(
    server: ScriptedServer, make_client: Callable[..., OrqEmbeddingsClient]
):
    client = make_client(
        batch_size=1, max_concurrency=2, requests_per_minute=2, rate_limit_window=0.3
    )

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.aembed([f"text {n}" for n in range(6)]), timeout=0.15)
    await asyncio.sleep(1.0)

    assert len(server.requests) == 2


def test_a_token_budget_holds_back_what_would_pass_it_until_usage_is_reported(
    server: ScriptedServer, make_client: Callable[..., OrqEmbeddingsClient], embed
):
    arrivals = Arrivals()
    server.default = arrivals.then(after(0.2, embedding_reply()))
    # 30 characters: 10 tokens each by the first estimate, so only two fit in 25 at first. The
    # server then reports 1 token per text, and the rest fit in what is left of the budget.
    texts = [f"thirty characters of text {n:04d}" for n in range(6)]
    client = make_client(
        batch_size=1, max_concurrency=4, tokens_per_minute=25, rate_limit_window=30.0
    )

    result = embed(client, texts)

    assert len(result.vectors) == 6
    first, second, third = arrivals.times[:3]
    assert second - first < 0.2 <= third - first
