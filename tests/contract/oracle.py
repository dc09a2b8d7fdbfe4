"""The oracle of what orq accepts: orq-ai-sdk 4.17's request models made strict, plus spec limits.

The SDK's pydantic models are lax on purpose (unknown keys ignored, ``None`` accepted for every
optional field, ``"5"`` coerced to 5); orq's schema is not. :func:`problems` walks a JSON body
against the models' annotations the way the schema reads:

- unknown keys are refused at every level (``additionalProperties: false``);
- a required field must be present;
- ``null`` is allowed only where the SDK spells the field ``Nullable`` / ``OptionalNullable``
  (``Optional[X] = None`` there means "may be left out", and the SDK's serializer never sends it);
- no coercion: a string is not a number, ``true`` is not an int.

The legacy gateway dialect has no SDK model: :class:`GatewayBody` spells the body shared/spec
documents, from the SDK's parts where both dialects share them (nullability carried over from the
router, the one thing the spec does not say for that dialect). The spec's numeric limits, which
the SDK models do not carry, are checked by :func:`limit_problems`. The oracle is independent of
the project: it never imports ``orq_embeddings``.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union

from orq_ai_sdk.models import (
    CreateEmbeddingRequestBody,
    EmbeddingCacheConfig,
    EmbeddingContactParams,
    EmbeddingLoadBalancerModelConfig,
    EmbeddingRetryConfig,
    EmbeddingTimeoutConfig,
    FallbackConfig,
)
from orq_ai_sdk.models.createembeddingop import CreateEmbeddingInput, EncodingFormat
from orq_ai_sdk.types import BaseModel
from orq_ai_sdk.types.basemodel import Nullable, OptionalNullable

#: The spec's documented limits (shared/spec), which the SDK's models leave out.
MAX_RETRY_COUNT = 5
MAX_CACHE_TTL = 259_200
FALLBACK_CODE_RANGE = (400, 599)
MAX_IDENTITY_ID = 255
MAX_METADATA_FIELDS = 20


class GatewayContact(EmbeddingContactParams):
    """The legacy body's ``orq.contact``: the router's contact plus ``logo_url`` (the seed body)."""

    logo_url: str | None = None


class GatewayOrq(BaseModel):
    """The legacy body's ``orq`` object: every routing field, a bare-list balancer, no codes."""

    name: str | None = None
    fallbacks: OptionalNullable[list[FallbackConfig]] = None
    cache: EmbeddingCacheConfig | None = None
    retry: EmbeddingRetryConfig | None = None
    contact: GatewayContact | None = None
    load_balancer: list[EmbeddingLoadBalancerModelConfig] | None = None
    timeout: EmbeddingTimeoutConfig | None = None


class GatewayBody(BaseModel):
    """The legacy ``/v2/gateway/embeddings`` body as shared/spec documents it."""

    input: CreateEmbeddingInput
    model: str
    encoding_format: EncodingFormat | None = None
    dimensions: int | None = None
    user: str | None = None
    orq: GatewayOrq | None = None


ROUTER_BODY: type[BaseModel] = CreateEmbeddingRequestBody
GATEWAY_BODY: type[BaseModel] = GatewayBody


def problems(model: type[BaseModel], body: Any) -> list[str]:
    """Everything in ``body`` the strict schema of ``model`` refuses, each naming its field."""
    return _object(model, body, "") + limit_problems(body, model is GATEWAY_BODY)


def _object(model: type[BaseModel], value: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where or 'body'}: expected an object"]
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    found = [f"{where}{key}: unknown field" for key in value if key not in fields]
    for key, field in fields.items():
        if key not in value:
            if field.is_required():
                found.append(f"{where}{key}: required")
            continue
        found += _value(field.annotation, value[key], f"{where}{key}")
    return found


def _value(annotation: Any, value: Any, where: str) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin in (Nullable, OptionalNullable):
        if value is None:
            return []
        return _value(typing.get_args(annotation)[0], value, where)
    if origin is None and hasattr(annotation, "__value__"):  # a type alias: read what it names
        return _value(annotation.__value__, value, where)
    if origin in (Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        # Optional[X] without Nullable: the field may be left out, but null is refused.
        if value is None:
            return [f"{where}: null is not allowed"]
        attempts = [_value(member, value, where) for member in members]
        return [] if any(not found for found in attempts) else min(attempts, key=len)
    if annotation is Any:
        return []
    if origin is Literal:
        allowed = typing.get_args(annotation)
        return [] if value in allowed and type(value) is str else [f"{where}: not one of {allowed}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: expected an array"]
        (item,) = typing.get_args(annotation)
        return [found for i, v in enumerate(value) for found in _value(item, v, f"{where}[{i}]")]
    if origin is dict:
        return [] if isinstance(value, dict) else [f"{where}: expected an object"]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _object(annotation, value, f"{where}.")
    return _scalar(annotation, value, where)


def _scalar(annotation: Any, value: Any, where: str) -> list[str]:
    if annotation is str:
        ok = type(value) is str
    elif annotation is int:
        ok = type(value) is int
    elif annotation is float:
        ok = type(value) in (int, float)
    else:
        raise TypeError(f"the oracle does not know {annotation!r} (at {where})")
    return [] if ok else [f"{where}: expected {annotation.__name__}, got {type(value).__name__}"]


def limit_problems(body: Any, gateway: bool) -> list[str]:
    """The spec's numeric and length limits, on a body whose shape may be anything."""
    if not isinstance(body, dict):
        return []
    found = _input_problems(body.get("input"))
    routing = body.get("orq") if gateway else body
    orq = body.get("orq")
    person_key = "contact" if gateway else "identity"
    prefix = "orq." if gateway else ""
    if isinstance(routing, dict):
        found += _routing_limits(routing, prefix)
    if not gateway and isinstance(orq, dict):
        found += _routing_limits(orq, "orq.")
    if isinstance(orq, dict):
        for key in {person_key, "contact"}:
            found += _person_limits(orq.get(key), f"orq.{key}")
    return found


def _input_problems(value: Any) -> list[str]:
    if value == "" or value == []:
        return ["input: must not be empty"]
    if isinstance(value, list):
        return [f"input[{i}]: empty string" for i, item in enumerate(value) if item == ""]
    return []


def _routing_limits(fields: dict[str, Any], prefix: str) -> list[str]:
    found = []
    retry = fields.get("retry")
    count = retry.get("count") if isinstance(retry, dict) else None
    if type(count) is int and not 0 <= count <= MAX_RETRY_COUNT:
        found.append(f"{prefix}retry.count: must be within 0-{MAX_RETRY_COUNT}")
    cache = fields.get("cache")
    if isinstance(cache, dict) and type(cache.get("ttl")) is int and cache["ttl"] > MAX_CACHE_TTL:
        found.append(f"{prefix}cache.ttl: at most {MAX_CACHE_TTL}")
    codes = fields.get("fallback_on_codes")
    if isinstance(codes, list) and all(type(code) is int for code in codes):
        low, high = FALLBACK_CODE_RANGE
        if any(not low <= code <= high for code in codes):
            found.append(f"{prefix}fallback_on_codes: codes must be within {low}-{high}")
        if len(set(codes)) != len(codes):
            found.append(f"{prefix}fallback_on_codes: codes must be unique")
    return found


def _person_limits(person: Any, where: str) -> list[str]:
    if not isinstance(person, dict):
        return []
    found = []
    if isinstance(person.get("id"), str) and len(person["id"]) > MAX_IDENTITY_ID:
        found.append(f"{where}.id: at most {MAX_IDENTITY_ID} characters")
    metadata = person.get("metadata")
    if isinstance(metadata, list) and len(metadata) > MAX_METADATA_FIELDS:
        found.append(f"{where}.metadata: at most {MAX_METADATA_FIELDS} fields")
    return found
