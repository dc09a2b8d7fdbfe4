"""Reading a request body, in either dialect, into one :class:`EmbeddingRequest` or a 400.

The wire models below are the published schema (shared/spec, checked against orq-ai-sdk 4.17),
strict as orq's is: no unknown fields at any level, no type coercion (``"512"`` is not a number),
no explicit ``null`` except where the schema allows one (``NotNull`` marks the rest), every
documented limit. Once valid, a body becomes the :class:`OrqOptions` the client shares, which adds
the checks across fields (unique codes, ...). Only the containers differ by dialect:

- router: routing fields at the top level, ``load_balancer`` as ``{"type", "models"}``, the
  person as ``orq.identity`` or its older name ``orq.contact`` (both given: ``identity`` wins),
  neither with ``logo_url``; ``orq`` may also carry deprecated copies of the routing fields, and
  top-level values win.
- gateway: every routing field inside ``orq`` except ``fallback_on_codes`` (router-only),
  ``load_balancer`` a bare list, the person as ``orq.contact``, which has ``logo_url``.

Every error message names the field, and so does the error's ``param``: the 400 says what to
change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from .._wire.dialects import Dialect
from .._wire.inputs import EmbeddingInput
from ..options import (
    MAX_CACHE_TTL_SECONDS,
    MAX_IDENTITY_ID_LENGTH,
    MAX_IDENTITY_METADATA_FIELDS,
    MAX_ORQ_RETRY_COUNT,
    CallTimeout,
    EncodingFormat,
    NonEmptyStr,
    OrqOptions,
    WeightedModel,
)
from .errors import GatewayError, invalid_request

#: How many problems one 400 message spells out.
_DETAILED_PROBLEMS = 5


@dataclass(frozen=True)
class EmbeddingRequest:
    """A valid request, the same whichever dialect carried it.

    Attributes:
        inputs: the inputs, a single string input as a one-item tuple; token ids as tuples.
        options: orq's routing, cache and identity options, wherever in the body they were.
    """

    dialect: Dialect
    inputs: tuple[EmbeddingInput, ...]
    model: str
    encoding_format: EncodingFormat
    dimensions: int | None
    user: str | None
    options: OrqOptions


def _refuse_null(value: Any) -> Any:
    """Refuse an explicit ``null``; runs only on values the body gave, never on a default."""
    if value is None:
        raise ValueError("null is not allowed here; leave the field out instead")
    return value


#: A field the body may leave out but may not set to ``null`` (the schema's non-nullable fields).
#: What it wraps is validated as Python, where strict mode takes no JSON array for a tuple: the
#: wire models hold lists.
NotNull = BeforeValidator(_refuse_null)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _WireFallback(_Strict):
    """``{"model": ...}``: the schema's form (the client's Fallback also takes a bare id)."""

    model: NonEmptyStr


class _WireCache(_Strict):
    """The schema requires ``type`` (the client's CacheOptions fills it in when left out)."""

    type: Literal["exact_match"]
    ttl: Annotated[int | None, NotNull, Field(ge=1, le=MAX_CACHE_TTL_SECONDS)] = None


class _WireIdentity(_Strict):
    """``orq.identity`` / the router's ``orq.contact``: no ``logo_url`` (SDK 4.17 and the OAS)."""

    id: str = Field(min_length=1, max_length=MAX_IDENTITY_ID_LENGTH)
    display_name: Annotated[str | None, NotNull] = None
    email: Annotated[str | None, NotNull] = None
    metadata: list[dict[str, Any]] | None = Field(
        default=None, max_length=MAX_IDENTITY_METADATA_FIELDS
    )
    tags: list[str] | None = None


class _WireContact(_WireIdentity):
    """The legacy body's ``orq.contact``, which also carries ``logo_url`` (the spec's seed body)."""

    logo_url: Annotated[str | None, NotNull] = None


class _WireRetry(_Strict):
    """``retry``; its codes are checked (range, repeats) with the other options, in OrqOptions."""

    count: int = Field(ge=0, le=MAX_ORQ_RETRY_COUNT)
    on_codes: list[int] | None = None


class _RoutingFields(_Strict):
    """The routing fields spelled the same wherever they appear."""

    # The schema sets no minimum length: an empty name is a name.
    name: Annotated[str | None, NotNull] = None
    fallbacks: list[_WireFallback] | None = None
    retry: Annotated[_WireRetry | None, NotNull] = None
    cache: Annotated[_WireCache | None, NotNull] = None
    timeout: Annotated[CallTimeout | None, NotNull] = None


class _RouterLoadBalancer(_Strict):
    type: Literal["weight_based"]
    # Required but nullable in the schema: null means no model to balance across.
    models: list[WeightedModel] | None = Field(min_length=1)


class _RouterOrq(_RoutingFields):
    identity: Annotated[_WireIdentity | None, NotNull] = None
    contact: Annotated[_WireIdentity | None, NotNull] = None
    load_balancer: Annotated[_RouterLoadBalancer | None, NotNull] = None


class _GatewayOrq(_RoutingFields):
    load_balancer: Annotated[list[WeightedModel] | None, NotNull, Field(min_length=1)] = None
    contact: Annotated[_WireContact | None, NotNull] = None


class _Body(_Strict):
    # Checked by _inputs, whose messages name the offending position.
    input: Any
    model: NonEmptyStr
    encoding_format: Annotated[EncodingFormat, NotNull] = "float"
    dimensions: Annotated[int | None, NotNull, Field(ge=1)] = None
    user: Annotated[str | None, NotNull] = None


class _RouterBody(_Body, _RoutingFields):
    fallback_on_codes: list[int] | None = None
    load_balancer: Annotated[_RouterLoadBalancer | None, NotNull] = None
    orq: Annotated[_RouterOrq | None, NotNull] = None


class _GatewayBody(_Body):
    orq: Annotated[_GatewayOrq | None, NotNull] = None


def parse_request(raw: bytes, dialect: Dialect, *, max_inputs: int) -> EmbeddingRequest:
    """Validate a request body and normalise it.

    Args:
        raw: the body bytes as received.
        dialect: which dialect the path speaks.
        max_inputs: the most inputs one request may carry.

    Raises:
        GatewayError: a 400 ``invalid_request_body`` naming every field that is wrong.
    """
    body_model = _RouterBody if dialect is Dialect.ROUTER else _GatewayBody
    try:
        body = body_model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise _invalid(error.errors(include_url=False, include_input=False)) from None
    inputs = _inputs(body.input)
    if len(inputs) > max_inputs:
        raise _bad_body(
            [
                f"`input` has {len(inputs)} items; this gateway accepts at most {max_inputs} "
                "per request (its max_inputs setting): send smaller batches"
            ]
        )
    options = _router_options(body) if isinstance(body, _RouterBody) else _gateway_options(body)
    return EmbeddingRequest(
        dialect=dialect,
        inputs=inputs,
        model=body.model,
        encoding_format=body.encoding_format,
        dimensions=body.dimensions,
        user=body.user,
        options=options,
    )


def _inputs(value: Any) -> tuple[EmbeddingInput, ...]:
    """The inputs as a tuple, or a 400 naming each bad position."""
    if isinstance(value, str):
        if not value:
            raise _bad_body(["`input` is an empty string; every input needs text"])
        return (value,)
    if not isinstance(value, list) or not value:
        raise _bad_body(
            [
                "`input` must be a non-empty string or a non-empty array of strings and "
                "token-id arrays"
            ]
        )
    if all(type(item) is int for item in value):
        raise _bad_body(
            ["`input` is a flat array of token ids, which is not accepted: wrap them as [[...]]"]
        )
    inputs: list[EmbeddingInput] = []
    problems: list[str] = []
    bad_positions: list[int] = []
    for position, item in enumerate(value):
        if isinstance(item, str) and item:
            inputs.append(item)
        elif _is_token_ids(item):
            inputs.append(tuple(item))
        elif item == "":
            bad_positions.append(position)
            problems.append(f"`input[{position}]` is an empty string")
        else:
            bad_positions.append(position)
            problems.append(
                f"`input[{position}]` must be a non-empty string or a non-empty array of "
                "non-negative integer token ids"
            )
    if problems:
        raise _bad_body(problems, param=f"input[{bad_positions[0]}]")
    return tuple(inputs)


def _is_token_ids(item: object) -> bool:
    # bool is an int subclass; JSON's true is not a token id.
    return (
        isinstance(item, list)
        and bool(item)
        and all(type(token) is int and token >= 0 for token in item)
    )


def _router_options(body: _RouterBody) -> OrqOptions:
    """Routing options from the ``orq`` object, overridden by the top-level fields.

    ``orq.identity`` and ``orq.contact`` may both be given (the schema defines both keys); then
    ``identity`` wins: it is the current name, ``contact`` the older one, just as the current
    top-level fields win over their deprecated copies in ``orq``.
    """
    fields: dict[str, Any] = {}
    if body.orq is not None:
        fields = _set_fields(body.orq)
        identity, contact = fields.pop("identity", None), fields.pop("contact", None)
        person = identity if identity is not None else contact
        if person is not None:
            fields["identity"] = person
    routing = set(OrqOptions.model_fields) - {"identity"}
    fields.update({k: v for k, v in _set_fields(body).items() if k in routing})
    return _options(fields, location=())


def _gateway_options(body: _GatewayBody) -> OrqOptions:
    if body.orq is None:
        return OrqOptions()
    fields = _set_fields(body.orq)
    if "contact" in fields:
        fields["identity"] = fields.pop("contact")
    return _options(fields, location=("orq",))


def _set_fields(model: BaseModel) -> dict[str, Any]:
    """The fields a body gave, as plain JSON values; a ``null`` is the same as leaving it out."""
    fields = model.model_dump(mode="json", exclude_unset=True)
    balancer = fields.get("load_balancer")
    if isinstance(balancer, dict) and balancer.get("models") is None:
        fields.pop("load_balancer")  # a balancer over no models balances nothing
    return {name: value for name, value in fields.items() if value is not None}


def _options(fields: dict[str, Any], location: tuple[str, ...]) -> OrqOptions:
    """The shared options model, which adds the checks across fields (unique codes, ...)."""
    try:
        return OrqOptions.model_validate(fields)
    except ValidationError as error:
        details = error.errors(include_url=False, include_input=False)
        for detail in details:
            detail["loc"] = (*location, *detail["loc"]) or ("orq",)
        raise _invalid(details) from None


def _invalid(errors: Sequence[ErrorDetails]) -> GatewayError:
    first = _dotted(errors[0]["loc"]) if errors else ""
    return _bad_body([describe_error(error) for error in errors], param=first or None)


def describe_error(error: ErrorDetails) -> str:
    """One pydantic error as a sentence that names the field."""
    kind = error["type"]
    if kind == "json_invalid":
        return f"the request body is not valid JSON ({error['msg']})"
    if kind == "model_type" and not error["loc"]:
        return "the request body must be a JSON object"
    field = _dotted(error["loc"])
    if kind == "extra_forbidden":
        return f"unknown field `{field}`: the schema allows no fields it does not define"
    if kind == "missing":
        return f"`{field}` is required"
    return f"`{field}`: {error['msg'].removeprefix('Value error, ')}"


def _dotted(location: Sequence[int | str]) -> str:
    """``("orq", "load_balancer", 0, "weight")`` -> ``orq.load_balancer[0].weight``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _bad_body(problems: Sequence[str], param: str | None = "input") -> GatewayError:
    """A 400 listing the first few problems and counting the rest.

    Args:
        param: the field of the first problem (most are about ``input``, the default).
    """
    shown = "; ".join(problems[:_DETAILED_PROBLEMS])
    more = len(problems) - _DETAILED_PROBLEMS
    return invalid_request(
        f"invalid request body: {shown}" + (f"; and {more} more" if more > 0 else ""),
        param,
    )
