"""Request bodies for orq's two wire dialects, as pure functions of settings and inputs.

- router (``/v2/router``, ``/v3/router``; the default): the routing fields sit at the top level
  of an OpenAI-compatible body and the end user is ``orq.identity``.
- gateway (the legacy ``/v2/gateway``): every routing field is nested in one ``orq`` object, the
  load balancer is a bare list and the end user is ``orq.contact``.

See shared/spec/orq-embeddings-api.md for both. Fields left unset are omitted, never sent as null,
and an option the dialect's schema has no place for is refused before anything is sent
(:func:`check_dialect_fits`): orq refuses unknown keys, so it would fail every request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from ..errors import ConfigurationProblem, UnsupportedOptionError
from ..options import EmbeddingSettings, OrqOptions
from .inputs import EmbeddingInput


class Dialect(str, Enum):
    """Which shape of request body an endpoint speaks."""

    ROUTER = "router"
    GATEWAY = "gateway"


def dialect_for_base_url(base_url: str) -> Dialect:
    """The dialect a base URL speaks: gateway for a path ending in ``/gateway``, else router."""
    path = urlsplit(base_url).path.rstrip("/")
    return Dialect.GATEWAY if path.endswith("/gateway") else Dialect.ROUTER


def _wire(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def _routing_fields(orq: OrqOptions, dialect: Dialect) -> dict[str, Any]:
    """The routing options (everything but the identity) as the dialect writes them."""
    fields: dict[str, Any] = {}
    if orq.name is not None:
        fields["name"] = orq.name
    if orq.fallbacks is not None:
        fields["fallbacks"] = [_wire(fallback) for fallback in orq.fallbacks]
    if orq.fallback_on_codes is not None:  # router only: check_dialect_fits
        fields["fallback_on_codes"] = list(orq.fallback_on_codes)
    if orq.retry is not None:
        fields["retry"] = _wire(orq.retry)
    if orq.cache is not None:
        fields["cache"] = _wire(orq.cache)
    if orq.load_balancer is not None:
        balancer = _wire(orq.load_balancer)
        fields["load_balancer"] = balancer["models"] if dialect is Dialect.GATEWAY else balancer
    if orq.timeout is not None:
        fields["timeout"] = _wire(orq.timeout)
    return fields


def check_dialect_fits(orq: OrqOptions, dialect: Dialect) -> None:
    """Refuse options that the dialect's published schema has no field for.

    Raises:
        UnsupportedOptionError: ``logo_url`` in the router dialect, ``fallback_on_codes`` in the
            gateway dialect.
    """
    if dialect is Dialect.ROUTER and orq.identity is not None and orq.identity.logo_url:
        raise UnsupportedOptionError(
            [
                ConfigurationProblem(
                    ("orq", "identity", "logo_url"),
                    "cannot be sent to the router: orq's documentation examples show logo_url, "
                    "but its published schema (the OpenAPI and orq-ai-sdk 4.17) has no such "
                    "field in identity or contact, and the router refuses unknown keys with a "
                    "400. Leave logo_url out, or use the legacy gateway dialect (a base_url "
                    "ending in /v2/gateway), whose contact carries it",
                )
            ]
        ) from None
    if dialect is Dialect.GATEWAY and orq.fallback_on_codes is not None:
        raise UnsupportedOptionError(
            [
                ConfigurationProblem(
                    ("orq", "fallback_on_codes"),
                    "is a router-only field: the legacy gateway body (a base_url ending in "
                    "/v2/gateway) has no place for it. Use a router base_url (.../v2/router) "
                    "or leave it out, and the gateway falls back on orq's default codes",
                )
            ]
        ) from None


def request_template(
    settings: EmbeddingSettings, dialect: Dialect = Dialect.ROUTER
) -> dict[str, Any]:
    """Every field of the request body except ``input``: the same for each batch of a call.

    Raises:
        UnsupportedOptionError: an option the dialect has no field for (see check_dialect_fits).
    """
    check_dialect_fits(settings.orq, dialect)
    body: dict[str, Any] = {
        "model": settings.model,
        "encoding_format": settings.encoding_format,
    }
    if settings.dimensions is not None:
        body["dimensions"] = settings.dimensions
    if settings.user is not None:
        body["user"] = settings.user
    routing = _routing_fields(settings.orq, dialect)
    identity = None if settings.orq.identity is None else _wire(settings.orq.identity)
    if dialect is Dialect.ROUTER:
        body.update(routing)
        if identity is not None:
            body["orq"] = {"identity": identity}
    else:
        nested = dict(routing)
        if identity is not None:
            nested["contact"] = identity
        if nested:
            body["orq"] = nested
    return body


def request_body(template: dict[str, Any], inputs: Sequence[EmbeddingInput]) -> dict[str, Any]:
    """The JSON body of one request: the call's template plus the batch's inputs.

    Args:
        template: from :func:`request_template`.
        inputs: the batch's inputs, already checked by
            :func:`orq_embeddings._wire.inputs.check_inputs`.
    """
    return {"input": list(inputs), **template}


def encode_request(template: dict[str, Any], inputs: Sequence[EmbeddingInput]) -> bytes:
    """The request body as compact UTF-8 JSON bytes, ready to send."""
    body = request_body(template, inputs)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
