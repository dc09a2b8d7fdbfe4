"""The models' vectors: deterministic, meaningful, one space per model, cheap where asked."""

from __future__ import annotations

import numpy as np

from orq_embeddings.gateway import PRECOMPUTED_MODEL_ID
from orq_embeddings.gateway.tokens import plural_stripped
from tests.support.gateway_http import COHERE, MISTRAL, SMALL, embed, vectors_of

PASSAGES = [
    "Paris is the capital of France and its largest city.",
    "The mitochondria is the powerhouse of the cell.",
    "Python is a programming language created by Guido van Rossum.",
    "Photosynthesis lets plants turn light into chemical energy.",
]
QUESTIONS = [
    "What is the capital of France?",
    "What is the powerhouse of the cell?",
    "Who created the Python programming language?",
    "How do plants turn light into energy?",
]


def test_the_same_text_always_gets_the_same_vector(gateway):
    first = vectors_of(embed(gateway, {"input": ["stable text"], "model": SMALL}))
    second = vectors_of(embed(gateway, {"input": ["stable text"], "model": SMALL}))

    assert np.array_equal(first, second)


def test_texts_sharing_words_are_closer_than_texts_that_do_not(gateway):
    texts = ["the quick brown fox", "a quick brown dog", "interest rates rose sharply"]
    fox, dog, rates = vectors_of(embed(gateway, {"input": texts, "model": SMALL}))

    assert fox @ dog > fox @ rates


def test_each_question_retrieves_its_passage(gateway):
    for model in (SMALL, COHERE, MISTRAL):
        passages = vectors_of(embed(gateway, {"input": PASSAGES, "model": model}))
        questions = vectors_of(embed(gateway, {"input": QUESTIONS, "model": model}))

        assert list((questions @ passages.T).argmax(axis=1)) == [0, 1, 2, 3], model


def test_shortened_vectors_still_retrieve_the_right_passage(gateway):
    shortened = {"model": SMALL, "dimensions": 64}
    passages = vectors_of(embed(gateway, {"input": PASSAGES, **shortened}))
    questions = vectors_of(embed(gateway, {"input": QUESTIONS, **shortened}))

    assert list((questions @ passages.T).argmax(axis=1)) == [0, 1, 2, 3]


def test_two_models_of_equal_size_have_different_vector_spaces(gateway):
    cohere = vectors_of(embed(gateway, {"input": ["same words"], "model": COHERE}))
    mistral = vectors_of(embed(gateway, {"input": ["same words"], "model": MISTRAL}))

    assert cohere.shape == mistral.shape
    assert abs(float(cohere[0] @ mistral[0])) < 0.5


def test_token_ids_embed_like_any_input(gateway):
    response = embed(gateway, {"input": [[1, 2, 3], [1, 2, 4], "text"], "model": SMALL})

    same_start, similar, _ = vectors_of(response)
    assert same_start @ similar > 0.3


def test_the_precomputed_model_is_deterministic_and_unit_length(gateway):
    body = {"input": ["a", "b"], "model": PRECOMPUTED_MODEL_ID, "encoding_format": "base64"}
    first = vectors_of(embed(gateway, body))

    assert first.shape == (2, 1536)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, vectors_of(embed(gateway, body)))


def test_plural_and_singular_share_a_word_feature():
    assert [
        plural_stripped(w) for w in ["branches", "roses", "stories", "boxes", "glass", "bus"]
    ] == ["branch", "rose", "story", "box", "glass", "bus"]


def test_azure_serves_openais_vectors_under_the_same_name(gateway):
    for model in ("text-embedding-3-small", "text-embedding-3-large"):
        body = {"input": PASSAGES, "model": f"openai/{model}", "dimensions": 256}
        openai = embed(gateway, body)
        azure = embed(gateway, {**body, "model": f"azure/{model}"})

        assert azure.json()["model"] == openai.json()["model"] == model
        assert np.array_equal(vectors_of(azure), vectors_of(openai))
