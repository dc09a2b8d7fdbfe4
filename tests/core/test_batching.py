"""Batch planning: by count, by size budget, consecutive and complete."""

import pytest

from orq_embeddings._wire.batching import input_size, plan_batches


def spans(batches):
    return [(batch.start, batch.stop) for batch in batches]


def test_cuts_by_count():
    batches = plan_batches(["a"] * 7, max_inputs=3, max_bytes=10_000)
    assert spans(batches) == [(0, 3), (3, 6), (6, 7)]
    assert [batch.total for batch in batches] == [3, 3, 3]


def test_cuts_by_size_budget():
    batches = plan_batches(["aaaa", "bbbb", "cccc", "d"], max_inputs=100, max_bytes=8)
    assert spans(batches) == [(0, 2), (2, 4)]


def test_an_input_larger_than_the_budget_goes_alone():
    batches = plan_batches(["a", "x" * 50, "b"], max_inputs=100, max_bytes=10)
    assert spans(batches) == [(0, 1), (1, 2), (2, 3)]


def test_counts_utf8_bytes_and_token_ids():
    assert input_size("héllo") == 6
    assert input_size([1, 2, 3]) == 12


def test_no_inputs_no_batches():
    assert plan_batches([], max_inputs=5, max_bytes=5) == []


def test_rejects_non_positive_limits():
    with pytest.raises(ValueError, match="at least 1"):
        plan_batches(["a"], max_inputs=0, max_bytes=5)


def test_describes_a_batch_for_error_messages():
    batch = plan_batches(["a"] * 10, max_inputs=4, max_bytes=100)[1]
    assert batch.describe() == "batch 2 of 3 (inputs 4-7)"
