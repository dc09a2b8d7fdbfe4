"""EmbeddingSpace, the equivalence rule, the stamp and the guard's decision on a store."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from orq_embeddings import EmbeddingSpace, EmbeddingSpaceError, OrqError
from orq_embeddings import space as space_module
from orq_embeddings.options import EmbeddingSettings
from orq_embeddings.prefixes import Prefixes
from orq_embeddings.space import (
    STAMP_FORMAT,
    PgvectorTable,
    declare_same_model,
    guard_store,
    model_identity,
    prefixes_label,
    read_stamp,
    route_to,
    stamp_text,
    store_internal,
)

SMALL = EmbeddingSpace("text-embedding-3-small", 1536)
LARGE_AT_1536 = EmbeddingSpace("text-embedding-3-large", 1536)


@pytest.fixture(autouse=True)
def no_declared_models(monkeypatch):
    """Each test starts with the rule as shipped: no name declared the same as another."""
    monkeypatch.setattr(space_module, "_SAME_MODEL", {})


# -- the value ---------------------------------------------------------------------------------


def test_str_is_model_width_and_prefixes_and_parse_reads_it_back():
    space = EmbeddingSpace("text-embedding-3-small", 1536, "e5")
    assert str(space) == "text-embedding-3-small:1536:e5"
    assert EmbeddingSpace.parse(str(space)) == space


def test_a_model_name_with_colons_of_its_own_round_trips():
    space = EmbeddingSpace("amazon.titan-embed-text-v2:0", 1024)
    assert str(space) == "amazon.titan-embed-text-v2:0:1024:none"
    assert EmbeddingSpace.parse(str(space)) == space


def test_the_provider_and_workspace_prefix_are_not_part_of_the_space():
    assert EmbeddingSpace("openai/text-embedding-3-small", 1536) == SMALL
    assert EmbeddingSpace("azure/text-embedding-3-small", 1536) == SMALL
    assert EmbeddingSpace("acme@azure/text-embedding-3-small", 1536).model == SMALL.model


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (SMALL, LARGE_AT_1536),
        (SMALL, EmbeddingSpace("text-embedding-3-small", 512)),
        (SMALL, EmbeddingSpace("text-embedding-3-small", 1536, "e5")),
    ],
)
def test_any_other_difference_is_another_space(first, second):
    assert first != second


@pytest.mark.parametrize(
    ("model", "dimensions", "prefixes", "says"),
    [
        ("", 8, "none", "needs a model name"),
        ("openai/", 8, "none", "needs a model name"),
        ("bad\nname", 8, "none", "control characters"),
        (" padded", 8, "none", "surrounding spaces"),
        ("m", 0, "none", "at least 1"),
        ("m", True, "none", "whole number"),
        ("m", 8, "E5!", "prefixes must be"),
    ],
)
def test_a_space_that_cannot_be_is_refused_saying_why(model, dimensions, prefixes, says):
    with pytest.raises(ValueError, match=says):
        EmbeddingSpace(model, dimensions, prefixes)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("text-embedding-3-small", "expected '<model>:<dimensions>:<prefixes>'"),
        ("m:1536", "expected '<model>:<dimensions>:<prefixes>'"),
        ("m:wide:none", "the width 'wide' is not a whole number"),
        ("m:01536:none", "the width '01536' is not a whole number"),
        ("m:-3:none", "the width '-3' is not a whole number"),
        (":1536:none", "needs a model name"),
    ],
)
def test_parse_says_which_part_of_the_text_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        EmbeddingSpace.parse(text)


def test_a_space_pickles_whole():
    assert pickle.loads(pickle.dumps(SMALL)) == SMALL


def test_the_cache_namespace_keeps_only_key_safe_characters():
    space = EmbeddingSpace("amazon.titan-embed-text-v2:0", 1024, "sha256-0123456789ab")
    assert space.cache_namespace == "amazon.titan-embed-text-v2_0.1024d.sha256-0123456789ab"


# -- the prefix pair -------------------------------------------------------------------------


def pair(query: str, document: str) -> Prefixes:
    return Prefixes.resolve(None, query, document)


def test_no_prefixes_is_none_and_a_preset_is_its_name():
    assert prefixes_label(Prefixes.resolve(None, None, None)) == "none"
    assert prefixes_label(Prefixes.resolve("e5", None, None)) == "e5"


def test_the_label_follows_the_texts_not_how_they_were_set():
    assert prefixes_label(pair("query: ", "passage: ")) == "e5"
    # bge and mxbai put the same words in front of the same side: one label.
    assert prefixes_label(Prefixes.resolve("mxbai", None, None)) == "bge"


def test_other_prefixes_are_a_digest_of_the_pair_stable_and_distinct():
    label = prefixes_label(pair("Q: ", "D: "))
    assert label.startswith("sha256-") and len(label) == len("sha256-") + 12
    assert prefixes_label(pair("Q: ", "D: ")) == label
    assert prefixes_label(pair("D: ", "Q: ")) != label
    assert prefixes_label(pair("Q: D: ", "")) != prefixes_label(pair("Q: ", "D: "))


# -- the equivalence rule --------------------------------------------------------------------


def test_the_rule_knows_a_model_by_its_name_without_the_provider():
    assert model_identity("azure/text-embedding-3-small") == "text-embedding-3-small"
    assert model_identity("text-embedding-3-small") == "text-embedding-3-small"


def test_a_declared_name_is_the_same_space_as_the_model_it_serves():
    declare_same_model("azure/my-ada-deployment", "openai/text-embedding-ada-002")
    assert EmbeddingSpace("my-ada-deployment", 1536) == EmbeddingSpace(
        "text-embedding-ada-002", 1536
    )
    assert str(EmbeddingSpace("my-ada-deployment", 1536)) == "text-embedding-ada-002:1536:none"


def test_declarations_chain_and_a_declaration_back_changes_nothing():
    declare_same_model("a", "b")
    declare_same_model("b", "c")
    declare_same_model("c", "a")  # a is already c
    assert {model_identity(name) for name in "abc"} == {"c"}


# -- which option routed there ---------------------------------------------------------------


def test_the_route_names_the_fallback_or_balanced_model_by_its_index():
    settings = EmbeddingSettings(
        model="openai/text-embedding-3-small",
        orq={
            "fallbacks": [
                {"model": "cohere/embed-english-v3.0"},
                {"model": "mistral/mistral-embed"},
            ],
            "load_balancer": {
                "type": "weight_based",
                "models": [
                    {"model": "openai/text-embedding-3-small", "weight": 1},
                    {"model": "mistral/mistral-embed", "weight": 1},
                ],
            },
        },
    )
    assert route_to("mistral-embed", settings) == (
        "orq.fallbacks[1] (mistral/mistral-embed) or "
        "orq.load_balancer.models[1] (mistral/mistral-embed)"
    )
    assert route_to("text-embedding-3-small", settings).startswith(
        "model (openai/text-embedding-3-small)"
    )
    assert "no setting of this client names that model" in route_to("other", settings)


# -- the stamp ------------------------------------------------------------------------------


def test_a_stamp_carries_its_format_and_reads_back():
    assert (
        stamp_text(SMALL) == f"orq-embeddings-space/{STAMP_FORMAT} text-embedding-3-small:1536:none"
    )
    assert read_stamp(stamp_text(SMALL), "here") == SMALL


def test_a_stamp_of_a_newer_format_is_refused_naming_both_formats():
    with pytest.raises(EmbeddingSpaceError) as refused:
        read_stamp("orq-embeddings-space/2 text-embedding-3-small:1536:none", "collection 'docs'")
    message = str(refused.value)
    assert "collection 'docs' carries a stamp written by a newer orq-embeddings" in message
    assert "stamp format 2; this version reads format 1" in message
    assert "upgrade orq-embeddings" in message


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("text-embedding-3-small:1536:none", "it does not start with 'orq-embeddings-space/'"),
        ("orq-embeddings-space/one m:8:none", "format 'one' is not a number"),
        ("orq-embeddings-space/0 m:8:none", "format '0' is not a number"),
        ("orq-embeddings-space/1 m:eight:none", "the width 'eight' is not a whole number"),
        ("orq-embeddings-space/1", "is not an embedding space"),
        (42, "a int, not text"),
    ],
)
def test_a_damaged_stamp_is_refused_saying_what_is_wrong_and_what_to_do(stamp, reason):
    with pytest.raises(EmbeddingSpaceError) as refused:
        read_stamp(stamp, "collection 'docs'")
    message = str(refused.value)
    assert message.startswith(f"collection 'docs' carries a damaged stamp {stamp!r}")
    assert reason in message
    assert "Rebuild it, or, if you know the model that built it" in message


def test_the_error_is_an_orq_error_and_keeps_both_spaces_when_pickled():
    error = EmbeddingSpaceError("mixed", expected=SMALL, served=LARGE_AT_1536)
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, OrqError)
    assert (str(again), again.expected, again.served) == ("mixed", SMALL, LARGE_AT_1536)


# -- the guard's decision -----------------------------------------------------------------------


@dataclass
class DictStore:
    """A store whose stamp, vectors and width are plain values: the decision, nothing else."""

    stamp: object | None = None
    vectors: int = 0
    width: int | None = None
    writes: int = 0
    description: str = "store 'docs'"
    stamp_location: str = "stamp in its metadata"

    def read_stamp(self):
        return self.stamp

    def count_vectors(self):
        return self.vectors

    def vector_width(self):
        return self.width

    def write_stamp(self, stamp, space):
        assert read_stamp(stamp, "written") == space
        self.stamp, self.writes = stamp, self.writes + 1


def test_an_empty_store_is_stamped_with_the_space():
    store = DictStore()
    guard_store(store, SMALL)
    assert store.stamp == stamp_text(SMALL)


def test_a_store_stamped_with_the_space_is_left_as_it_is():
    store = DictStore(stamp=stamp_text(SMALL), vectors=5, width=1536)
    guard_store(store, SMALL)
    assert store.writes == 0


def test_a_store_stamped_with_another_space_is_refused_naming_both_and_what_to_do():
    store = DictStore(stamp=stamp_text(SMALL), vectors=5, width=1536)
    with pytest.raises(EmbeddingSpaceError) as refused:
        guard_store(store, LARGE_AT_1536)
    assert str(refused.value) == (
        "store 'docs' was built in text-embedding-3-small:1536:none, but these embeddings make "
        "text-embedding-3-large:1536:none. Vectors of two spaces in "
        "one index give wrong search results without any error, so nothing was added or "
        "queried. Go back to the model that built it (model text-embedding-3-small, 1536 "
        "dimensions, no prefixes), or rebuild it with these embeddings."
    )
    assert (refused.value.expected, refused.value.served) == (SMALL, LARGE_AT_1536)
    assert store.writes == 0


def test_a_stamped_store_is_checked_even_when_asked_to_adopt():
    store = DictStore(stamp=stamp_text(SMALL))
    with pytest.raises(EmbeddingSpaceError, match="was built in"):
        guard_store(store, LARGE_AT_1536, adopt=True)
    assert store.writes == 0


def test_unstamped_vectors_are_never_adopted_silently():
    store = DictStore(vectors=3, width=1536)
    with pytest.raises(EmbeddingSpaceError) as refused:
        guard_store(store, SMALL)
    message = str(refused.value)
    assert "store 'docs' holds 3 vectors but no stamp" in message
    assert "guard it with adopt=True" in message
    assert store.writes == 0


def test_adopt_stamps_unstamped_vectors_of_the_right_width():
    store = DictStore(vectors=3, width=1536)
    guard_store(store, SMALL, adopt=True)
    assert store.stamp == stamp_text(SMALL)


def test_vectors_of_another_width_are_refused_even_when_asked_to_adopt():
    store = DictStore(vectors=3, width=1024)
    with pytest.raises(EmbeddingSpaceError, match="takes vectors of 1024 dimensions"):
        guard_store(store, SMALL, adopt=True)
    assert store.writes == 0


@pytest.mark.parametrize("stamp", ["garbage", "orq-embeddings-space/9 m:8:none"])
def test_a_damaged_or_newer_stamp_is_refused_and_left_alone(stamp):
    store = DictStore(stamp=stamp)
    with pytest.raises(EmbeddingSpaceError, match=r"store 'docs' \(stamp in its metadata\)"):
        guard_store(store, SMALL, adopt=True)
    assert (store.stamp, store.writes) == (stamp, 0)


# -- a pgvector table's SQL ---------------------------------------------------------------------


def test_the_comment_literal_leaves_no_quote_colon_or_percent_for_a_driver():
    table = PgvectorTable("public", 'we"ird', "embedding")
    statement = table.comment_statement("orq-embeddings-space/1 m'x%:8:none", None, "table")
    assert statement == (
        'COMMENT ON TABLE "public"."we""ird" IS '
        "U&'orq-embeddings-space/1 m\\0027x\\0025\\003A8\\003Anone'"
    )


def test_a_comment_of_somebody_elses_is_not_replaced():
    table = PgvectorTable("public", "docs", "embedding")
    assert table.stamp_of("our catalogue of documents") is None
    with pytest.raises(EmbeddingSpaceError, match="has a comment of its own"):
        table.comment_statement(stamp_text(SMALL), "our catalogue of documents", "table docs")


def test_a_private_name_a_store_library_dropped_is_named_with_the_library_and_its_version():
    with pytest.raises(RuntimeError) as refused:
        store_internal(object(), "_collection", "pytest", "keep the stamp in its metadata")
    assert str(refused.value) == (
        f"pytest {pytest.__version__} has no object._collection, which guard() reads to keep the "
        "stamp in its metadata; install a version of it that orq-embeddings supports, or a newer "
        "orq-embeddings"
    )


def test_the_callers_last_word_comes_after_the_stamp_and_before_any_write():
    said = []

    def refuse():
        said.append("asked")
        raise EmbeddingSpaceError("the store embeds with something else")

    other = DictStore(stamp=stamp_text(SMALL))
    with pytest.raises(EmbeddingSpaceError, match="was built in"):
        guard_store(other, LARGE_AT_1536, accepting=refuse)
    assert said == []  # a stamp naming another space is what the store holds: said first
    for store in (DictStore(stamp=stamp_text(SMALL)), DictStore()):
        with pytest.raises(EmbeddingSpaceError, match="embeds with something else"):
            guard_store(store, SMALL, accepting=refuse)
        assert store.writes == 0
    assert said == ["asked", "asked"]
