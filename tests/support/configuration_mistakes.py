"""The configuration mistakes every surface must refuse with the same message.

Each is a set of keyword arguments that the core client and both adapters take under the same
names, and words its message must contain. A loopback base URL is the default, so only the
missing-key case needs to name orq.ai.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from pydantic import ValidationError

from orq_embeddings import ConfigurationError, OrqEmbeddingsClient

LOCAL_BASE_URL = "http://127.0.0.1:9/v2/router"
MODEL = "openai/text-embedding-3-small"


class Mistake(NamedTuple):
    settings: dict[str, Any]
    says: tuple[str, ...]


MISTAKES = {
    "missing key": Mistake(
        {"base_url": "https://api.orq.ai/v2/router"},
        ("no orq.ai API key for https://api.orq.ai/v2/router", "ORQ_API_KEY"),
    ),
    "retry.count 9": Mistake(
        {"orq": {"retry": {"count": 9}}}, ("orq.retry.count: must be from 0 to 5, got 9",)
    ),
    "unknown orq key": Mistake(
        {"orq": {"retyr": {"count": 1}}},
        (
            "orq: has no key 'retyr'; the valid keys are cache, fallback_on_codes, fallbacks, "
            "identity (or contact), load_balancer, name, retry, timeout (did you mean 'retry'?)",
        ),
    ),
    "space of another model": Mistake(
        {"space": "text-embedding-3-large:1536:none"},
        (
            "space: text-embedding-3-large:1536:none names the model text-embedding-3-large, but "
            "the client calls openai/text-embedding-3-small, so every answer would be refused",
        ),
    ),
    "dimensions 0": Mistake({"dimensions": 0}, ("dimensions: must be at least 1, got 0",)),
    "requests_per_minute 0": Mistake(
        {"requests_per_minute": 0}, ("requests_per_minute: must be at least 1, got 0",)
    ),
    "tokens_per_minute -5": Mistake(
        {"tokens_per_minute": -5}, ("tokens_per_minute: must be at least 1, got -5",)
    ),
    "rate_limit_window 0": Mistake(
        {"rate_limit_window": 0}, ("rate_limit_window: must be greater than 0.0, got 0",)
    ),
    "logo_url on the router": Mistake(
        {"orq": {"identity": {"id": "u1", "logo_url": "https://example.com/a.jpg"}}},
        ("orq.identity.logo_url: cannot be sent to the router", "documentation", "schema"),
    ),
    "verify names no file": Mistake(
        {"verify": "/no/such/ca-bundle.pem"},
        ("verify names no file or directory: '/no/such/ca-bundle.pem'", "CA bundle"),
    ),
    "proxy is no URL": Mistake(
        {"proxy": "socks5://user:hunter2@proxy.example:1080"},
        ("proxy must be an http:// or https:// URL", "socks5://***@proxy.example:1080"),
    ),
    "plain http through a proxy": Mistake(
        {"api_key": "sk-fake", "proxy": "http://proxy.example:3128"},
        ("refusing to send the API key over plain http through the proxy proxy.example",),
    ),
}


def settings_of(mistake: Mistake) -> dict[str, Any]:
    """The mistake's settings, on the loopback base URL unless it names another."""
    return {"base_url": LOCAL_BASE_URL, **mistake.settings}


def assert_adapter_says_what_the_core_says(make: Callable[..., object], mistake: Mistake) -> None:
    """``make(**settings)``, an adapter, refuses the mistake with the core's message, problems."""
    with pytest.raises(ConfigurationError) as core:
        OrqEmbeddingsClient(MODEL, **settings_of(mistake))
    with pytest.raises(ValidationError) as caught:
        make(**settings_of(mistake))
    assert str(core.value) in str(caught.value)
    assert caught.value.errors()[0]["ctx"]["error"].problems == core.value.problems
