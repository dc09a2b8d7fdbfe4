"""Which vector space vectors live in, when two spaces are one, and the guard that keeps them apart.

Vectors of two models are not comparable, even at the same width: an index built with one model
and queried with another returns wrong neighbours, and nothing raises. orq's ``fallbacks`` and
``load_balancer`` can serve a whole call from another model, so this can happen without anyone
changing code. :class:`EmbeddingSpace` names a space by what decides it: the model that served
the vectors, their width, and the query/document prefix pair put in front of the texts.

**The equivalence rule** is :func:`model_identity`, here and nowhere else: a model is known by
its name without the provider (and workspace) prefix, as responses name it, so
``openai/text-embedding-3-small`` and ``azure/text-embedding-3-small`` are one space (Azure
OpenAI serves OpenAI's weights). Any other difference (model, width, prefixes) is another space.
Extend the rule with :func:`declare_same_model` when two names serve the same weights, e.g. a
deployment that answers under its own name; declare it in every process that checks spaces.

**The guard.** A client bound to a space (the ``space`` setting) refuses a response from another
one (:class:`SpaceCheck`). A vector store keeps a stamp, :func:`stamp_text`, in its own
persisted metadata; :func:`guard_store` decides what to do with a store: stamp it when empty,
check the stamp when there is one, and refuse to adopt an unstamped store that already holds
vectors unless asked to. How each store keeps its stamp (:class:`StampedStore`) is written per
store in the adapter packages, since the core never imports a framework.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

from .errors import ConfigurationProblem, EmbeddingSpaceError
from .options import EmbeddingSettings
from .prefixes import PRESETS, Prefixes

#: The key a store's metadata (and a bulk output's) keeps the stamp under.
STAMP_KEY = "orq_embeddings_space"
#: The stamp format this version writes, and the newest it reads.
STAMP_FORMAT = 1
_STAMP_HEADER = "orq-embeddings-space/"

#: The prefixes label of a space whose texts went without a prefix.
NO_PREFIXES = "none"
_DIGEST_LABEL = "sha256-"
#: A prefixes label: ``none``, a preset's name or ``sha256-`` and 12 hex digits.
_LABEL = re.compile(r"[a-z0-9][a-z0-9_-]*")
#: Characters a cache namespace keeps; any other becomes ``_`` (file-backed stores take these).
_NAMESPACE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

#: Served names declared to be one model's (name -> the name it is), see declare_same_model.
_SAME_MODEL: dict[str, str] = {}


def _without_provider(name: str) -> str:
    """``workspace@provider/model`` -> ``model``: the part a response names."""
    return name.rsplit("/", 1)[-1]


def model_identity(name: str) -> str:
    """The name that identifies a model's vector space: the equivalence rule.

    A model id (``azure/text-embedding-3-small``) or a served name (``text-embedding-3-small``)
    is known by its name without the provider and workspace prefix, then by the name it was
    declared the same as (:func:`declare_same_model`).
    """
    identity = _without_provider(name)
    for _ in range(len(_SAME_MODEL)):
        declared = _SAME_MODEL.get(identity)
        if declared is None:
            break
        identity = declared
    return identity


def declare_same_model(name: str, same_as: str) -> None:
    """Declare that ``name`` serves the same weights as ``same_as``: their vectors share a space.

    For a deployment that answers under its own name (``my-ada-deployment``) while serving a
    model's weights (``text-embedding-ada-002``). Both may be model ids or served names. Declared
    for the process: declare it wherever spaces are compared (every worker, too). Spaces made
    afterwards carry the identity ``same_as`` has.
    """
    alias, identity = _without_provider(name), model_identity(same_as)
    if alias != identity:
        _SAME_MODEL[alias] = identity


def prefixes_label(prefixes: Prefixes) -> str:
    """The prefix pair as a space names it: ``none``, a preset's name, or a digest of the pair.

    The label depends on the two texts only, not on how they were set, so ``prefixes="e5"`` and
    the same texts given one by one are one space. Presets with the same pair (``bge`` and
    ``mxbai``) share the label of the first in :data:`~orq_embeddings.prefixes.PRESETS`.
    """
    pair = (prefixes.query.text, prefixes.document.text)
    if pair == ("", ""):
        return NO_PREFIXES
    for name, preset in PRESETS.items():
        if pair == (preset.query_prefix, preset.document_prefix):
            return name
    digest = hashlib.sha256(json.dumps(pair).encode()).hexdigest()[:12]
    return f"{_DIGEST_LABEL}{digest}"


def cache_namespace_of(model: str, width: int | None, prefixes: str) -> str:
    """A cache namespace for a space, ``text-embedding-3-small.512d.none``.

    ``width`` None (a model's native width, not known before a response) is ``native``.
    Letters, digits, dashes, underscores and dots only, so file-backed stores take it in a key.
    """
    size = f"{width}d" if width is not None else "native"
    return _NAMESPACE_UNSAFE.sub("_", f"{model_identity(model)}.{size}.{prefixes}")


@dataclass(frozen=True)
class EmbeddingSpace:
    """The vector space vectors live in: which model made them, their width, their prefixes.

    ``str(space)`` is ``"<model>:<dimensions>:<prefixes>"``, e.g.
    ``"text-embedding-3-small:1536:none"``, stable across versions; :meth:`parse` reads it back.
    Equal spaces hold comparable vectors; the model is kept by its identity
    (:func:`model_identity`), so a space made from ``azure/text-embedding-3-small`` equals one
    made from ``text-embedding-3-small``.

    Attributes:
        model: the model's name without its provider prefix, as responses name it.
        dimensions: the vectors' actual width.
        prefixes: the query/document prefix pair: ``"none"``, a preset's name (``"e5"``) or
            ``"sha256-"`` and 12 hex digits of the pair (:func:`prefixes_label`).

    Raises:
        ValueError: an empty model name or one with control characters, a width below 1, a
            prefixes label of another form.
    """

    model: str
    dimensions: int
    prefixes: str = NO_PREFIXES

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not _without_provider(self.model).strip():
            raise ValueError(f"an embedding space needs a model name, got {self.model!r}")
        if not self.model.isprintable() or self.model != self.model.strip():
            raise ValueError(
                f"model name {self.model!r} has control characters or surrounding spaces"
            )
        if type(self.dimensions) is not int or self.dimensions < 1:
            raise ValueError(
                f"dimensions must be a whole number of at least 1, got {self.dimensions!r}"
            )
        if not isinstance(self.prefixes, str) or not _LABEL.fullmatch(self.prefixes):
            raise ValueError(
                f"prefixes must be 'none', a preset's name or 'sha256-' and a digest, "
                f"got {self.prefixes!r}"
            )
        object.__setattr__(self, "model", model_identity(self.model))

    @classmethod
    def served(cls, model: str | None, width: int, prefixes: Prefixes) -> EmbeddingSpace | None:
        """The space of vectors a response says ``model`` served, or None when it named none.

        A name that cannot name a space (empty, control characters) is no name either.
        """
        if not model:
            return None
        try:
            return cls(model, width, prefixes_label(prefixes))
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.model}:{self.dimensions}:{self.prefixes}"

    @classmethod
    def parse(cls, text: str) -> EmbeddingSpace:
        """The space ``str(space)`` wrote: ``"text-embedding-3-small:1536:none"``.

        The model name may hold colons of its own; the last two fields are the width and the
        prefixes.

        Raises:
            ValueError: saying which part of ``text`` is wrong.
        """
        if not isinstance(text, str):
            raise ValueError(f"an embedding space is written as text, got {type(text).__name__}")
        parts = text.rsplit(":", 2)
        if len(parts) != 3:
            raise ValueError(
                f"{text!r} is not an embedding space: expected '<model>:<dimensions>:<prefixes>', "
                "e.g. 'text-embedding-3-small:1536:none'"
            )
        model, width, prefixes = parts
        if not width.isdigit() or not width.isascii() or str(int(width)) != width:
            raise ValueError(f"{text!r}: the width {width!r} is not a whole number")
        return cls(model, int(width), prefixes)

    @property
    def cache_namespace(self) -> str:
        """This space as a cache namespace: ``text-embedding-3-small.1536d.none``."""
        return cache_namespace_of(self.model, self.dimensions, self.prefixes)

    def describe(self) -> str:
        """In words: ``model text-embedding-3-small, 1536 dimensions, no prefixes``."""
        if self.prefixes == NO_PREFIXES:
            prefixes = "no prefixes"
        elif self.prefixes.startswith(_DIGEST_LABEL):
            prefixes = f"the same query_prefix and document_prefix ({self.prefixes})"
        else:
            prefixes = f"prefixes={self.prefixes!r}"
        return f"model {self.model}, {self.dimensions} dimensions, {prefixes}"


def space_setting(value: object) -> EmbeddingSpace | None:
    """The ``space`` setting from an EmbeddingSpace, its text, or None (pydantic's validator)."""
    if value is None or isinstance(value, EmbeddingSpace):
        return value
    if isinstance(value, str):
        return EmbeddingSpace.parse(value)
    raise ValueError(
        "space must be an EmbeddingSpace or its text, e.g. 'text-embedding-3-small:1536:none', "
        f"got {type(value).__name__}"
    )


# -- which orq option routed a request to a model ------------------------------------------------


def route_to(served: str, settings: EmbeddingSettings) -> str:
    """Which of the request's settings named a model of the ``served`` identity, in words.

    ``"orq.fallbacks[0] (cohere/embed-english-v3.0)"``; ``model`` itself when it is that model;
    otherwise a sentence saying that no setting of this client names it.
    """
    identity = model_identity(served)
    options = settings.orq
    routes = [f"model ({settings.model})"] * (model_identity(settings.model) == identity)
    routes += [
        f"orq.fallbacks[{index}] ({fallback.model})"
        for index, fallback in enumerate(options.fallbacks or ())
        if model_identity(fallback.model) == identity
    ]
    balanced = () if options.load_balancer is None else options.load_balancer.models
    routes += [
        f"orq.load_balancer.models[{index}] ({choice.model})"
        for index, choice in enumerate(balanced)
        if model_identity(choice.model) == identity
    ]
    if not routes:
        return "no setting of this client names that model (orq routed there on its own)"
    return " or ".join(routes)


# -- a client bound to a space -------------------------------------------------------------------


def bound_space_problems(
    bound: EmbeddingSpace | None, model: str, dimensions: int | None, prefixes: Prefixes
) -> list[ConfigurationProblem]:
    """What in a client's settings contradicts the space it is bound to: each such client would
    refuse every answer of the model it calls, so it is refused when it is made instead.

    A fallback to another model is what binding is for; the configured model, width and prefixes
    are the client's own, and must be the space's.
    """
    if bound is None:
        return []
    label = prefixes_label(prefixes)
    problems = []
    if model_identity(model) != bound.model:
        problems.append(f"names the model {bound.model}, but the client calls {model}")
    if dimensions is not None and dimensions != bound.dimensions:
        problems.append(f"has {bound.dimensions} dimensions, but dimensions is {dimensions}")
    if label != bound.prefixes:
        problems.append(f"has the prefixes {bound.prefixes}, but the client's are {label}")
    if not problems:
        return []
    return [
        ConfigurationProblem(
            ("space",),
            f"{bound} {' and '.join(problems)}, so every answer would be refused. Bind the "
            "space of the model these settings call, or set them to the space's",
        )
    ]


class SpaceCheck:
    """The spaces of one call's batches, each held to the space the client is bound to.

    Args:
        bound: the client's ``space`` setting; None checks nothing and only records.
        prefixes: the client's prefixes, part of every batch's space.
        settings: the request's settings, to say which option routed to another model.
    """

    def __init__(
        self, bound: EmbeddingSpace | None, prefixes: Prefixes, settings: EmbeddingSettings
    ) -> None:
        self._bound = bound
        self._prefixes = prefixes
        self._settings = settings

    def space_of(
        self, model: str | None, width: int, where: str, trace_id: str | None
    ) -> EmbeddingSpace | None:
        """The space of a batch ``model`` served with vectors of ``width``.

        Raises:
            EmbeddingSpaceError: the client is bound to another space, or to one and the
                response did not say which model served it; its vectors must not be returned.
        """
        space = EmbeddingSpace.served(model, width, self._prefixes)
        bound = self._bound
        if bound is None or space == bound:
            return space
        trace = f" (x-orq-trace-id {trace_id})" if trace_id else ""
        if space is None:
            raise EmbeddingSpaceError(
                f"{where}: the client is bound to {bound}, but the response did not name the "
                "model that served it, so its space cannot be checked; its vectors were not "
                f"returned{trace}",
                expected=bound,
            )
        raise EmbeddingSpaceError(
            f"{where}: the client is bound to {bound}, but {space} served this batch, routed "
            f"there by {route_to(space.model, self._settings)}; its vectors were not returned: "
            f"they are not comparable with vectors of {bound}. Remove that option, or rebuild "
            f"the index in {space} and bind to it{trace}",
            expected=bound,
            served=space,
        )


# -- the stamp a store keeps ---------------------------------------------------------------------


def stamp_text(space: EmbeddingSpace) -> str:
    """The stamp a store keeps: ``"orq-embeddings-space/1 text-embedding-3-small:1536:none"``.

    The format number lets a later version change the stamp: this one refuses a newer stamp
    rather than misread it.
    """
    return f"{_STAMP_HEADER}{STAMP_FORMAT} {space}"


def is_stamp(text: str) -> bool:
    """Whether ``text`` claims to be a stamp (whole or damaged), not someone else's text."""
    return text.startswith(_STAMP_HEADER)


def read_stamp(text: object, where: str) -> EmbeddingSpace:
    """The space a stamp names.

    Args:
        where: the store (or file) the stamp was read from, and where in it, for the message.

    Raises:
        EmbeddingSpaceError: a stamp written by a newer version, or damaged.
    """

    def damaged(reason: str) -> EmbeddingSpaceError:
        return EmbeddingSpaceError(
            f"{where} carries a damaged stamp {text!r} ({reason}), so the guard cannot tell "
            "which space its vectors are in and changed nothing. Rebuild it, or, if you know "
            "the model that built it, delete the stamp and guard it again with adopt=True"
        )

    if not isinstance(text, str):
        raise damaged(f"a {type(text).__name__}, not text")
    header, _, body = text.partition(" ")
    if not header.startswith(_STAMP_HEADER):
        raise damaged(f"it does not start with {_STAMP_HEADER!r}")
    version = header.removeprefix(_STAMP_HEADER)
    if not version.isdigit() or not version.isascii() or int(version) < 1:
        raise damaged(f"format {version!r} is not a number")
    if int(version) > STAMP_FORMAT:
        raise EmbeddingSpaceError(
            f"{where} carries a stamp written by a newer orq-embeddings (stamp format "
            f"{version}; this version reads format {STAMP_FORMAT}): upgrade orq-embeddings to "
            f"guard it. Nothing was changed. The stamp reads {text!r}"
        )
    try:
        return EmbeddingSpace.parse(body)
    except ValueError as error:
        raise damaged(str(error)) from None


# -- the guard's decision on a store -------------------------------------------------------------


class StampedStore(Protocol):
    """One vector store as the guard sees it; the adapters implement it, one module per store.

    The decision is :func:`guard_store`'s; a store's module says only where the store keeps the
    stamp, how many vectors it holds and how wide they are. A module that must reach into its
    library's private state does it there alone, through :func:`store_internal`, and tests/stores
    checks that the state is still where it reads it.
    """

    @property
    def description(self) -> str:
        """The store as its user knows it: ``Chroma collection 'docs' in /data/chroma``."""

    @property
    def stamp_location(self) -> str:
        """Where the stamp is kept: ``the collection's metadata, key 'orq_embeddings_space'``."""

    def read_stamp(self) -> object | None:
        """The stamp as stored, or None when the store has none."""

    def count_vectors(self) -> int:
        """How many vectors the store holds."""

    def vector_width(self) -> int | None:
        """The width the store's vectors have (declared, or of one stored), None if unknown."""

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        """Keep ``stamp`` (the text of ``space``) in the store's own persisted metadata.

        A store that makes its collection lazily, sized by the first vector, makes it now,
        sized by ``space``.
        """


def guard_store(
    store: StampedStore,
    space: EmbeddingSpace,
    *,
    adopt: bool = False,
    accepting: Callable[[], None] | None = None,
) -> None:
    """Stamp ``store`` with ``space`` or check its stamp; nothing is written to a refused store.

    - Stamped: the stamp must name ``space``.
    - No stamp, no vectors: stamped with ``space``.
    - No stamp, but vectors: never adopted silently; with ``adopt=True`` stamped with ``space``
      (when their width fits).

    Args:
        adopt: stamp an unstamped store that holds vectors, which the caller knows were made in
            ``space``.
        accepting: called when the store's stamp or emptiness would accept ``space``, before
            anything is written: the caller's last word (the store's own embeddings must be
            these), which may raise. A stamp naming another space is said first: it is what
            the store holds.

    Raises:
        EmbeddingSpaceError: the store's stamp names another space, is damaged or newer; it
            holds unstamped vectors and ``adopt`` is False; its vectors have another width.
    """
    where = f"{store.description} ({store.stamp_location})"
    stored = store.read_stamp()
    if stored is not None:
        stamped = read_stamp(stored, where)
        if stamped != space:
            raise EmbeddingSpaceError(
                f"{store.description} was built in {stamped}, but these embeddings make "
                f"{space}. Vectors of two spaces in one index give wrong search "
                "results without any error, so nothing was added or queried. Go back to the "
                f"model that built it ({stamped.describe()}), or rebuild it with these "
                "embeddings.",
                expected=stamped,
                served=space,
            )
        if accepting is not None:
            accepting()
        return
    width = store.vector_width()
    if width is not None and width != space.dimensions:
        raise EmbeddingSpaceError(
            f"{store.description} takes vectors of {width} dimensions, but these embeddings "
            f"make {space} ({space.dimensions} dimensions); nothing was changed. "
            f"Build it for {space.dimensions} dimensions, or use the model that made it.",
            served=space,
        )
    held = store.count_vectors()
    if held and not adopt:
        raise EmbeddingSpaceError(
            f"{store.description} holds {held} vectors but no stamp, so nothing says which "
            "space they are in, and the guard does not adopt it silently; nothing was changed. "
            f"If they were made in {space} ({space.describe()}), guard it with adopt=True to "
            "stamp it so; otherwise rebuild it with these embeddings.",
            served=space,
        )
    if accepting is not None:
        accepting()
    store.write_stamp(stamp_text(space), space)


# -- which store is which ------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportedStore:
    """A store class ``guard()`` supports: where users import it, and the module that stamps it.

    Attributes:
        path: the class as users import it, ``langchain_chroma.Chroma``.
        stamper: the adapter's module for it, whose ``stamped(store)`` makes its StampedStore.
    """

    path: str
    stamper: str


def stamped_store(store: object, supported: Sequence[SupportedStore]) -> StampedStore:
    """``store`` as the guard sees it, by the first supported class it is an instance of.

    Only classes whose package is already imported are looked at (a store's own package is), so
    no store library is imported here.

    Raises:
        TypeError: ``store`` is of none of the supported classes; the message lists them.
    """
    for entry in supported:
        package, _, name = entry.path.rpartition(".")
        module = sys.modules.get(package)
        kind = getattr(module, name, None) if module is not None else None
        if isinstance(kind, type) and isinstance(store, kind):
            made: StampedStore = import_module(entry.stamper).stamped(store)
            return made
    kind_of_store = f"{type(store).__module__}.{type(store).__qualname__}"
    raise TypeError(
        f"guard() cannot keep a stamp in a {kind_of_store}; it supports "
        + ", ".join(entry.path for entry in supported)
        + " (and their subclasses)"
    )


def store_internal(owner: object, name: str, library: str, purpose: str) -> Any:
    """``owner.name``, a private name of a store library that a store module reads.

    Where a store offers no public handle, its module reaches into private state through this,
    so that a release that drops the name fails with a message saying which, not with an
    AttributeError from deep inside the guard.

    Args:
        library: the distribution the name belongs to (``langchain-chroma``).
        purpose: what the guard reads it for, completing "which guard() reads to ...".

    Raises:
        RuntimeError: the installed version of ``library`` has no such name.
    """
    try:
        return getattr(owner, name)
    except AttributeError:
        try:
            installed = f"{library} {version(library)}"
        except PackageNotFoundError:
            installed = library
        owner_name = owner.__name__ if isinstance(owner, type) else type(owner).__qualname__
        raise RuntimeError(
            f"{installed} has no {owner_name}.{name}, which guard() reads to {purpose}; install "
            "a version of it that orq-embeddings supports, or a newer orq-embeddings"
        ) from None


# -- a pgvector table, stamped in its comment --------------------------------------------------


class PgvectorTable:
    """The SQL the guard runs on a store's own pgvector table; the stamp is the table's comment.

    A table comment is the table's own catalog metadata: it lives in the same database, goes
    with the table (``pg_dump`` keeps it, ``DROP TABLE`` drops it) and is never in a query's
    rows. SQL only; each store runs it on its own connections.

    Args:
        schema, table: the table's schema and name, as created (not quoted).
        column: the name of its vector column.
    """

    #: The table's comment (NULL when none) and whether it exists (NULL when not).
    QUERY = "SELECT obj_description(to_regclass(:table), 'pg_class'), to_regclass(:table)"

    def __init__(self, schema: str, table: str, column: str) -> None:
        self.qualified = f"{_quoted(schema)}.{_quoted(table)}"
        self._column = _quoted(column)

    def count_statement(self) -> str:
        """How many rows the table holds."""
        return f"SELECT count(*) FROM {self.qualified}"  # noqa: S608 (identifiers quoted)

    def width_statement(self) -> str:
        """The width of one stored vector (no row when the table is empty)."""
        # The identifiers are quoted (_quoted); no value of a caller's is spliced in.
        return f"SELECT vector_dims({self._column}) FROM {self.qualified} LIMIT 1"  # noqa: S608

    @staticmethod
    def stamp_of(comment: str | None) -> str | None:
        """The stamp in a comment; None for no comment or one of somebody else's."""
        return comment if comment is not None and is_stamp(comment) else None

    def comment_statement(self, stamp: str, comment: str | None, description: str) -> str:
        """The ``COMMENT ON TABLE`` that keeps ``stamp`` (COMMENT takes a literal, no parameter).

        Raises:
            EmbeddingSpaceError: the table has a comment of somebody else's, which it would
                replace.
        """
        if comment is not None and not is_stamp(comment):
            raise EmbeddingSpaceError(
                f"{description} has a comment of its own ({comment[:80]!r}), which the stamp "
                "would replace; nothing was changed. Remove the comment (COMMENT ON TABLE "
                f"{self.qualified} IS NULL) if it may go, then guard it again"
            )
        return f"COMMENT ON TABLE {self.qualified} IS {_unicode_literal(stamp)}"


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _unicode_literal(text: str) -> str:
    """``text`` as a PostgreSQL ``U&'...'`` literal, every character but ``[A-Za-z0-9 ./_-]``
    escaped: no quote, colon or percent sign is left for a driver or SQLAlchemy's ``text()``
    to take for a parameter."""
    escaped = "".join(
        character
        if character.isascii() and (character.isalnum() or character in " ./_-")
        else f"\\{ord(character):04X}"
        if ord(character) <= 0xFFFF
        else f"\\+{ord(character):06X}"
        for character in text
    )
    return f"U&'{escaped}'"
