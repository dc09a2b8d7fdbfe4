"""What a guarded store is put through: built with one model, then met by what a user does later.

An index is built with :data:`BUILT_WITH` and guarded. Then, as a user (or orq's routing) might,
each scenario opens it with other embeddings, guards it and asks a question:

- ``same``: the same model, reopened: accepted, and the right passage comes back.
- ``swap``: another model of the same width (text-embedding-3-large shortened to 1536, the
  realistic upgrade slip): refused.
- ``other-width``: another model of another width (Cohere's 1024): refused.
- ``fallback-to-other``: guarded while the primary serves, then the primary goes down and orq
  falls back to another model of the same width: the query is refused.
- ``fallback-to-other-at-guard``: the primary is already down when guard() asks which space
  these embeddings make: the probe is served by the fallback, and the guard refuses to take a
  fallback's space for the model's (an empty store is not stamped with it either).
- ``fallback-to-same``: the primary goes down and orq falls back to the same model on another
  provider (Azure's): accepted, and the right passage comes back.

"The primary goes down" is a second local gateway where it is (:data:`PRIMARY_DOWN`): the
embeddings are pointed at it after the guard, which makes their core client again; the binding
the guard set is one of their fields, so it holds.

Runs in the test process and in a fresh one (:mod:`tests.stores.reopen`), so it imports no test
fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from orq_embeddings.gateway import ProviderFault
from orq_embeddings_demo.corpus import QUESTIONS, load_corpus

MODEL = "openai/text-embedding-3-small"
LARGE = "openai/text-embedding-3-large"
BUILT_WITH: dict[str, Any] = {"model": MODEL}
#: What a store's stamp reads once BUILT_WITH built it.
STAMP = "orq-embeddings-space/1 text-embedding-3-small:1536:none"
PRIMARY_DOWN = ProviderFault(model=MODEL, status=503)

SCENARIOS: dict[str, dict[str, Any]] = {
    "same": {"model": MODEL},
    "swap": {"model": LARGE, "dimensions": 1536},
    "other-width": {"model": "cohere/embed-english-v3.0"},
    "fallback-to-other": {
        "model": MODEL,
        "dimensions": 1536,
        "orq": {"fallbacks": [{"model": LARGE}]},
    },
    "fallback-to-other-at-guard": {
        "model": MODEL,
        "dimensions": 1536,
        "orq": {"fallbacks": [{"model": LARGE}]},
    },
    "fallback-to-same": {
        "model": MODEL,
        "orq": {"fallbacks": [{"model": "azure/text-embedding-3-small"}]},
    },
}
#: How each scenario ends, ``{store}`` standing for the store's description: the whole outcome
#: for an answer, its start for a refusal.
ENDINGS: dict[str, str] = {
    "same": "answered {answer}",
    "swap": (
        "refused EmbeddingSpaceError: {store} was built in text-embedding-3-small:1536:none, "
        "but these embeddings make text-embedding-3-large:1536:none. Vectors of two spaces in "
        "one index give wrong search results without any error, so nothing was added or "
        "queried. Go back to the model that built it (model text-embedding-3-small, 1536 "
        "dimensions, no prefixes), or rebuild it with these embeddings."
    ),
    "other-width": (
        "refused EmbeddingSpaceError: {store} was built in text-embedding-3-small:1536:none, "
        "but these embeddings make embed-english-v3.0:1024:none."
    ),
    "fallback-to-other": (
        "refused EmbeddingSpaceError: batch 1 of 1 (inputs 0-0): the client is bound to "
        "text-embedding-3-small:1536:none, but text-embedding-3-large:1536:none served this "
        "batch, routed there by orq.fallbacks[0] (openai/text-embedding-3-large)"
    ),
    "fallback-to-other-at-guard": (
        "refused EmbeddingSpaceError: guard() found these embeddings answered from "
        "text-embedding-3-large:1536:none, served by orq.fallbacks[0] "
        "(openai/text-embedding-3-large), not by their model openai/text-embedding-3-small; a "
        "store is stamped and checked only in the space of the model you chose, so nothing was "
        "changed in {store}. Guard it again when openai/text-embedding-3-small answers"
    ),
    "fallback-to-same": "answered {answer}",
}
#: Scenarios whose primary is down before the guard, or only after it.
DOWN_BEFORE_GUARD = {"fallback-to-other-at-guard"}
DOWN_AFTER_GUARD = {"fallback-to-other", "fallback-to-same"}

PASSAGES = load_corpus()
QUESTION, ANSWER = next(iter(QUESTIONS.items()))


class Home(Protocol):
    """Where one kind of store lives, and how its adapter builds, opens and asks it."""

    def store(self, embeddings: Any) -> Any:
        """The store (made if missing), as its framework opens it with ``embeddings``."""

    def add(self, store: Any, embeddings: Any) -> None:
        """Add every passage of the corpus, each with its id, and keep them (persist)."""

    def ask(self, store: Any, embeddings: Any, question: str) -> str:
        """The id of the passage the store returns first for ``question``."""

    def stamp(self) -> object | None:
        """The stamp as the store keeps it, read as the guard reads it."""

    def close(self) -> None:
        """Let go of what holds the store (a file lock)."""


@dataclass(frozen=True)
class Urls:
    """The base URLs of two local gateways: the primary model serves on one, not on the other."""

    up: str
    down: str


def build(home: Home, make: Callable[..., Any], urls: Urls) -> None:
    """Build the index with BUILT_WITH: guard the empty store, then add the corpus."""
    embeddings = make(**BUILT_WITH, base_url=urls.up)
    store = embeddings.guard(home.store(embeddings))
    home.add(store, embeddings)


def outcome(home: Home, make: Callable[..., Any], urls: Urls, scenario: str) -> str:
    """``"answered <passage id>"``, or ``"refused <ErrorClass>: <message>"``."""
    first = urls.down if scenario in DOWN_BEFORE_GUARD else urls.up
    embeddings = make(**SCENARIOS[scenario], base_url=first)
    try:
        store = embeddings.guard(home.store(embeddings))
        if scenario in DOWN_AFTER_GUARD:
            embeddings.base_url = urls.down
        return f"answered {home.ask(store, embeddings, QUESTION)}"
    except Exception as refused:
        # Recorded by its class, which each test names. Besides EmbeddingSpaceError, a store's
        # own check may come first (langchain-qdrant's constructor checks the width).
        return f"refused {type(refused).__name__}: {refused}"
    finally:
        embeddings.client.close()


def every_outcome(home: Home, make: Callable[..., Any], urls: Urls) -> dict[str, Any]:
    """Each scenario's outcome, and the stamp before and after them all."""
    found: dict[str, Any] = {"stamp before": home.stamp()}
    for scenario in SCENARIOS:
        found[scenario] = outcome(home, make, urls, scenario)
    found["stamp after"] = home.stamp()
    return found


def ends_as_expected(ended: str, scenario: str, store: str) -> bool:
    """Whether ``ended`` is how ``scenario`` ends for the store described as ``store``."""
    expected = ENDINGS[scenario].format(store=store, answer=ANSWER)
    return ended == expected if expected.startswith("answered") else ended.startswith(expected)
