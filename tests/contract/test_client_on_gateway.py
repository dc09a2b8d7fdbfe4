"""The core client against the local gateway: orq's failures and span ids reach the caller."""

from __future__ import annotations

import pytest

from orq_embeddings import OrqEmbeddingsClient, ServerError
from orq_embeddings.gateway import GatewayConfig, LocalGateway, ProviderFault

SMALL = "openai/text-embedding-3-small"
COHERE = "cohere/embed-english-v3.0"


@pytest.fixture
def gateway():
    with LocalGateway(GatewayConfig()) as running:
        yield running


def test_a_chain_that_failed_everywhere_raises_with_each_attempt_and_the_span(gateway):
    gateway.inject(ProviderFault(status=503))
    orq = {"retry": {"count": 0}, "fallbacks": [{"model": COHERE}]}

    with (
        OrqEmbeddingsClient(SMALL, base_url=gateway.base_url, orq=orq, max_retries=0) as client,
        pytest.raises(ServerError) as raised,
    ):
        client.embed(["x"])

    error = raised.value
    assert error.failures == ({"model": SMALL, "status": 503}, {"model": COHERE, "status": 503})
    assert error.span_id and error.host == gateway.base_url.split("/")[2]
    assert str(error).startswith(f"{error.host} answered 503 provider_overloaded")


def test_a_served_batch_reports_its_span_and_the_attempts_the_client_retried(gateway):
    gateway.inject(ProviderFault(status=503, times=1))
    orq = {"retry": {"count": 0}}

    with OrqEmbeddingsClient(
        SMALL, base_url=gateway.base_url, orq=orq, max_retries=1, sleep=lambda _: None
    ) as client:
        (report,) = client.embed(["x"]).reports

    (failure,) = report.failures
    assert failure.status_code == 503 and failure.failures == ({"model": SMALL, "status": 503},)
    # Each answer has a span of its own: the report's is the one of the answer that served it.
    assert report.span_id and failure.span_id and report.span_id != failure.span_id
