"""Strict validation: every malformed request is a 4xx naming what is wrong, never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orq_embeddings.gateway import GatewayConfig, LocalGateway
from tests.support.gateway_http import COHERE, SMALL, embed, embed_raw, error_of

VALID = {"input": ["hello"], "model": SMALL}


def rejected(response, status: int = 400) -> str:
    """The message of an error response, after checking its status and orq-style code."""
    assert response.status_code == status, response.text
    if status == 400:
        assert error_of(response)["code"] == "invalid_request_body"
    return error_of(response)["message"]


def test_an_unknown_top_level_field_is_rejected_by_name(gateway):
    message = rejected(embed(gateway, {**VALID, "temperature": 0.2}))

    assert "`temperature`" in message


def test_an_unknown_nested_field_is_rejected_by_its_path(gateway):
    message = rejected(embed(gateway, {**VALID, "retry": {"count": 1, "backoff": 2}}))

    assert "`retry.backoff`" in message


def test_routing_fields_at_the_top_level_are_unknown_in_the_gateway_dialect(gateway):
    body = {**VALID, "fallbacks": [{"model": COHERE}]}

    message = rejected(embed(gateway, body, dialect="v2/gateway"))

    assert "`fallbacks`" in message


def test_identity_is_unknown_in_the_gateway_dialect_which_says_contact(gateway):
    body = {**VALID, "orq": {"identity": {"id": "u1"}}}

    assert "`orq.identity`" in rejected(embed(gateway, body, dialect="v2/gateway"))


def test_the_router_load_balancer_must_be_an_object_not_a_bare_list(gateway):
    body = {**VALID, "load_balancer": [{"model": SMALL, "weight": 1}]}

    assert "`load_balancer`" in rejected(embed(gateway, body))


def test_an_empty_string_input_is_rejected(gateway):
    assert "`input`" in rejected(embed(gateway, {**VALID, "input": ""}))


def test_an_empty_string_in_the_input_list_is_rejected_by_position(gateway):
    message = rejected(embed(gateway, {**VALID, "input": ["fine", ""]}))

    assert "`input[1]`" in message


def test_an_empty_input_list_is_rejected(gateway):
    assert "`input`" in rejected(embed(gateway, {**VALID, "input": []}))


def test_a_flat_list_of_token_ids_is_rejected_with_the_fix(gateway):
    message = rejected(embed(gateway, {**VALID, "input": [1, 2, 3]}))

    assert "[[...]]" in message


@pytest.mark.parametrize("bad", [[], [-1], [1.5], [True], ["a"]])
def test_a_malformed_token_id_list_is_rejected(gateway, bad):
    assert "`input[0]`" in rejected(embed(gateway, {**VALID, "input": [bad]}))


def test_a_missing_model_is_rejected(gateway):
    assert "`model` is required" in rejected(embed(gateway, {"input": ["x"]}))


def test_a_number_as_a_string_is_a_wrong_type(gateway):
    assert "`dimensions`" in rejected(embed(gateway, {**VALID, "dimensions": "256"}))


def test_an_unknown_encoding_format_is_rejected(gateway):
    assert "`encoding_format`" in rejected(embed(gateway, {**VALID, "encoding_format": "int8"}))


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("retry", {"count": 6}, "`retry.count`"),
        ("retry", {"count": 1, "on_codes": [500, 500]}, "`retry.on_codes`"),
        ("cache", {"type": "exact_match", "ttl": 259_201}, "`cache.ttl`"),
        ("cache", {"type": "semantic", "ttl": 10}, "`cache.type`"),
        ("timeout", {"call_timeout": 0}, "`timeout.call_timeout`"),
        ("fallback_on_codes", [200], "`fallback_on_codes`"),
        ("fallbacks", [{"model": ""}], "`fallbacks[0].model`"),
        ("dimensions", 0, "`dimensions`"),
    ],
)
def test_an_out_of_range_option_is_rejected_by_name(gateway, field, value, named):
    assert named in rejected(embed(gateway, {**VALID, field: value}))


def test_a_load_balancer_weight_must_be_positive(gateway):
    body = {
        **VALID,
        "load_balancer": {"type": "weight_based", "models": [{"model": SMALL, "weight": 0}]},
    }

    assert "`load_balancer.models[0].weight`" in rejected(embed(gateway, body))


def test_too_long_an_identity_id_is_rejected(gateway):
    body = {**VALID, "orq": {"identity": {"id": "x" * 256}}}

    assert "`orq.identity.id`" in rejected(embed(gateway, body))


def test_dimensions_on_a_fixed_size_model_is_rejected(gateway):
    message = rejected(embed(gateway, {"input": "x", "model": COHERE, "dimensions": 512}))

    assert "`dimensions`" in message and COHERE in message


def test_dimensions_above_the_native_size_is_rejected(gateway):
    message = rejected(embed(gateway, {**VALID, "dimensions": 1537}))

    assert "1536" in message


def test_invalid_json_is_rejected(gateway):
    assert "not valid JSON" in rejected(embed_raw(gateway, b'{"input": "x",'))


def test_a_body_that_is_not_an_object_is_rejected(gateway):
    assert "JSON object" in rejected(embed_raw(gateway, b'["x"]'))


def test_every_problem_is_listed_at_once(gateway):
    message = rejected(embed(gateway, {"input": "x", "model": "", "dimensions": "9", "foo": 1}))

    assert "`model`" in message and "`dimensions`" in message and "`foo`" in message


class TestLimits:
    @pytest.fixture
    def config(self):
        return GatewayConfig(max_inputs=3, max_body_bytes=2_000)

    def test_more_inputs_than_max_inputs_is_a_400_naming_the_limit(self, gateway):
        message = rejected(embed(gateway, {**VALID, "input": ["a", "b", "c", "d"]}))

        assert "at most 3" in message

    def test_max_inputs_inputs_are_accepted(self, gateway):
        assert embed(gateway, {**VALID, "input": ["a", "b", "c"]}).status_code == 200

    def test_a_body_larger_than_max_body_bytes_is_a_413(self, gateway):
        response = embed(gateway, {**VALID, "input": ["x" * 3_000]})

        assert "max_body_bytes" in rejected(response, 413)
        assert error_of(response)["code"] == "request_too_large"


class TestApiKey:
    @pytest.fixture
    def config(self):
        return GatewayConfig(api_key="sk-local-secret")

    def test_a_request_without_a_key_is_a_401(self, gateway):
        response = embed(gateway, VALID)

        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_api_key"

    def test_a_wrong_key_is_a_401_that_does_not_echo_it(self, gateway):
        response = embed(gateway, VALID, headers={"Authorization": "Bearer sk-guess"})

        assert response.status_code == 401
        assert "sk-guess" not in response.text

    def test_the_right_bearer_key_is_accepted(self, gateway):
        headers = {"Authorization": "Bearer sk-local-secret"}

        assert embed(gateway, VALID, headers=headers).status_code == 200


def test_without_an_api_key_any_key_or_none_is_accepted(gateway):
    assert embed(gateway, VALID).status_code == 200
    assert embed(gateway, VALID, headers={"Authorization": "Bearer whatever"}).status_code == 200


# A gateway for the whole fuzzing run: hypothesis calls the test body many times.
@pytest.fixture(scope="module")
def fuzz_gateway():
    with LocalGateway(GatewayConfig(max_body_bytes=100_000)) as running:
        yield running


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "input",
        "model",
        "encoding_format",
        "dimensions",
        "user",
        "name",
        "fallbacks",
        "fallback_on_codes",
        "retry",
        "cache",
        "load_balancer",
        "timeout",
        "orq",
    ]
)
bodies = st.dictionaries(field_names, json_values, max_size=6).map(
    lambda body: {"input": "x", "model": SMALL, **body}
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, dialect=st.sampled_from(["v2/router", "v2/gateway"]))
def test_no_body_of_known_fields_with_random_values_causes_a_server_error(
    fuzz_gateway, body, dialect
):
    response = embed(fuzz_gateway, body, dialect=dialect)

    assert response.status_code in {200, 400, 404}, response.text
    if response.status_code != 200:
        assert error_of(response)["message"]


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_no_arbitrary_bytes_cause_a_server_error(fuzz_gateway, raw):
    response = embed_raw(fuzz_gateway, raw)

    assert response.status_code == 400, response.text


@settings(max_examples=100, deadline=None)
@given(
    texts=st.lists(st.text(min_size=1), min_size=1, max_size=5),
    model=st.sampled_from([SMALL, "local/precomputed"]),
)
def test_any_non_empty_text_is_embedded(fuzz_gateway, texts, model):
    response = embed(fuzz_gateway, {"input": texts, "model": model})

    assert response.status_code == 200
    assert len(response.json()["data"]) == len(texts)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"fallbacks": [COHERE]}, "`fallbacks[0]`"),
        ({"cache": {"ttl": 60}}, "`cache.type`"),
        ({"retry": {"on_codes": [503]}}, "`retry.count`"),
    ],
    ids=["bare-string-fallback", "cache-without-type", "retry-without-count"],
)
def test_shapes_the_schema_does_not_allow_are_rejected_though_the_client_accepts_them(
    gateway, options, named
):
    assert named in rejected(embed(gateway, {**VALID, **options}))


# -- the schema's nulls, logo_url and fallback_on_codes, empty names, identity with contact --------

_ID = {"id": "u1"}
NOT_NULLABLE = {
    "dimensions": {"dimensions": None},
    "user": {"user": None},
    "name": {"name": None},
    "encoding_format": {"encoding_format": None},
    "cache": {"cache": None},
    "retry": {"retry": None},
    "timeout": {"timeout": None},
    "load_balancer": {"load_balancer": None},
    "orq": {"orq": None},
    "cache.ttl": {"cache": {"type": "exact_match", "ttl": None}},
    "orq.name": {"orq": {"name": None}},
    "orq.cache": {"orq": {"cache": None}},
    "orq.retry": {"orq": {"retry": None}},
    "orq.timeout": {"orq": {"timeout": None}},
    "orq.identity": {"orq": {"identity": None}},
    "orq.contact": {"orq": {"contact": None}},
    "orq.identity.display_name": {"orq": {"identity": {**_ID, "display_name": None}}},
    "orq.identity.email": {"orq": {"identity": {**_ID, "email": None}}},
    "orq.contact.email": {"orq": {"contact": {**_ID, "email": None}}},
}


@pytest.mark.parametrize("fields", NOT_NULLABLE.values(), ids=NOT_NULLABLE.keys())
def test_an_explicit_null_where_the_schema_allows_none_is_refused_by_name(gateway, fields):
    (named,) = [key for key, value in NOT_NULLABLE.items() if value is fields]
    response = embed(gateway, {**VALID, **fields})

    assert f"`{named}`" in rejected(response)
    assert error_of(response)["param"] == named


NULLABLE = {
    "fallbacks": {"fallbacks": None},
    "fallback_on_codes": {"fallback_on_codes": None},
    "retry.on_codes": {"retry": {"count": 1, "on_codes": None}},
    "load_balancer.models": {"load_balancer": {"type": "weight_based", "models": None}},
    "orq.fallbacks": {"orq": {"fallbacks": None}},
    "orq.identity.metadata": {"orq": {"identity": {**_ID, "metadata": None, "tags": None}}},
}


@pytest.mark.parametrize("fields", NULLABLE.values(), ids=NULLABLE.keys())
def test_an_explicit_null_where_the_schema_allows_it_is_served(gateway, fields):
    assert embed(gateway, {**VALID, **fields}).status_code == 200


@pytest.mark.parametrize("person", ["identity", "contact"])
def test_logo_url_is_unknown_on_the_router(gateway, person):
    body = {**VALID, "orq": {person: {**_ID, "logo_url": "https://example.com/a.jpg"}}}

    assert f"`orq.{person}.logo_url`" in rejected(embed(gateway, body))


def test_logo_url_is_served_in_the_gateway_contact(gateway):
    body = {**VALID, "orq": {"contact": {**_ID, "logo_url": "https://example.com/a.jpg"}}}

    assert embed(gateway, body, dialect="v2/gateway").status_code == 200


def test_fallback_on_codes_is_unknown_in_the_gateway_dialect(gateway):
    body = {**VALID, "orq": {"fallback_on_codes": [503]}}

    assert "`orq.fallback_on_codes`" in rejected(embed(gateway, body, dialect="v2/gateway"))


@pytest.mark.parametrize("dialect", ["v2/router", "v2/gateway"])
def test_an_empty_name_is_served(gateway, dialect):
    body = {**VALID, "name": ""} if dialect == "v2/router" else {**VALID, "orq": {"name": ""}}

    assert embed(gateway, body, dialect=dialect).status_code == 200


def test_identity_and_contact_together_are_served_and_identity_wins(gateway):
    body = {**VALID, "orq": {"identity": {"id": "current"}, "contact": {"id": "older"}}}

    assert embed(gateway, body).status_code == 200
    assert gateway.requests()[-1].identity["id"] == "current"
    assert "older" not in gateway.identities()
