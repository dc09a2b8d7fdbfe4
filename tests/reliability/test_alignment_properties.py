"""Whatever the texts and however a call is cut up and run, vector ``i`` is text ``i``'s own.

A misaligned vector corrupts a search index silently, so this is stated as a property: for any
list of valid texts (any unicode, long texts, duplicates), any batch size, size budget and
concurrency, every output vector equals the single-text embedding of the input at its position.
The local gateway's vectors are a pure function of the text, which makes "its own" exact.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orq_embeddings.gateway import GatewayConfig, GatewayPool, LocalGateway
from tests.support.surfaces import HASHING_64, KEY, Call, core_client

#: Bounded so the whole property runs in seconds; each example is one call of up to 40 texts.
EXAMPLES = 40
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Any unicode but lone surrogates, which UTF-8 cannot carry and the client refuses up front.
short_texts = st.text(min_size=1, max_size=40).filter(lambda text: not text.isspace())
# Long texts outgrow small size budgets; repeating a drawn text keeps generating them cheap.
long_texts = short_texts.map(lambda text: text * (4_000 // len(text) + 1))
texts = st.lists(short_texts | long_texts, min_size=1, max_size=12).flatmap(
    # Draw the call's texts from a small pool, so duplicates are common.
    lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=40)
)
call_shapes = st.fixed_dictionaries(
    {
        "batch_size": st.integers(min_value=1, max_value=16),
        "max_batch_bytes": st.integers(min_value=1, max_value=8_000),
        "max_concurrency": st.integers(min_value=1, max_value=8),
    }
)


@pytest.fixture(scope="module")
def gateway(orq_gateway_pool: GatewayPool) -> LocalGateway:
    """One gateway for every example: hypothesis runs a test body many times per fixture."""
    return orq_gateway_pool.get(GatewayConfig(api_key=KEY, models=(HASHING_64,)))


@BOUNDED
@given(texts=texts, shape=call_shapes)
def test_every_vector_of_a_sync_call_is_its_own_texts_single_embedding(
    gateway, reference, texts, shape
):
    with core_client(Call(base_url=gateway.base_url, **shape)) as client:
        vectors = client.embed(texts).vectors

    assert vectors == reference.vectors(texts)


@BOUNDED
@given(texts=texts, shape=call_shapes)
def test_every_vector_of_an_async_call_is_its_own_texts_single_embedding(
    gateway, reference, texts, shape
):
    async def embed() -> list[list[float]]:
        async with core_client(Call(base_url=gateway.base_url, **shape)) as client:
            return (await client.aembed(texts)).vectors

    assert asyncio.run(embed()) == reference.vectors(texts)


@BOUNDED
@given(texts=texts, shape=call_shapes)
def test_every_row_of_a_numpy_call_is_its_own_texts_single_embedding(
    gateway, reference, texts, shape
):
    with core_client(Call(base_url=gateway.base_url, **shape)) as client:
        rows = client.embed_numpy(texts).tolist()

    assert rows == reference.vectors(texts)
