"""Query and document prefixes, the portable way to ask an asymmetric model for either kind.

orq's schema has no ``input_type`` or ``task`` field (shared/spec, "What orq's schema cannot
carry"), so models trained to tell a search query from a stored passage (e5, bge, nomic, ...)
learn which one a text is from a few words in front of it. The client adds those words: the query
prefix to what it embeds as a query, the document prefix to everything else.

A named preset fills in the prefixes a model card documents; each cites its card. None is applied
by default, since orq's own OpenAI and Cohere models need none. A prefix given explicitly wins over
the preset's, one side at a time, so ``prefixes="bge", query_prefix="Query: "`` changes only the
query side.

Token-id inputs (lists of ints) cannot take a text prefix: with a non-empty prefix for their side
they are refused by position, nothing sent, rather than embedded unprefixed into the wrong half of
the model's space.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ._wire.inputs import EmbeddingInput, compact_positions, unencodable
from .errors import InvalidInputError

#: The two kinds of text an asymmetric model tells apart.
Side = Literal["query", "document"]


@dataclass(frozen=True)
class PrefixPreset:
    """The prefixes one family of models was trained with, and where its model card says so."""

    query_prefix: str
    document_prefix: str
    models: str
    source: str


#: The presets a user may name with ``prefixes=``.
PRESETS: dict[str, PrefixPreset] = {
    "e5": PrefixPreset(
        query_prefix="query: ",
        document_prefix="passage: ",
        models="intfloat/e5-*-v2, intfloat/multilingual-e5-*",
        # FAQ 1 of the card: "query: " and "passage: " for asymmetric tasks such as retrieval.
        source="https://huggingface.co/intfloat/e5-base-v2",
    ),
    "bge": PrefixPreset(
        query_prefix="Represent this sentence for searching relevant passages: ",
        document_prefix="",
        models="BAAI/bge-*-en-v1.5",
        # The card's usage section: the instruction goes on short queries only, not passages.
        source="https://huggingface.co/BAAI/bge-base-en-v1.5",
    ),
    "nomic": PrefixPreset(
        query_prefix="search_query: ",
        document_prefix="search_document: ",
        models="nomic-ai/nomic-embed-text-v1, -v1.5",
        # The card's "Task instruction prefixes": search_query for queries, search_document
        # for the texts searched.
        source="https://huggingface.co/nomic-ai/nomic-embed-text-v1.5",
    ),
    "mxbai": PrefixPreset(
        query_prefix="Represent this sentence for searching relevant passages: ",
        document_prefix="",
        models="mixedbread-ai/mxbai-embed-large-v1",
        # The card: the prompt precedes the query for retrieval; other texts go as they are.
        source="https://huggingface.co/mixedbread-ai/mxbai-embed-large-v1",
    ),
}


def check_preset_name(name: str | None) -> str | None:
    """Refuse a preset name that is not in :data:`PRESETS`, listing those that are."""
    if name is None or name in PRESETS:
        return name
    known = ", ".join(repr(known) for known in PRESETS)
    raise ValueError(f"unknown prefix preset {name!r}; the presets are {known}")


def check_prefix(value: str | None) -> str | None:
    """Refuse a prefix UTF-8 cannot carry, which would otherwise fail every request."""
    problem = None if value is None or value.isascii() else unencodable(value)
    if problem:
        raise ValueError(problem)
    return value


@dataclass(frozen=True)
class TextPrefix:
    """The prefix of one side (queries or documents), named by the setting it came from."""

    setting: str
    text: str

    def applied_to(self, inputs: Sequence[EmbeddingInput]) -> Sequence[EmbeddingInput]:
        """``inputs`` with the prefix in front of each text; ``inputs`` itself without a prefix.

        Check the inputs first (:func:`~orq_embeddings._wire.inputs.check_inputs`): emptiness is a
        property of the caller's text, not of the prefixed one.

        Raises:
            InvalidInputError: token-id inputs, which a text prefix cannot be added to.
        """
        if not self.text:
            return inputs
        texts = [item for item in inputs if isinstance(item, str)]
        if len(texts) < len(inputs):
            token_lists = tuple(
                position for position, item in enumerate(inputs) if not isinstance(item, str)
            )
            raise InvalidInputError(
                f"{len(token_lists)} of {len(inputs)} inputs are lists of token ids "
                f"(positions {compact_positions(token_lists)}), which {self.setting} "
                f"{self.text!r} cannot be added to: pass the text, or the token ids of the "
                "prefixed text with this prefix set to ''; nothing was sent.",
                token_lists,
            )
        prefix = self.text
        return [prefix + text for text in texts]


@dataclass(frozen=True)
class Prefixes:
    """The query and document prefixes a client adds."""

    query: TextPrefix
    document: TextPrefix

    @classmethod
    def resolve(
        cls, preset: str | None, query_prefix: str | None, document_prefix: str | None
    ) -> Prefixes:
        """The prefixes in effect: each explicit one, else the preset's, else none."""
        chosen = PRESETS[preset] if preset is not None else PrefixPreset("", "", "", "")
        return cls(
            TextPrefix(
                "query_prefix", chosen.query_prefix if query_prefix is None else query_prefix
            ),
            TextPrefix(
                "document_prefix",
                chosen.document_prefix if document_prefix is None else document_prefix,
            ),
        )

    def cache_namespace(self, side: Side) -> str:
        """A cache namespace for one side's vectors: ``"query.1a2b3c4d5e6f"``.

        Caches keyed by text alone (LangChain's ``CacheBackedEmbeddings``, LlamaIndex's
        ``embeddings_cache``) would hand a query the vector stored for a document of the same
        text; under these namespaces the two sides, and two different prefixes of one side,
        never meet. The digest is of the side's prefix; letters, digits and dots only, so
        file-backed stores take it in a key.
        """
        prefix = self.query if side == "query" else self.document
        return f"{side}.{hashlib.sha256(prefix.text.encode()).hexdigest()[:12]}"
