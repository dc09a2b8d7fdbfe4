"""The option models: orq's documented JSON is accepted, and every limit is named when broken."""

import pytest
from pydantic import ValidationError

from orq_embeddings import (
    ConfigurationError,
    EmbeddingSettings,
    Identity,
    LoadBalancer,
    OrqOptions,
    RetryOptions,
)


def test_accepts_the_gateway_orq_object_from_orqs_docs():
    options = OrqOptions.model_validate(
        {
            "name": "ingest",
            "fallbacks": [{"model": "openai/text-embedding-3-large"}],
            "cache": {"type": "exact_match", "ttl": 3600},
            "retry": {"count": 3, "on_codes": [429, 500, 502, 503, 504]},
            "contact": {
                "id": "contact_01",
                "display_name": "Jane Doe",
                "email": "jane@example.com",
                "metadata": [{"department": "Engineering"}],
                "tags": ["hr"],
            },
            "load_balancer": [
                {"model": "openai/text-embedding-3-small", "weight": 0.7},
                {"model": "cohere/embed-english-v3.0", "weight": 0.3},
            ],
            "timeout": {"call_timeout": 30000},
        }
    )
    assert options.identity is not None and options.identity.id == "contact_01"
    assert options.load_balancer is not None
    assert [m.weight for m in options.load_balancer.models] == [0.7, 0.3]
    assert options.timeout is not None and options.timeout.call_timeout == 30000


def test_accepts_the_router_load_balancer_form():
    balancer = LoadBalancer.model_validate(
        {"type": "weight_based", "models": [{"model": "a/b", "weight": 1}]}
    )
    assert balancer.models[0].model == "a/b"


def test_accepts_fallbacks_as_bare_model_ids():
    options = OrqOptions(fallbacks=["openai/text-embedding-3-large"])
    assert options.fallbacks is not None
    assert options.fallbacks[0].model == "openai/text-embedding-3-large"


def test_rejects_identity_and_contact_together():
    with pytest.raises(ValidationError, match="either 'identity' or 'contact'"):
        OrqOptions.model_validate({"identity": {"id": "a"}, "contact": {"id": "b"}})


def _error_for(model, data):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return str(caught.value)


@pytest.mark.parametrize(
    ("data", "field", "limit"),
    [
        ({"retry": {"count": 6}}, "retry.count", "less than or equal to 5"),
        ({"retry": {"count": -1}}, "retry.count", "greater than or equal to 0"),
        ({"retry": {"count": 1, "on_codes": [429, 429]}}, "retry.on_codes", "unique"),
        ({"retry": {"count": 1, "on_codes": [99]}}, "retry.on_codes", "100-599"),
        ({"fallback_on_codes": [600]}, "fallback_on_codes", "400-599"),
        ({"fallback_on_codes": [500, 500]}, "fallback_on_codes", "unique"),
        ({"cache": {"ttl": 0}}, "cache.ttl", "greater than or equal to 1"),
        ({"cache": {"ttl": 259_201}}, "cache.ttl", "less than or equal to 259200"),
        ({"cache": {"type": "semantic"}}, "cache.type", "'exact_match'"),
        (
            {"load_balancer": [{"model": "a/b", "weight": 0}]},
            "load_balancer.models.0.weight",
            "greater than 0",
        ),
        (
            {"load_balancer": [{"model": "a/b", "weight": float("inf")}]},
            "load_balancer.models.0.weight",
            "finite number",
        ),
        ({"load_balancer": []}, "load_balancer.models", "at least 1"),
        ({"timeout": {"call_timeout": 0}}, "timeout.call_timeout", "greater than or equal to 1"),
        ({"identity": {"id": ""}}, "identity.id", "at least 1 character"),
        ({"identity": {"id": "x" * 256}}, "identity.id", "at most 255 characters"),
        ({"identity": {"id": "a", "metadata": [{}] * 21}}, "identity.metadata", "at most 20"),
        ({"retries": 3}, "retries", "Extra inputs are not permitted"),
    ],
)
def test_validation_error_names_the_field_and_the_limit(data, field, limit):
    message = _error_for(OrqOptions, data)
    assert field in message
    assert limit in message


def test_retry_count_is_required_as_in_the_sdk_schema():
    assert "count" in _error_for(RetryOptions, {"on_codes": [500]})


def test_settings_validate_dimensions_and_encoding():
    assert "dimensions" in _error_for(EmbeddingSettings, {"model": "m", "dimensions": 0})
    assert "encoding_format" in _error_for(
        EmbeddingSettings, {"model": "m", "encoding_format": "int8"}
    )
    assert "model" in _error_for(EmbeddingSettings, {"model": ""})


def test_merged_replaces_only_the_fields_given():
    base = OrqOptions(name="ingest", cache={"ttl": 60})
    merged = base.merged({"identity": {"id": "tenant-7"}})
    assert merged.name == "ingest"
    assert merged.cache == base.cache
    assert merged.identity == Identity(id="tenant-7")
    assert base.identity is None


def test_merged_accepts_contact_as_the_identity():
    merged = OrqOptions().merged({"contact": {"id": "c1"}})
    assert merged.identity == Identity(id="c1")


def test_parse_refuses_with_a_configuration_error_naming_the_orq_path():
    with pytest.raises(ConfigurationError) as caught:
        OrqOptions.parse({"retry": {"count": 9}, "cache": {"ttl": 0}})
    assert str(caught.value) == (
        "orq.retry.count: must be from 0 to 5, got 9; "
        "orq.cache.ttl: must be from 1 to 259200, got 0"
    )


def test_parse_lists_the_valid_keys_for_an_unknown_one_and_the_likely_one():
    with pytest.raises(
        ConfigurationError, match=r"orq: has no key 'fallback'.*fallbacks"
    ) as caught:
        OrqOptions.parse({"fallback": ["a/b"]})
    assert "did you mean 'fallbacks'?" in str(caught.value)


def test_parse_says_which_key_is_missing_and_passes_a_validators_own_words():
    with pytest.raises(ConfigurationError, match=r"^orq.retry.count: is required but missing$"):
        OrqOptions.parse({"retry": {"on_codes": [500]}})
    with pytest.raises(
        ConfigurationError, match=r"^orq.retry.on_codes: status codes must be unique"
    ):
        OrqOptions.parse({"retry": {"count": 1, "on_codes": [429, 429]}})


def test_parse_takes_none_and_options_as_they_are():
    assert OrqOptions.parse(None) == OrqOptions()
    options = OrqOptions(name="ingest")
    assert OrqOptions.parse(options) == options


def test_merged_refuses_bad_changes_with_a_configuration_error():
    with pytest.raises(ConfigurationError, match="orq.identity.id"):
        OrqOptions().merged({"identity": {"id": ""}})
