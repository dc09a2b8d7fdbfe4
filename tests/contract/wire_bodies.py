"""Hypothesis strategies for raw request bodies, and the single mutations that make one invalid.

:func:`valid_bodies` makes bodies the oracle accepts and the local gateway can serve (models from
its catalogue, ``dimensions`` only where every named model can shorten, deadlines long enough),
with the schema's nullable fields sometimes ``null``. :func:`mutations` changes one thing: an
unknown key, a key that belongs elsewhere (the docs' ``logo_url``, router-only fields), a ``null``,
a wrong type, a value past a documented limit, a required key removed.
Whether the result is still valid is for the oracle to say, never for this module.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from .oracle import MAX_CACHE_TTL, MAX_IDENTITY_ID, MAX_METADATA_FIELDS, MAX_RETRY_COUNT

SHORTENING = (
    "openai/text-embedding-3-small",
    "openai/text-embedding-3-large",
    "jina/jina-embeddings-v3",
)
FIXED_SIZE = ("cohere/embed-english-v3.0", "mistral/mistral-embed")
#: The smallest native size among the shortening models: any ``dimensions`` up to it is servable.
MAX_SHORTENED = 1024

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
non_empty_texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6
)
codes = st.lists(st.integers(400, 599), max_size=3, unique=True)


def _nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy, strategy)


def _subset(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def _person(gateway: bool) -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, st.SearchStrategy[Any]] = {
        "display_name": texts,
        "email": texts,
        "metadata": _nullable(st.lists(st.dictionaries(st.sampled_from("ab"), texts), max_size=2)),
        "tags": _nullable(st.lists(texts, max_size=2)),
    }
    if gateway:
        optional["logo_url"] = st.just("https://example.com/a.jpg")
    return st.fixed_dictionaries({"id": non_empty_texts}, optional=optional)


def _routing(models: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return _subset(
        name=texts,
        fallbacks=_nullable(st.lists(st.builds(lambda m: {"model": m}, models), max_size=2)),
        retry=st.builds(
            lambda count, rest: {"count": count, **rest},
            st.integers(0, MAX_RETRY_COUNT),
            _subset(on_codes=_nullable(codes)),
        ),
        cache=st.builds(
            lambda rest: {"type": "exact_match", **rest},
            _subset(ttl=st.integers(1, MAX_CACHE_TTL)),
        ),
        timeout=st.builds(lambda ms: {"call_timeout": ms}, st.integers(60_000, 10**9)),
    )


def _weighted(models: st.SearchStrategy[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    weights = st.floats(min_value=0.01, max_value=100, allow_nan=False)
    return st.lists(
        st.builds(lambda m, w: {"model": m, "weight": w}, models, weights), min_size=1, max_size=2
    )


@st.composite
def valid_bodies(draw: st.DrawFn, gateway: bool) -> dict[str, Any]:
    """A body the oracle accepts and the local gateway serves, in one dialect."""
    shortening = draw(st.booleans())
    models = st.sampled_from(SHORTENING if shortening else SHORTENING + FIXED_SIZE)
    inputs = st.one_of(
        non_empty_texts,
        st.lists(
            st.one_of(non_empty_texts, st.lists(st.integers(0, 50_000), min_size=1, max_size=3)),
            min_size=1,
            max_size=2,
        ),
    )
    body: dict[str, Any] = {"input": draw(inputs), "model": draw(models)}
    body.update(draw(_subset(encoding_format=st.sampled_from(["float", "base64"]), user=texts)))
    if shortening and draw(st.booleans()):
        body["dimensions"] = draw(st.integers(1, MAX_SHORTENED))
    routing = draw(_routing(models))
    person = draw(_person(gateway))
    if gateway:
        orq = dict(routing)
        if draw(st.booleans()):
            orq["load_balancer"] = draw(_weighted(models))
        if draw(st.booleans()):
            orq["contact"] = person
        if orq or draw(st.booleans()):
            body["orq"] = orq
        return body
    body.update(routing)
    body.update(draw(_subset(fallback_on_codes=_nullable(codes))))
    if draw(st.booleans()):
        body["load_balancer"] = {
            "type": "weight_based",
            "models": draw(_nullable(_weighted(models))),
        }
    orq = draw(_routing(models))  # the deprecated copies; the top-level values win
    for key in draw(st.sets(st.sampled_from(["identity", "contact"]))):
        orq[key] = person
    if orq or draw(st.booleans()):
        body["orq"] = orq
    return body


Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutation:
    """One change to a body: what it is, where, and the body after it."""

    kind: str
    path: Path
    body: dict[str, Any]

    @property
    def field(self) -> str:
        """The last key on the path: what an error about this change must name."""
        return next(str(part) for part in reversed(self.path) if isinstance(part, str))


#: Keys the schema requires, by what holds them (None: the body; "fallbacks[]": an item of it).
REQUIRED: dict[str | None, tuple[str, ...]] = {
    None: ("input", "model"),
    "fallbacks[]": ("model",),
    "models[]": ("model", "weight"),
    "load_balancer[]": ("model", "weight"),
    "retry": ("count",),
    "cache": ("type",),
    "timeout": ("call_timeout",),
    "identity": ("id",),
    "contact": ("id",),
    "load_balancer": ("type", "models"),
}
#: A value past the spec's documented limit, by the key that holds it.
PAST_THE_LIMIT = {
    "count": MAX_RETRY_COUNT + 1,
    "ttl": MAX_CACHE_TTL + 1,
    "fallback_on_codes": [600],
    "id": "x" * (MAX_IDENTITY_ID + 1),
    "metadata": [{"k": "v"}] * (MAX_METADATA_FIELDS + 1),
}
UNKNOWN_KEY = "surely_not_a_field"
#: Keys that exist somewhere in orq's bodies but perhaps not here, by what would hold them: the
#: docs' ``logo_url``, router-only ``fallback_on_codes``, top-level routing in the legacy body.
KEYS_FROM_ELSEWHERE: dict[str | None, tuple[tuple[str, Any], ...]] = {
    None: (("fallbacks", [{"model": SHORTENING[0]}]), ("contact", {"id": "u1"})),
    "orq": (("fallback_on_codes", [503]), ("identity", {"id": "u1"})),
    "identity": (("logo_url", "https://example.com/a.jpg"),),
    "contact": (("logo_url", "https://example.com/a.jpg"),),
}


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return "a string"
    if isinstance(value, str):
        return 12
    if isinstance(value, (int, float)):
        return "7"
    if isinstance(value, list):
        return "not an array"
    return ["not an object"]


def _places(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) in a JSON value, the value itself first; a metadata entry is a leaf."""
    yield path, value
    if _in_metadata(path):  # any keys, any values: nothing inside can be wrong
        return
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        yield from _places(child, (*path, key))


def _in_metadata(path: Path) -> bool:
    return len(path) >= 2 and path[-2] == "metadata"


def _container(path: Path) -> str | None:
    """What holds the keys at ``path``: ``None`` for the body, ``"fallbacks[]"`` for an item."""
    if not path:
        return None
    if isinstance(path[-1], int):
        return f"{path[-2]}[]"
    return path[-1]


def _set(body: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    holder: Any = changed
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = value
    return changed


def _delete(body: dict[str, Any], path: Path) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    holder: Any = changed
    for part in path[:-1]:
        holder = holder[part]
    del holder[path[-1]]
    return changed


#: Every kind of mutation :func:`all_mutations` makes.
MUTATION_KINDS = (
    "unknown key",
    "key from elsewhere",
    "missing",
    "null",
    "wrong type",
    "past the limit",
)


def all_mutations(body: dict[str, Any]) -> list[Mutation]:
    """Every single mutation of ``body`` this module knows, in a stable order."""
    found: list[Mutation] = []
    for path, value in _places(body):
        if isinstance(value, dict) and not _in_metadata(path):
            unknown = (*path, UNKNOWN_KEY)
            found.append(Mutation("unknown key", unknown, _set(body, unknown, 1)))
            for key, extra in KEYS_FROM_ELSEWHERE.get(_container(path), ()):
                if key not in value:
                    elsewhere = (*path, key)
                    found.append(
                        Mutation("key from elsewhere", elsewhere, _set(body, elsewhere, extra))
                    )
            for required in REQUIRED.get(_container(path), ()):
                if required in value:
                    missing = (*path, required)
                    found.append(Mutation("missing", missing, _delete(body, missing)))
        if not path:
            continue
        found.append(Mutation("null", path, _set(body, path, None)))
        found.append(Mutation("wrong type", path, _set(body, path, _wrong_type(value))))
        if isinstance(path[-1], str) and path[-1] in PAST_THE_LIMIT:
            past = _set(body, path, PAST_THE_LIMIT[path[-1]])
            found.append(Mutation("past the limit", path, past))
    return found
