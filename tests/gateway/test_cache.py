"""orq's exact-match cache: hits within ttl, misses after, keyed on every parameter."""

from __future__ import annotations

from orq_embeddings.gateway import CACHE_HEADER, ProviderFault
from tests.support.gateway_http import COHERE, SMALL, embed

CACHED = {"input": ["cache me"], "model": SMALL, "cache": {"type": "exact_match", "ttl": 60}}


def test_first_request_is_a_miss_and_the_repeat_a_hit(gateway):
    first = embed(gateway, CACHED)
    second = embed(gateway, CACHED)

    assert first.headers[CACHE_HEADER] == "miss"
    assert second.headers[CACHE_HEADER] == "hit"
    assert second.json() == first.json()


def test_a_hit_calls_no_model(gateway):
    embed(gateway, CACHED)
    embed(gateway, CACHED)

    assert gateway.counters().attempts_by_model == {SMALL: 1}
    assert gateway.counters().cache_hits == 1
    assert gateway.requests()[-1].attempts == ()


def test_a_hit_is_served_even_while_the_model_fails(gateway):
    embed(gateway, CACHED)
    gateway.inject(ProviderFault(model=SMALL, status=503))

    assert embed(gateway, CACHED).status_code == 200


def test_an_entry_expires_after_its_ttl(gateway, clock):
    embed(gateway, CACHED)
    clock.advance(59.9)
    assert embed(gateway, CACHED).headers[CACHE_HEADER] == "hit"

    clock.advance(0.1)

    assert embed(gateway, CACHED).headers[CACHE_HEADER] == "miss"


def test_without_ttl_an_entry_lives_orqs_documented_1800_seconds(gateway, clock):
    body = {**CACHED, "cache": {"type": "exact_match"}}
    embed(gateway, body)
    clock.advance(1799)
    assert embed(gateway, body).headers[CACHE_HEADER] == "hit"

    clock.advance(1)

    assert embed(gateway, body).headers[CACHE_HEADER] == "miss"


def test_a_different_parameter_is_a_different_entry(gateway):
    embed(gateway, CACHED)

    other_format = embed(gateway, {**CACHED, "encoding_format": "base64"})
    other_dimensions = embed(gateway, {**CACHED, "dimensions": 64})
    other_input = embed(gateway, {**CACHED, "input": ["something else"]})
    other_model = embed(gateway, {**CACHED, "model": COHERE})

    for response in (other_format, other_dimensions, other_input, other_model):
        assert response.headers[CACHE_HEADER] == "miss"


def test_the_ttl_itself_is_not_part_of_the_key(gateway):
    embed(gateway, CACHED)

    response = embed(gateway, {**CACHED, "cache": {"type": "exact_match", "ttl": 5}})

    assert response.headers[CACHE_HEADER] == "hit"


def test_requests_without_the_cache_option_neither_use_nor_fill_it(gateway):
    plain = {"input": CACHED["input"], "model": SMALL}
    uncached = embed(gateway, plain)

    assert CACHE_HEADER not in uncached.headers
    assert embed(gateway, CACHED).headers[CACHE_HEADER] == "miss"


def test_the_gateway_dialect_caches_too(gateway):
    body = {"input": "x", "model": SMALL, "orq": {"cache": {"type": "exact_match", "ttl": 60}}}
    embed(gateway, body, dialect="v2/gateway")

    assert embed(gateway, body, dialect="v2/gateway").headers[CACHE_HEADER] == "hit"


def test_a_failed_request_is_not_cached(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=500, times=3))
    assert embed(gateway, CACHED).status_code == 500

    assert embed(gateway, CACHED).headers[CACHE_HEADER] == "miss"


def test_a_string_input_and_a_one_item_list_are_different_requests(gateway):
    embed(gateway, {**CACHED, "input": "x"})

    assert embed(gateway, {**CACHED, "input": ["x"]}).headers[CACHE_HEADER] == "miss"


def test_the_two_dialects_never_share_an_entry(gateway):
    cache = {"type": "exact_match", "ttl": 60}
    embed(gateway, {"input": "x", "model": SMALL, "orq": {"cache": cache}}, dialect="v2/gateway")

    response = embed(gateway, {"input": "x", "model": SMALL, "cache": cache})

    assert response.headers[CACHE_HEADER] == "miss"


def test_the_two_router_versions_share_entries(gateway):
    embed(gateway, CACHED)

    assert embed(gateway, CACHED, dialect="v3/router").headers[CACHE_HEADER] == "hit"
