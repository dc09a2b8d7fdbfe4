"""Request bodies in both dialects: golden bodies, and the official SDK's schema as an oracle."""

import json

import pytest
from orq_ai_sdk.models import CreateEmbeddingRequestBody

from orq_embeddings import EmbeddingSettings, OrqEmbeddingsClient
from orq_embeddings._wire.dialects import (
    Dialect,
    dialect_for_base_url,
    encode_request,
    request_body,
    request_template,
)
from orq_embeddings.errors import UnsupportedOptionError

EVERY_OPTION = {
    "name": "ingest",
    "fallbacks": [{"model": "openai/text-embedding-3-large"}],
    "fallback_on_codes": [429, 503],
    "retry": {"count": 3, "on_codes": [429, 500]},
    "cache": {"type": "exact_match", "ttl": 3600},
    "load_balancer": [
        {"model": "openai/text-embedding-3-small", "weight": 0.7},
        {"model": "cohere/embed-english-v3.0", "weight": 0.3},
    ],
    "timeout": {"call_timeout": 30000},
    "identity": {
        "id": "contact_01",
        "display_name": "Jane Doe",
        "email": "jane@example.com",
        "metadata": [{"department": "Engineering"}],
        "tags": ["hr"],
    },
}


def settings(**orq):
    return EmbeddingSettings(
        model="openai/text-embedding-3-small", dimensions=512, user="u1", orq=orq
    )


def test_router_body_puts_routing_at_the_top_and_identity_under_orq():
    body = request_body(request_template(settings(**EVERY_OPTION), Dialect.ROUTER), ["a", "b"])
    assert body == {
        "input": ["a", "b"],
        "model": "openai/text-embedding-3-small",
        "encoding_format": "base64",
        "dimensions": 512,
        "user": "u1",
        "name": "ingest",
        "fallbacks": [{"model": "openai/text-embedding-3-large"}],
        "fallback_on_codes": [429, 503],
        "retry": {"count": 3, "on_codes": [429, 500]},
        "cache": {"type": "exact_match", "ttl": 3600},
        "load_balancer": {
            "type": "weight_based",
            "models": [
                {"model": "openai/text-embedding-3-small", "weight": 0.7},
                {"model": "cohere/embed-english-v3.0", "weight": 0.3},
            ],
        },
        "timeout": {"call_timeout": 30000},
        "orq": {"identity": EVERY_OPTION["identity"]},
    }


def test_gateway_body_nests_everything_in_orq_with_a_list_balancer_and_contact():
    gateway_options = {k: v for k, v in EVERY_OPTION.items() if k != "fallback_on_codes"}
    body = request_body(request_template(settings(**gateway_options), Dialect.GATEWAY), ["a"])
    assert body == {
        "input": ["a"],
        "model": "openai/text-embedding-3-small",
        "encoding_format": "base64",
        "dimensions": 512,
        "user": "u1",
        "orq": {
            "name": "ingest",
            "fallbacks": [{"model": "openai/text-embedding-3-large"}],
            "retry": {"count": 3, "on_codes": [429, 500]},
            "cache": {"type": "exact_match", "ttl": 3600},
            "load_balancer": [
                {"model": "openai/text-embedding-3-small", "weight": 0.7},
                {"model": "cohere/embed-english-v3.0", "weight": 0.3},
            ],
            "timeout": {"call_timeout": 30000},
            "contact": EVERY_OPTION["identity"],
        },
    }


LOGO = "https://example.com/a.jpg"


@pytest.mark.parametrize("person", ["identity", "contact"])
def test_router_refuses_logo_url_saying_the_docs_and_the_schema_disagree(person):
    with pytest.raises(UnsupportedOptionError, match="logo_url") as refused:
        request_template(settings(**{person: {"id": "u1", "logo_url": LOGO}}), Dialect.ROUTER)
    assert "documentation" in str(refused.value) and "schema" in str(refused.value)


def test_gateway_body_sends_the_contact_logo_url():
    body = request_template(settings(identity={"id": "u1", "logo_url": LOGO}), Dialect.GATEWAY)
    assert body["orq"]["contact"] == {"id": "u1", "logo_url": LOGO}


def test_gateway_refuses_fallback_on_codes_as_router_only():
    with pytest.raises(UnsupportedOptionError, match="router-only"):
        request_template(settings(fallback_on_codes=[503]), Dialect.GATEWAY)


def test_a_client_for_the_gateway_refuses_fallback_on_codes_at_construction():
    with pytest.raises(UnsupportedOptionError, match="fallback_on_codes"):
        OrqEmbeddingsClient(
            "m", base_url="http://127.0.0.1:9/v2/gateway", orq={"fallback_on_codes": [503]}
        )


def test_with_options_refuses_logo_url_on_the_router():
    client = OrqEmbeddingsClient("m", base_url="http://127.0.0.1:9/v2/router")
    with pytest.raises(UnsupportedOptionError, match="logo_url"):
        client.with_options(orq={"identity": {"id": "u1", "logo_url": LOGO}})


@pytest.mark.parametrize("dialect", list(Dialect))
def test_unset_fields_are_omitted_never_null(dialect):
    minimal = EmbeddingSettings(model="openai/text-embedding-3-small")
    body = request_body(request_template(minimal, dialect), ["a"])
    assert body == {
        "input": ["a"],
        "model": "openai/text-embedding-3-small",
        "encoding_format": "base64",
    }


def test_token_ids_are_sent_as_an_array_of_arrays():
    template = request_template(EmbeddingSettings(model="m"), Dialect.ROUTER)
    assert json.loads(encode_request(template, [(1, 2), [3]]))["input"] == [[1, 2], [3]]


def test_encoded_body_is_compact_utf8():
    template = request_template(EmbeddingSettings(model="m"), Dialect.ROUTER)
    assert encode_request(template, ["héllo"]).startswith('{"input":["héllo"]'.encode())


@pytest.mark.parametrize(
    ("base_url", "dialect"),
    [
        ("https://api.orq.ai/v2/router", Dialect.ROUTER),
        ("https://api.orq.ai/v3/router/", Dialect.ROUTER),
        ("https://api.orq.ai/v2/gateway", Dialect.GATEWAY),
        ("http://127.0.0.1:8080/v2/gateway/", Dialect.GATEWAY),
    ],
)
def test_dialect_follows_the_base_url(base_url, dialect):
    assert dialect_for_base_url(base_url) == dialect


ROUTER_CASES = {
    "minimal": {},
    "every option": {k: v for k, v in EVERY_OPTION.items()},
    "router balancer form": {
        "load_balancer": {"type": "weight_based", "models": [{"model": "a/b", "weight": 1}]}
    },
    "cache without ttl": {"cache": {"type": "exact_match"}},
    "retry without codes": {"retry": {"count": 0}},
    "identity only id": {"identity": {"id": "x"}},
}


@pytest.mark.parametrize("orq", ROUTER_CASES.values(), ids=ROUTER_CASES.keys())
@pytest.mark.parametrize("inputs", [["a", "b"], [[1, 2, 3]]], ids=["text", "tokens"])
def test_every_router_body_validates_against_the_official_sdk_schema(orq, inputs):
    body = json.loads(encode_request(request_template(settings(**orq), Dialect.ROUTER), inputs))
    parsed = CreateEmbeddingRequestBody.model_validate(body)
    # The SDK model ignores unknown keys rather than rejecting them, so compare the round trip:
    # a key we send that the SDK does not know would be missing from its dump.
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == body
