"""A provider's limit on inputs per request, refused the way Azure OpenAI refuses it.

Behind orq the provider's batch limit is unknown to a client (OpenAI takes 2,048 inputs, an Azure
deployment 16, Cohere 96). ``GatewayConfig.max_inputs_per_request`` lets the local gateway play
such a provider, so a client's answer to a refused batch (split it, remember what worked) can be
tested. The refusal is Azure's: a 400 whose message reads
``Too many inputs. The max number of inputs is N.``, here in the gateway's error shape with
``param`` ``"input"``.

This is not ``max_inputs``, the gateway's own schema limit, which is checked first and answered in
the gateway's words.
"""

from __future__ import annotations

from .errors import GatewayError, invalid_request


def batch_refusal(count: int, limit: int | None) -> GatewayError | None:
    """The 400 a batch of ``count`` inputs gets over ``limit`` (None: no limit, no refusal).

    It is ``invalid_request_body`` with Azure's message and ``param`` ``"input"``.
    """
    if limit is None or count <= limit:
        return None
    return invalid_request(f"Too many inputs. The max number of inputs is {limit}.", param="input")
