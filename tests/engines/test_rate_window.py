"""The whole job's window, on a stepped clock: grants are time stamps, and nothing leaks.

Pure: no Ray. orq_embeddings.ray puts this window in an actor; tests/engines/test_ray.py runs it
there.
"""

from __future__ import annotations

import pytest

from orq_embeddings._engines.rate_window import SharedWindow
from tests.support.gateway_http import SteppedClock

WINDOW = 10.0
MARGIN = 0.2  # 2% of a 10 s window


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


def window_on(clock: SteppedClock, **budgets: int | None) -> SharedWindow:
    return SharedWindow(
        requests_per_minute=budgets.get("requests_per_minute"),
        tokens_per_minute=budgets.get("tokens_per_minute"),
        window=WINDOW,
        max_hold=60.0,
        clock=clock,
    )


def test_grants_up_to_the_budget_then_says_when_the_oldest_leaves(clock):
    window = window_on(clock, requests_per_minute=3)

    assert [window.try_take(f"g{n}", 0) for n in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 4
    assert window.try_take("g3", 0) == pytest.approx(WINDOW + MARGIN - 4)


def test_a_grant_never_finished_leaves_the_window_one_window_after_it_was_granted(clock):
    """A worker that died mid-request tells nothing; its grant ages out like any other."""
    window = window_on(clock, requests_per_minute=2)
    window.try_take("dead-worker", 0)
    window.try_take("live-worker", 0)
    window.finish("live-worker", 200, {})

    clock.now += WINDOW + MARGIN
    assert window.try_take("next", 0) == 0.0
    assert window.try_take("after", 0) == 0.0  # both slots are free again: nothing leaked


def test_a_finished_grant_counts_from_when_its_answer_came_back(clock):
    window = window_on(clock, requests_per_minute=1)
    window.try_take("slow", 0)
    clock.now += 3
    window.finish("slow", 200, {})

    clock.now += WINDOW + MARGIN - 0.5
    assert window.try_take("next", 0) == pytest.approx(0.5)
    clock.now += 0.5
    assert window.try_take("next", 0) == 0.0


def test_the_servers_lower_limit_binds_once_a_worker_saw_it(clock):
    window = window_on(clock, requests_per_minute=100)
    window.try_take("a", 0)
    window.finish("a", 200, {"x-ratelimit-limit": "2", "x-ratelimit-remaining": "1"})

    assert window.try_take("b", 0) == 0.0
    assert window.try_take("c", 0) > 0


def test_a_429_holds_every_workers_new_requests_but_not_its_retry(clock):
    window = window_on(clock)
    window.try_take("a", 0)
    window.finish("a", 429, {"retry-after": "3"})

    assert window.try_take("other-worker", 0) == pytest.approx(3)
    assert window.try_take("the-retry", 0, retry=True) == 0.0
    clock.now += 3
    assert window.try_take("other-worker", 0) == 0.0


def test_a_hold_longer_than_max_hold_is_not_kept(clock):
    window = window_on(clock)
    window.try_take("a", 0)
    window.finish("a", 429, {"retry-after": "3600"})

    assert window.try_take("b", 0) == 0.0


def test_remaining_zero_that_the_grants_explain_holds_nothing_beyond_the_window(clock):
    window = window_on(clock, requests_per_minute=2)
    for name in ("a", "b"):
        window.try_take(name, 0)
    window.finish("b", 200, {"x-ratelimit-limit": "2", "x-ratelimit-remaining": "0"})

    clock.now += WINDOW + MARGIN
    assert window.try_take("c", 0) == 0.0


def test_remaining_zero_the_grants_cannot_explain_holds_until_reset(clock):
    """Someone else uses the key: the server's word is all there is to go on."""
    window = window_on(clock)
    window.try_take("a", 0)
    window.finish(
        "a",
        200,
        {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "7"},
    )

    assert window.try_take("b", 0) == pytest.approx(7)


def test_tokens_in_the_window_hold_back_a_request_that_would_pass_the_budget(clock):
    window = window_on(clock, tokens_per_minute=100)
    assert window.try_take("a", 60) == 0.0
    assert window.try_take("b", 60) > 0
    assert window.try_take("c", 40) == 0.0


def test_a_request_above_the_whole_token_budget_goes_alone(clock):
    window = window_on(clock, tokens_per_minute=100)

    assert window.try_take("huge", 500) == 0.0
    assert window.try_take("next", 1) > 0


def test_after_a_restart_the_window_is_taken_as_full_for_one_window(clock):
    window = window_on(clock, requests_per_minute=5)
    window.assume_full()

    assert window.try_take("a", 0) == pytest.approx(WINDOW)
    clock.now += WINDOW
    assert window.try_take("a", 0) == 0.0
