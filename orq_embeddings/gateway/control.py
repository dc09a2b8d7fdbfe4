"""The control endpoints: how a test (or a CI script) inspects and steers a running gateway.

They live under ``/_local_gateway/``, a prefix orq.ai does not have, and take the API key when the
gateway has one. :class:`~orq_embeddings.gateway.local.LocalGateway` uses them, so a gateway in
another process is steered exactly like one in a thread.

========  ===============================  ==============================================
method    path                             does
========  ===============================  ==============================================
GET       /_local_gateway/requests         the request log, oldest first
GET       /_local_gateway/counters         the counters
GET       /_local_gateway/identities       the identities seen, by id
GET       /_local_gateway/models           the catalogue
GET       /_local_gateway/faults           the armed faults, with strikes left
POST      /_local_gateway/faults           arm faults: a body like the config's ``faults``
DELETE    /_local_gateway/faults           disarm every fault
POST      /_local_gateway/reset            back to how it started (see GatewayState.reset)
========  ===============================  ==============================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from .errors import GatewayError, invalid_request
from .faults import FaultSet
from .gateway_state import GatewayState
from .validation import describe_error

CONTROL_PREFIX = "/_local_gateway/"


def _requests(state: GatewayState, _: bytes) -> Any:
    return [record.model_dump(mode="json") for record in state.requests]


def _counters(state: GatewayState, _: bytes) -> Any:
    return state.counters.model_dump(mode="json")


def _identities(state: GatewayState, _: bytes) -> Any:
    return {
        identity_id: identity.model_dump(mode="json", exclude_none=True)
        for identity_id, identity in state.identities.items()
    }


def _models(state: GatewayState, _: bytes) -> Any:
    return [spec.model_dump(mode="json") for spec in state.catalogue]


def _armed_faults(state: GatewayState, _: bytes) -> Any:
    return state.faults.armed().model_dump(mode="json")


def _arm_faults(state: GatewayState, body: bytes) -> Any:
    try:
        faults = FaultSet.model_validate_json(body)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        raise invalid_request(
            "invalid faults: " + "; ".join(describe_error(problem) for problem in problems)
        ) from None
    state.faults.arm(faults)
    return state.faults.armed().model_dump(mode="json")


def _disarm_faults(state: GatewayState, _: bytes) -> Any:
    state.faults.clear()
    return state.faults.armed().model_dump(mode="json")


def _reset(state: GatewayState, _: bytes) -> Any:
    state.reset()
    return {}


_ENDPOINTS: dict[tuple[str, str], Callable[[GatewayState, bytes], Any]] = {
    ("GET", "requests"): _requests,
    ("GET", "counters"): _counters,
    ("GET", "identities"): _identities,
    ("GET", "models"): _models,
    ("GET", "faults"): _armed_faults,
    ("POST", "faults"): _arm_faults,
    ("DELETE", "faults"): _disarm_faults,
    ("POST", "reset"): _reset,
}


def answer_control(state: GatewayState, method: str, path: str, body: bytes) -> bytes:
    """The JSON answer of a control endpoint.

    Raises:
        GatewayError: 404 for a path or method that is not a control endpoint; 400 for invalid
            faults.
    """
    endpoint = _ENDPOINTS.get((method, path.removeprefix(CONTROL_PREFIX)))
    if endpoint is None:
        known = ", ".join(f"{m} {CONTROL_PREFIX}{p}" for m, p in _ENDPOINTS)
        raise GatewayError(404, f"no control endpoint {method} {path}; there are: {known}")
    return json.dumps(endpoint(state, body)).encode("utf-8")
