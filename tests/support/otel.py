"""A real OpenTelemetry SDK for one test: spans and metrics kept in memory, the globals put back.

The client and the local gateway use the global providers, as an application sets them with
``trace.set_tracer_provider`` (the README's three lines). The API lets a process set them once
(a second call is ignored with a warning), but each test needs fresh providers and none once it
is over, so :func:`recording` resets the API's "set once" guards around it. That is
OpenTelemetry's private state; opentelemetry-test-utils does the same for OpenTelemetry's own
tests, but it is not published where this project installs from. It lives here alone, and
tests/telemetry/test_otel_globals.py fails loudly when the API changes it.

The SDK is imported inside the functions: the lowest-versions environment has no SDK and
imports this module's conftest.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Tracer

#: The module globals of the API that hold the providers and their "set once" guards.
TRACE_GLOBALS = ("_TRACER_PROVIDER_SET_ONCE", "_TRACER_PROVIDER", "_PROXY_TRACER_PROVIDER")
METRICS_GLOBALS = ("_METER_PROVIDER_SET_ONCE", "_METER_PROVIDER", "_PROXY_METER_PROVIDER")


def reset_globals() -> None:
    """Put the API back as a process starts: no provider set, and free to set one."""
    from opentelemetry import trace
    from opentelemetry.metrics import _internal as metrics_internal
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]
    trace._PROXY_TRACER_PROVIDER = trace.ProxyTracerProvider()  # type: ignore[attr-defined]
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()


@dataclass(frozen=True)
class Recorded:
    """What the SDK of one test kept: finished spans and metric points."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    @property
    def tracer(self) -> Tracer:
        """A tracer for the test's own spans (the caller's side of a trace)."""
        from opentelemetry import trace

        return trace.get_tracer("tests")

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans in the order they ended; those called ``name``, if given."""
        spans = list(self.exporter.get_finished_spans())
        return [span for span in spans if name is None or span.name == name]

    def spans_of_kind(self, kind: str) -> list[ReadableSpan]:
        """Finished spans of ``kind`` (``CLIENT``, ``SERVER``, ``INTERNAL``)."""
        return [span for span in self.spans() if span.kind.name == kind]

    def server_spans(self, count: int, timeout: float = 5.0) -> list[ReadableSpan]:
        """The local gateway's SERVER spans, once ``count`` have ended.

        A server's span ends after its response is sent, so the client may hold the response
        before the gateway's thread has ended the span: wait for it, a little.
        """
        deadline = time.monotonic() + timeout
        while len(found := self.spans_of_kind("SERVER")) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} SERVER spans ended, not {count}")
            time.sleep(0.01)
        return found

    def points(self, metric: str) -> list[NumberDataPoint]:
        """The data points of ``metric`` collected now (histogram points have count and sum)."""
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for found in scope.metrics
            if found.name == metric
            for point in found.data.data_points
        ]


@contextmanager
def recording() -> Iterator[Recorded]:
    """Global tracer and meter providers of a real SDK for the block, kept in memory."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    reset_globals()
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    try:
        yield Recorded(exporter, reader)
    finally:
        reset_globals()
        tracer_provider.shutdown()
        meter_provider.shutdown()
