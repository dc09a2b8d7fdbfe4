"""Vectors as lists of floats, kept off the cyclic garbage collector (results.float_lists)."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

from orq_embeddings.results import float_lists

VECTORS = np.random.default_rng(7).standard_normal((5, 16), dtype=np.float32)


def test_the_lists_hold_exactly_the_vectors_floats():
    lists = float_lists(VECTORS)

    assert lists == VECTORS.tolist()
    assert all(type(value) is float for vector in lists for value in vector)


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="a CPython collector detail")
def test_each_vector_is_left_out_of_the_cyclic_collector():
    lists = float_lists(VECTORS)

    assert [gc.is_tracked(vector) for vector in lists] == [False] * len(VECTORS)
    lists[0].append(1.5)  # still an ordinary list
    assert lists[0][-1] == 1.5


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was_found(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        float_lists(VECTORS)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
