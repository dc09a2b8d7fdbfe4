"""Hypothesis strategies for what a user may hand the client: orq options as the docs spell them.

Not only the happy set: the identity may carry the docs' ``logo_url``, codes may repeat or fall
out of range, counts and ttls may pass their limits, and ``identity`` and ``contact`` may both be
given. Whatever is generated, the client must either refuse it at construction or send a body the
schema accepts.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

MODELS = ("openai/text-embedding-3-small", "openai/text-embedding-3-large", "cohere/embed-v3")

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=8)
model_ids = st.sampled_from(MODELS)


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> Any:
    """``valid`` about nine times in ten, else ``invalid``: the edges are visited, not dwelt on.

    With ten fields to a body, that still refuses a good share of the option sets outright.
    """
    return st.integers(0, 9).flatmap(lambda draw: invalid if draw == 0 else valid)


code_lists = mostly(
    st.lists(st.integers(min_value=400, max_value=599), max_size=4, unique=True),
    st.lists(st.integers(min_value=90, max_value=620), max_size=4),
)


def _optional_keys(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


identities = st.fixed_dictionaries(
    {"id": mostly(st.text(min_size=1, max_size=255), st.sampled_from(["", "x" * 256]))},
    optional={
        "display_name": texts,
        "email": texts,
        "metadata": mostly(
            st.lists(st.dictionaries(st.sampled_from("abc"), texts), max_size=3),
            st.lists(st.just({"k": "v"}), min_size=21, max_size=21),
        ),
        "tags": st.lists(texts, max_size=3),
        "logo_url": st.just("https://example.com/a.jpg"),
    },
)

fallbacks = st.lists(st.one_of(model_ids, st.builds(lambda m: {"model": m}, model_ids)), max_size=3)

weighted = st.builds(
    lambda m, w: {"model": m, "weight": w},
    model_ids,
    st.floats(min_value=0.01, max_value=10, allow_nan=False),
)
load_balancers = st.one_of(
    st.lists(weighted, min_size=1, max_size=3),
    st.builds(lambda ms: {"type": "weight_based", "models": ms}, st.lists(weighted, min_size=1)),
)

routing_options = _optional_keys(
    name=texts,
    fallbacks=fallbacks,
    fallback_on_codes=code_lists,
    retry=_optional_keys(on_codes=code_lists).flatmap(
        lambda rest: mostly(st.integers(0, 5), st.sampled_from([-1, 6])).map(
            lambda count: {"count": count, **rest}
        )
    ),
    cache=_optional_keys(ttl=mostly(st.integers(1, 259_200), st.sampled_from([0, 259_201]))),
    load_balancer=load_balancers,
    timeout=st.builds(lambda ms: {"call_timeout": ms}, mostly(st.integers(1, 10**7), st.just(0))),
)

#: The person under its current name, its older one, or (rarely) both.
people = st.one_of(
    st.just({}),
    st.builds(lambda person: {"identity": person}, identities),
    st.builds(lambda person: {"contact": person}, identities),
    st.just({}),
    st.builds(lambda a, b: {"identity": a, "contact": b}, identities, identities),
)

orq_options = st.builds(lambda routing, person: {**routing, **person}, routing_options, people)

client_settings = _optional_keys(
    dimensions=mostly(st.integers(min_value=1, max_value=3072), st.just(0)),
    user=mostly(texts.filter(bool), st.just("")),
    encoding_format=st.sampled_from(["float", "base64"]),
)

inputs = st.lists(
    st.one_of(
        texts.filter(str.strip),
        st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=3,
)
