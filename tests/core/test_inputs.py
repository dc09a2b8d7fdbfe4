"""Input checks: every bad position is named before anything is sent."""

import pytest

from orq_embeddings import InvalidInputError
from orq_embeddings._wire.inputs import check_inputs


def test_accepts_text_and_token_ids():
    check_inputs(["hello", [1, 2, 3], (4, 5)])


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("", "is an empty string"),
        ("  \n\t", "is only whitespace"),
        (None, "is None"),
        (3, "is a int, not a string or a list of token ids"),
        (b"bytes", "is a bytes"),
        ([], "is an empty list of token ids"),
        ([1, -2], "not all non-negative int token ids"),
        ([1, "2"], "not all non-negative int token ids"),
        ([True], "not all non-negative int token ids"),
        ("text \ud800 cut", "has a lone surrogate U\\+D800 at character 5, which UTF-8 cannot"),
    ],
)
def test_names_what_is_wrong_with_each_kind_of_bad_input(item, problem):
    with pytest.raises(InvalidInputError, match=problem) as caught:
        check_inputs(["fine", item])
    assert caught.value.positions == (1,)
    assert "input 1" in str(caught.value)


def test_names_every_offending_position_and_is_a_value_error():
    inputs = ["ok", "", None, "ok", " ", "ok", 7]
    with pytest.raises(ValueError, match=r"4 of 7 inputs .*positions 1-2, 4, 6") as caught:
        check_inputs(inputs)
    assert caught.value.positions == (1, 2, 4, 6)


def test_long_lists_of_problems_are_summarised_but_every_position_is_kept():
    inputs = [""] * 25 + ["ok"]
    with pytest.raises(InvalidInputError, match="and 15 more") as caught:
        check_inputs(inputs)
    assert caught.value.positions == tuple(range(25))
    assert "positions 0-24" in str(caught.value)
