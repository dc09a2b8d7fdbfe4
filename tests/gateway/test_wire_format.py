"""Responses have the shape shared/spec gives, in both dialects and both encodings."""

from __future__ import annotations

import numpy as np
import pytest

from orq_embeddings.gateway import TRACE_ID_HEADER
from tests.support.gateway_http import COHERE, HTTP, SMALL, embed, vectors_of


def test_answers_an_embeddings_list_with_one_indexed_item_per_input(gateway):
    response = embed(gateway, {"input": ["first", "second", "third"], "model": SMALL})

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert all(item["object"] == "embedding" for item in body["data"])
    assert all(len(item["embedding"]) == 1536 for item in body["data"])


def test_names_the_serving_model_without_its_provider_prefix(gateway):
    response = embed(gateway, {"input": "x", "model": COHERE})

    assert response.json()["model"] == "embed-english-v3.0"


def test_vectors_have_the_models_native_size(gateway):
    response = embed(gateway, {"input": "x", "model": "openai/text-embedding-3-large"})

    assert vectors_of(response).shape == (1, 3072)


def test_a_single_string_input_gets_one_vector(gateway):
    response = embed(gateway, {"input": "just one", "model": SMALL})

    assert len(response.json()["data"]) == 1


def test_vectors_are_unit_length(gateway):
    response = embed(gateway, {"input": ["a short text", "another one"], "model": SMALL})

    assert np.allclose(np.linalg.norm(vectors_of(response), axis=1), 1.0, atol=1e-5)


def test_base64_is_little_endian_float32_of_the_same_vector(gateway):
    body = {"input": ["same text"], "model": SMALL}
    as_floats = embed(gateway, {**body, "encoding_format": "float"})
    as_base64 = embed(gateway, {**body, "encoding_format": "base64"})

    assert isinstance(as_base64.json()["data"][0]["embedding"], str)
    assert np.array_equal(vectors_of(as_base64), vectors_of(as_floats))


def test_float_is_the_default_encoding(gateway):
    response = embed(gateway, {"input": "x", "model": SMALL})

    assert isinstance(response.json()["data"][0]["embedding"], list)


def test_usage_counts_word_and_punctuation_tokens(gateway):
    response = embed(gateway, {"input": ["Hello, world!", "two words"], "model": SMALL})

    assert response.json()["usage"] == {"prompt_tokens": 6, "total_tokens": 6}


def test_usage_counts_one_token_per_token_id(gateway):
    response = embed(gateway, {"input": [[101, 102, 103]], "model": SMALL})

    assert response.status_code == 200
    assert response.json()["usage"]["prompt_tokens"] == 3


def test_every_answer_carries_a_trace_id(gateway):
    ok = embed(gateway, {"input": "x", "model": SMALL})
    bad = embed(gateway, {"input": "", "model": SMALL})

    assert ok.headers[TRACE_ID_HEADER]
    assert bad.headers[TRACE_ID_HEADER]
    assert ok.headers[TRACE_ID_HEADER] != bad.headers[TRACE_ID_HEADER]


def test_every_answer_carries_a_span_id(gateway):
    ok = embed(gateway, {"input": "x", "model": SMALL})
    bad = embed(gateway, {"input": "", "model": SMALL})

    assert ok.headers["x-orq-trace-span-id"] != bad.headers["x-orq-trace-span-id"]


def test_dimensions_shortens_and_renormalises(gateway):
    full = vectors_of(embed(gateway, {"input": "shorten me please", "model": SMALL}))
    short = vectors_of(
        embed(gateway, {"input": "shorten me please", "model": SMALL, "dimensions": 256})
    )

    assert short.shape == (1, 256)
    assert np.isclose(np.linalg.norm(short), 1.0, atol=1e-5)
    expected = full[:, :256] / np.linalg.norm(full[:, :256])
    assert np.allclose(short, expected, atol=1e-6)


@pytest.mark.parametrize("path", ["v2/router", "v3/router"])
def test_router_paths_speak_the_router_dialect(gateway, path):
    body = {"input": "x", "model": SMALL, "fallbacks": [{"model": COHERE}]}

    assert embed(gateway, body, dialect=path).status_code == 200


def test_gateway_path_takes_routing_options_inside_orq(gateway):
    body = {
        "input": "x",
        "model": SMALL,
        "orq": {
            "fallbacks": [{"model": COHERE}],
            "load_balancer": [{"model": SMALL, "weight": 1}],
            "contact": {"id": "contact_01"},
        },
    }

    assert embed(gateway, body, dialect="v2/gateway").status_code == 200


def test_gateway_path_accepts_the_example_body_from_orqs_docs(gateway):
    body = {
        "input": "...",
        "model": SMALL,
        "encoding_format": "float",
        "dimensions": 512,
        "user": "u1",
        "orq": {
            "name": "ingest",
            "fallbacks": [{"model": "openai/text-embedding-3-large"}],
            "cache": {"type": "exact_match", "ttl": 3600},
            "retry": {"count": 3, "on_codes": [429, 500, 502, 503, 504]},
            "contact": {
                "id": "contact_01ARZ3NDEKTSV4RRFFQ69G5FAV",
                "display_name": "Jane Doe",
                "email": "jane@example.com",
                "metadata": [{"department": "Engineering"}],
                "logo_url": "https://example.com/a.jpg",
                "tags": ["hr"],
            },
            "load_balancer": [
                {"model": SMALL, "weight": 0.7},
                {"model": "openai/text-embedding-3-large", "weight": 0.3},
            ],
            "timeout": {"call_timeout": 30000},
        },
    }

    response = embed(gateway, body, dialect="v2/gateway")

    assert response.status_code == 200
    assert vectors_of(response).shape == (1, 512)


def test_an_unknown_path_is_an_orq_style_404(gateway):
    response = HTTP.post(f"{gateway.url}/v2/router/chat", json={})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_get_on_the_embeddings_path_is_a_405(gateway):
    response = HTTP.get(f"{gateway.base_url}/embeddings")

    assert response.status_code == 405


@pytest.mark.parametrize(
    ("body", "status", "kind", "param"),
    [
        ({"input": "x", "model": SMALL, "bogus": 1}, 400, "invalid_request_error", "bogus"),
        ({"input": "x", "model": "openai/missing"}, 404, "not_found_error", "model"),
    ],
    ids=["400", "404"],
)
def test_error_bodies_carry_code_message_param_and_type(gateway, body, status, kind, param):
    response = embed(gateway, body)

    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"code", "message", "param", "type"}
    assert (error["type"], error["param"]) == (kind, param)
