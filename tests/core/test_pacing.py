"""The Pacer's decisions, on a stepped clock: budgets, the server's headers, holds and the cap.

Pure: no sockets and no sleeping. What the client does with these decisions over real sockets
is in tests/reliability/test_rate_limits.py.
"""

from __future__ import annotations

import logging
import time

import pytest

from orq_embeddings._runtime.pacing import INITIAL_CHARS_PER_TOKEN, POLL_SECONDS, Pacer, Start

WINDOW = 60.0
MARGIN = 0.25  # min(MAX_MARGIN_SECONDS, 2% of a 60 s window)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def pacer_on(clock: Clock, **budgets: int | None) -> Pacer:
    return Pacer(
        requests_per_minute=budgets.get("requests_per_minute"),
        tokens_per_minute=budgets.get("tokens_per_minute"),
        window=WINDOW,
        max_concurrency=4,
        max_hold=60.0,
        clock=clock,
    )


def started(turn: Start | float) -> Start:
    assert isinstance(turn, Start), f"expected a start, was told to wait {turn} s"
    return turn


def waits(turn: Start | float) -> float:
    assert not isinstance(turn, Start), "expected a wait, the request was let start"
    return turn


OK = 200


def test_without_budget_or_headers_nothing_is_held_back(clock):
    pacer = pacer_on(clock)

    for _ in range(50):
        started(pacer.try_start())


def test_a_request_budget_lets_a_slot_free_a_window_after_its_response(clock):
    pacer = pacer_on(clock, requests_per_minute=2)
    first, second = started(pacer.try_start()), started(pacer.try_start())
    clock.now += 0.5
    pacer.finish(first, OK, {})
    pacer.finish(second, OK, {})

    assert waits(pacer.try_start()) == pytest.approx(WINDOW + MARGIN)
    clock.now += WINDOW + MARGIN
    started(pacer.try_start())
    started(pacer.try_start())
    assert waits(pacer.try_start()) == POLL_SECONDS


def test_a_request_in_flight_holds_its_slot_until_it_comes_back(clock):
    pacer = pacer_on(clock, requests_per_minute=1)
    started(pacer.try_start())
    clock.now += 10 * WINDOW

    assert waits(pacer.try_start()) == POLL_SECONDS


def test_the_servers_limit_paces_the_window_once_a_response_names_it(clock):
    pacer = pacer_on(clock)
    first = started(pacer.try_start())
    pacer.finish(first, OK, {"x-ratelimit-limit": "3", "x-ratelimit-remaining": "2"})
    started(pacer.try_start())
    started(pacer.try_start())

    assert waits(pacer.try_start()) == pytest.approx(WINDOW + MARGIN)


def test_a_budget_under_the_servers_limit_wins(clock):
    pacer = pacer_on(clock, requests_per_minute=1)
    first = started(pacer.try_start())
    pacer.finish(first, OK, {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "99"})

    waits(pacer.try_start())


def test_a_429_holds_new_starts_for_its_retry_after_but_not_its_own_retry(clock):
    pacer = pacer_on(clock)
    refused = started(pacer.try_start())
    pacer.finish(refused, 429, {"retry-after": "7"})

    assert waits(pacer.try_start()) == pytest.approx(7.0)
    pacer.finish(started(pacer.try_start(retry=True)), OK, {})
    clock.now += 7
    started(pacer.try_start())


def test_a_429_halves_the_requests_in_flight_and_successes_bring_them_back(clock):
    pacer = pacer_on(clock)
    flight = [started(pacer.try_start()) for _ in range(4)]
    pacer.finish(flight.pop(), 429, {"retry-after": "0"})
    pacer.finish(flight.pop(), 429, {"retry-after": "0"})
    for each in flight:
        pacer.finish(each, None, {})  # no response: neither a slow-down nor a success

    # 4 in flight, halved twice: one at a time.
    one = started(pacer.try_start())
    assert waits(pacer.try_start()) == POLL_SECONDS
    pacer.finish(one, OK, {})
    # Each success adds 1/cap: after enough of them, the cap no longer binds.
    for _ in range(10):
        pacer.finish(started(pacer.try_start()), OK, {})
    for _ in range(8):
        started(pacer.try_start())


def test_a_remaining_of_0_the_record_cannot_explain_holds_until_reset(clock):
    pacer = pacer_on(clock)
    first = started(pacer.try_start())
    pacer.finish(first, OK, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "12"})

    assert waits(pacer.try_start()) == pytest.approx(12.0)


def test_a_remaining_of_0_the_record_explains_is_paced_by_the_window_not_by_reset(clock):
    pacer = pacer_on(clock)
    first = started(pacer.try_start())
    second = started(pacer.try_start())
    clock.now += 0.1
    headers = {"x-ratelimit-limit": "2", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "60"}
    pacer.finish(first, OK, headers)
    pacer.finish(second, OK, headers)

    # The slot of the first request frees a window after it came back; Reset is no longer.
    assert waits(pacer.try_start()) == pytest.approx(WINDOW + MARGIN)


def test_another_user_of_the_key_shows_as_a_remaining_the_record_cannot_explain(clock):
    pacer = pacer_on(clock)
    mine = started(pacer.try_start())
    # 10 allowed, 9 used, and this client sent only 1 of them.
    headers = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "5"}
    pacer.finish(mine, OK, headers)

    only = started(pacer.try_start())
    assert waits(pacer.try_start()) == POLL_SECONDS
    pacer.finish(only, OK, {**headers, "x-ratelimit-remaining": "0"})
    assert waits(pacer.try_start()) == pytest.approx(5.0)


def test_a_reset_given_as_a_unix_time_is_read_as_one(clock):
    pacer = pacer_on(clock)
    first = started(pacer.try_start())
    reset = str(int(time.time()) + 30)
    pacer.finish(first, OK, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})

    assert 28 < waits(pacer.try_start()) <= 30


def test_a_hold_longer_than_max_hold_is_not_kept(clock):
    pacer = pacer_on(clock)
    refused = started(pacer.try_start())
    pacer.finish(refused, 429, {"retry-after": "3600"})

    started(pacer.try_start())


def test_unreadable_rate_limit_headers_are_ignored(clock):
    pacer = pacer_on(clock)
    first = started(pacer.try_start())
    junk = {"x-ratelimit-limit": "lots", "x-ratelimit-remaining": "-1", "retry-after": "nan"}
    pacer.finish(first, 503, junk)

    started(pacer.try_start())


def test_a_token_budget_counts_the_tokens_in_the_window(clock):
    pacer = pacer_on(clock, tokens_per_minute=100)
    first = started(pacer.try_start(60))
    pacer.finish(first, OK, {})

    started(pacer.try_start(40))
    assert waits(pacer.try_start(1)) == pytest.approx(WINDOW + MARGIN)
    clock.now += WINDOW + MARGIN
    started(pacer.try_start(60))


def test_a_batch_over_the_whole_token_budget_is_sent_alone_with_a_warning(clock, caplog):
    pacer = pacer_on(clock, tokens_per_minute=100)
    small = started(pacer.try_start(10))
    pacer.finish(small, OK, {})

    waits(pacer.try_start(500))
    clock.now += WINDOW + MARGIN
    with caplog.at_level(logging.WARNING, logger="orq_embeddings"):
        started(pacer.try_start(500))
    assert "estimated at 500 tokens is more than tokens_per_minute=100" in caplog.text
    waits(pacer.try_start(1))


def test_tokens_are_estimated_from_length_then_calibrated_on_reported_usage(clock):
    pacer = pacer_on(clock, tokens_per_minute=1000)
    text = "x" * 30

    assert pacer.estimate([text, [1, 2, 3, 4]]) == 30 / INITIAL_CHARS_PER_TOKEN + 4
    pacer.calibrate(chars=300, reported_tokens=30)
    assert pacer.estimate([text]) == 3
    assert pacer.counts_tokens
    assert not pacer_on(clock).counts_tokens


# -- a shared budget: the job's windows, asked after the pacer's own checks --------------------


class RecordingBudget:
    """A SharedBudget that grants while it has grants left, and keeps what it is told."""

    counts_tokens = True

    def __init__(self, grants: int, wait: float = 3.0) -> None:
        self.left = grants
        self.wait = wait
        self.asked: list[tuple[int, bool]] = []
        self.finished: list[tuple[str, int | None, dict[str, str]]] = []

    def try_take(self, tokens: int, *, retry: bool) -> str | float:
        self.asked.append((tokens, retry))
        if self.left == 0:
            return self.wait
        self.left -= 1
        return f"grant-{len(self.asked)}"

    def finish(self, grant: str, status: int | None, headers) -> None:
        self.finished.append((grant, status, dict(headers)))


def test_a_pacer_drawing_on_a_shared_budget_starts_what_it_grants_and_waits_as_it_says(clock):
    budget = RecordingBudget(grants=2, wait=3.0)
    pacer = pacer_on(clock)
    pacer.draw_from(budget)

    first, second = started(pacer.try_start(5)), started(pacer.try_start(7, retry=True))
    assert (first.grant, second.grant) == ("grant-1", "grant-2")
    assert waits(pacer.try_start(1)) == 3.0
    assert budget.asked == [(5, False), (7, True), (1, False)]


def test_a_start_the_shared_budget_refused_is_not_counted_by_the_pacer(clock):
    """A refused start never went: it holds no slot of the cap and no tokens of the window."""
    budget = RecordingBudget(grants=0)
    pacer = pacer_on(clock, requests_per_minute=1, tokens_per_minute=10)
    pacer.draw_from(budget)
    for _ in range(5):
        waits(pacer.try_start(10))

    budget.left = 1
    started(pacer.try_start(10))


def test_the_shared_budget_hears_how_each_request_ended_and_the_pacer_leaves_limits_to_it(clock):
    budget = RecordingBudget(grants=10)
    pacer = pacer_on(clock)
    pacer.draw_from(budget)
    first = started(pacer.try_start())
    headers = {"x-ratelimit-limit": "1", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "30"}
    pacer.finish(first, OK, headers)

    assert budget.finished == [("grant-1", OK, headers)]
    # The key's limit and remaining are the whole job's: the budget's to heed, not this pacer's.
    started(pacer.try_start())


def test_a_pacer_counts_tokens_when_its_shared_budget_does(clock):
    pacer = pacer_on(clock)
    assert not pacer.counts_tokens
    pacer.draw_from(RecordingBudget(grants=1))
    assert pacer.counts_tokens
