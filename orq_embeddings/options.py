"""Typed, validated models of the options an orq.ai embeddings request carries.

Each model mirrors a field of orq's published request schema (shared/spec). They are validated on
construction, so a mistake surfaces where it is made, with the field and the limit named, not as
a 400 from the gateway halfway through indexing a corpus. Every model also accepts the plain dicts
that orq's documentation shows, so JSON pasted from the docs works unchanged.

What the spec leaves unset stays unset: a field left as ``None`` is omitted from the request and the
gateway applies its own default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ._validation import validated

#: The documented cap on the exact-match cache's time to live: three days, in seconds.
MAX_CACHE_TTL_SECONDS = 259_200
#: The documented cap on orq's own retries of one model.
MAX_ORQ_RETRY_COUNT = 5
#: The documented cap on the number of metadata entries of an identity.
MAX_IDENTITY_METADATA_FIELDS = 20
#: The documented cap on an identity id's length.
MAX_IDENTITY_ID_LENGTH = 255

EncodingFormat = Literal["float", "base64"]
NonEmptyStr = Annotated[str, Field(min_length=1)]


class _OptionModel(BaseModel):
    """Base for option models: immutable, unknown keys rejected (the API rejects them too)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _unique_status_codes(codes: tuple[int, ...], *, low: int, high: int) -> tuple[int, ...]:
    """Check that status codes are unique and within ``low``-``high``; return them unchanged."""
    out_of_range = [code for code in codes if not low <= code <= high]
    if out_of_range:
        raise ValueError(f"status codes must be within {low}-{high}; got {out_of_range}")
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValueError(f"status codes must be unique; repeated: {repeated}")
    return codes


class Fallback(_OptionModel):
    """A model orq tries when the previous one fails with a fallback code."""

    model: NonEmptyStr

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_model_id(cls, value: Any) -> Any:
        return {"model": value} if isinstance(value, str) else value


class RetryOptions(_OptionModel):
    """orq's server-side retries of one model: ``count`` more attempts on ``on_codes``."""

    count: int = Field(ge=0, le=MAX_ORQ_RETRY_COUNT)
    on_codes: tuple[int, ...] | None = None

    @field_validator("on_codes")
    @classmethod
    def _check_codes(cls, codes: tuple[int, ...] | None) -> tuple[int, ...] | None:
        return None if codes is None else _unique_status_codes(codes, low=100, high=599)


class CacheOptions(_OptionModel):
    """orq's exact-match response cache, keyed on model, input and every parameter."""

    type: Literal["exact_match"] = "exact_match"
    ttl: int | None = Field(default=None, ge=1, le=MAX_CACHE_TTL_SECONDS)


class WeightedModel(_OptionModel):
    """One model of a load balancer and its share of the traffic."""

    model: NonEmptyStr
    weight: float = Field(gt=0, allow_inf_nan=False)


class LoadBalancer(_OptionModel):
    """orq's weighted load balancer: each request goes to one model, picked at random by weight.

    Accepts the router form ``{"type": "weight_based", "models": [...]}`` and the gateway form,
    a bare list of ``{"model", "weight"}``.
    """

    type: Literal["weight_based"] = "weight_based"
    models: tuple[WeightedModel, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_list(cls, value: Any) -> Any:
        return {"models": value} if isinstance(value, (list, tuple)) else value


class CallTimeout(_OptionModel):
    """orq's deadline for each provider attempt (each fallback separately), in milliseconds."""

    call_timeout: int = Field(ge=1)


class Identity(_OptionModel):
    """The end user a request is attributed to (orq creates the identity if it is missing).

    ``contact`` is the older name of the same record. ``logo_url`` exists only in the legacy
    gateway dialect's body: orq's docs show it for the router too, but the router's schema has no
    such field, so a router client refuses it when it is made (see dialects.check_dialect_fits).
    """

    id: str = Field(min_length=1, max_length=MAX_IDENTITY_ID_LENGTH)
    display_name: str | None = None
    email: str | None = None
    metadata: tuple[dict[str, Any], ...] | None = Field(
        default=None, max_length=MAX_IDENTITY_METADATA_FIELDS
    )
    logo_url: str | None = None
    tags: tuple[str, ...] | None = None


class OrqOptions(_OptionModel):
    """orq's routing, cache and identity options for a request.

    Field names follow orq's request schema, so the ``orq`` object from orq's documentation can be
    passed as a dict. The same options are written to the wire in either dialect (see
    :mod:`orq_embeddings._wire.dialects`).
    """

    #: The schema sets no minimum length, so an empty name is sent as given.
    name: str | None = None
    fallbacks: tuple[Fallback, ...] | None = None
    fallback_on_codes: tuple[int, ...] | None = None
    retry: RetryOptions | None = None
    cache: CacheOptions | None = None
    load_balancer: LoadBalancer | None = None
    timeout: CallTimeout | None = None
    identity: Identity | None = Field(
        default=None, validation_alias=AliasChoices("identity", "contact")
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_identity_and_contact_together(cls, value: Any) -> Any:
        if isinstance(value, dict) and "identity" in value and "contact" in value:
            raise ValueError("give either 'identity' or 'contact' (its older name), not both")
        return value

    @field_validator("fallback_on_codes")
    @classmethod
    def _check_fallback_codes(cls, codes: tuple[int, ...] | None) -> tuple[int, ...] | None:
        return None if codes is None else _unique_status_codes(codes, low=400, high=599)

    @classmethod
    def parse(cls, value: OrqOptions | Mapping[str, Any] | None) -> OrqOptions:
        """Options from a dict as in orq's docs (or OrqOptions, or None for none).

        Unlike ``OrqOptions(...)`` and ``model_validate``, which raise pydantic's ValidationError,
        this raises the core's ConfigurationError, naming each field as ``orq.retry.count``.
        """
        return validated(cls, {} if value is None else value, prefix=("orq",))

    def merged(self, changes: OrqOptions | Mapping[str, Any] | None) -> OrqOptions:
        """Return these options with the fields set in ``changes`` replaced (a shallow merge).

        Raises:
            ConfigurationError: ``changes`` are not valid options.
        """
        if changes is None:
            return self
        overrides = OrqOptions.parse(changes)
        return self.model_copy(
            update={name: getattr(overrides, name) for name in overrides.model_fields_set}
        )


class EmbeddingSettings(_OptionModel):
    """Everything that shapes the request body apart from the inputs themselves."""

    model: NonEmptyStr
    dimensions: int | None = Field(default=None, ge=1)
    encoding_format: EncodingFormat = "base64"
    user: NonEmptyStr | None = None
    orq: OrqOptions = Field(default_factory=OrqOptions)

    @field_validator("orq", mode="before")
    @classmethod
    def _none_means_no_options(cls, value: Any) -> Any:
        return OrqOptions() if value is None else value
