"""Where a call meets OpenTelemetry: a client's :class:`Telemetry` makes each call's trace.

With ``opentelemetry-api`` not installed, every call gets the trace that records nothing
(:mod:`.traces`), and nothing from OpenTelemetry is imported at all: the check is one
``find_spec``, made once. With the API installed, :mod:`.otel_telemetry` (imported on a
client's first call, not before) gives the recording kind; with no SDK configured it only passes
the caller's trace context on, and checks ``is_recording()`` before working anything out, so the
cost is nil in practice (benchmarks/telemetry_cost.py measures it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import ModuleType

from .._wire.batching import Batch
from .._wire.inputs import EmbeddingInput
from ..extras import is_installed
from .traces import NO_CALL_TRACE, CallTrace, TracedClient


@functools.cache
def _otel_telemetry() -> ModuleType | None:
    """The OpenTelemetry implementation, or None when the API is not installed (checked once)."""
    if not is_installed("opentelemetry.trace"):
        return None
    from . import otel_telemetry

    return otel_telemetry


class Telemetry:
    """One client's telemetry: makes each call's trace.

    Args:
        client: what the spans say of the client.
    """

    def __init__(self, client: TracedClient) -> None:
        self.client = client

    def call(self, inputs: Sequence[EmbeddingInput], batches: Sequence[Batch]) -> CallTrace:
        """The trace of a call embedding ``inputs`` in ``batches``; its span starts now."""
        otel = _otel_telemetry()
        if otel is None:
            return NO_CALL_TRACE
        trace: CallTrace = otel.OtelCallTrace(self.client, inputs, batches)
        return trace
