"""The look-ahead window, pure: a recording ``start`` stands in for sending a batch."""

from __future__ import annotations

from orq_embeddings._runtime.lookahead import PER_SLOT, LookAhead, runs_inline
from orq_embeddings._wire.batching import Batch


def batches(count: int) -> list[Batch]:
    return [Batch(number, count, number, number + 1) for number in range(1, count + 1)]


class Recorder:
    """Starts nothing: records which batches were started, and returns the batch as its send."""

    def __init__(self) -> None:
        self.started: list[int] = []

    def __call__(self, batch: Batch) -> int:
        self.started.append(batch.number)
        return batch.number


def test_at_most_two_sends_per_slot_are_started_before_the_first_result():
    start = Recorder()

    LookAhead(batches(20), 3, start)

    assert start.started == list(range(1, 2 * 3 + 1))
    assert PER_SLOT == 2


def test_each_advance_starts_one_more_and_results_come_in_batch_order():
    start = Recorder()
    window = LookAhead(batches(7), 1, start)
    consumed = []

    while (head := window.head()) is not None:
        consumed.append(head)
        window.advance()
        assert len(start.started) == min(len(consumed) + 2, 7)

    assert consumed == start.started == list(range(1, 8))


def test_abandon_returns_exactly_what_was_started_and_never_consumed():
    start = Recorder()
    window = LookAhead(batches(10), 2, start)
    window.advance()
    window.advance()

    pending = window.abandon()

    assert pending == [3, 4, 5, 6]
    assert window.head() is None
    assert start.started == [1, 2, 3, 4, 5, 6]


def test_fewer_batches_than_the_window_are_all_started_at_once():
    start = Recorder()

    LookAhead(batches(3), 16, start)

    assert start.started == [1, 2, 3]


def test_one_batch_or_one_slot_runs_inline():
    assert runs_inline(batches(1), 16)
    assert runs_inline(batches(5), 1)
    assert not runs_inline(batches(2), 2)
