"""The OpenTelemetry API state tests/support/otel.py resets is where it expects it.

Resetting the global providers between tests is private to the API (see tests/support/otel.py).
When a new opentelemetry-api moves it, these fail here, naming what moved, rather than every
telemetry test failing with a provider that would not change.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.metrics import _internal as metrics_internal

from tests.support.otel import METRICS_GLOBALS, TRACE_GLOBALS, recording


def test_the_api_keeps_its_providers_in_the_globals_the_tests_reset():
    assert [name for name in TRACE_GLOBALS if not hasattr(trace, name)] == []
    assert [name for name in METRICS_GLOBALS if not hasattr(metrics_internal, name)] == []


def test_each_recording_gets_its_own_providers_and_leaves_none_behind():
    with recording() as first:
        trace.get_tracer("probe").start_span("in the first").end()
    with recording() as second:
        trace.get_tracer("probe").start_span("in the second").end()

    assert [span.name for span in first.spans()] == ["in the first"]
    assert [span.name for span in second.spans()] == ["in the second"]
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
