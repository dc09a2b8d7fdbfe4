"""Spans parent correctly however a call runs: worker threads, tasks, event loops, forked workers.

The sync client sends batches on worker threads, which do not have the caller's context; async
calls run in tasks, on as many event loops as the program has; a forked worker calls on a
client it inherited. In each, a request's span must be the child of its own call's span, and
that of the span current where the call was made.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading

import pytest

from orq_embeddings.gateway import ResponseFault
from tests.support.surfaces import Call, core_client
from tests.telemetry.spans import CALL_SPAN, REQUEST_SPAN, parent_id, span_id, trace_id

TEXTS = [f"text {i}" for i in range(8)]
FORKED_CHILD_DEADLINE = 20.0


def overlapping(spans) -> int:
    """The most spans open at one instant."""
    edges = sorted([(s.start_time, 1) for s in spans] + [(s.end_time, -1) for s in spans])
    most = open_now = 0
    for _, step in edges:
        open_now += step
        most = max(most, open_now)
    return most


def test_requests_sent_on_worker_threads_are_children_of_their_call(orq_gateway, otel):
    orq_gateway.inject(ResponseFault(latency_ms=50))
    call = Call(base_url=orq_gateway.base_url, batch_size=1, max_concurrency=4)

    with otel.tracer.start_as_current_span("ingest") as caller, core_client(call) as client:
        client.embed(TEXTS)

    [call_span] = otel.spans(CALL_SPAN)
    requests = otel.spans(REQUEST_SPAN)
    assert parent_id(call_span) == span_id(caller)
    assert len(requests) == 8
    assert {parent_id(request) for request in requests} == {span_id(call_span)}
    assert 1 < overlapping(requests) <= 4  # concurrent, and never more than max_concurrency


def test_concurrent_tasks_each_parent_their_requests_under_their_own_call(orq_gateway, otel):
    async def two_calls(client) -> None:
        await asyncio.gather(client.aembed(TEXTS[:4]), client.aembed(TEXTS[4:]))

    call = Call(base_url=orq_gateway.base_url, batch_size=2)
    with otel.tracer.start_as_current_span("query") as caller, core_client(call) as client:
        asyncio.run(two_calls(client))

    calls = otel.spans(CALL_SPAN)
    assert [parent_id(each) for each in calls] == [span_id(caller)] * 2
    for each in calls:
        children = [r for r in otel.spans(REQUEST_SPAN) if parent_id(r) == span_id(each)]
        assert len(children) == 2


def test_calls_on_many_event_loops_in_many_threads_stay_in_their_own_traces(orq_gateway, otel):
    client = core_client(Call(base_url=orq_gateway.base_url, batch_size=2))
    callers: dict[str, str] = {}  # each worker's span id -> its trace id

    def worker(name: str) -> None:
        with otel.tracer.start_as_current_span(name) as caller:
            callers[span_id(caller)] = trace_id(caller)
            for _ in range(2):  # a new event loop each time, as asyncio.run makes one
                asyncio.run(client.aembed(TEXTS))

    threads = [threading.Thread(target=worker, args=(f"worker {n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()

    calls = {span_id(span): span for span in otel.spans(CALL_SPAN)}
    assert sorted(parent_id(call) for call in calls.values()) == sorted(list(callers) * 2)
    for call in calls.values():
        assert trace_id(call) == callers[parent_id(call)]
    requests = otel.spans(REQUEST_SPAN)
    assert len(requests) == 24
    for request in requests:
        assert trace_id(request) == trace_id(calls[parent_id(request)])
    assert {request.caller_trace_id for request in orq_gateway.requests()} == set(callers.values())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_worker_parents_its_spans_under_its_own_job(orq_gateway, otel):
    client = core_client(Call(base_url=orq_gateway.base_url, batch_size=2, max_concurrency=2))
    client.embed(TEXTS)  # the parent's pools and worker threads exist when it forks
    reading, writing = os.pipe()

    pid = os.fork()
    if pid == 0:  # the child: one job under its own span, its spans sent back as JSON
        try:
            otel.exporter.clear()  # the parent's spans came along in the copied memory
            with otel.tracer.start_as_current_span("child job"):
                client.embed(TEXTS)
            spans = [
                {"name": s.name, "id": span_id(s), "parent": parent_id(s), "trace": trace_id(s)}
                for s in otel.spans()
            ]
            os.write(writing, json.dumps(spans).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        spans = json.loads(pipe.read() or "[]")
    os.waitpid(pid, 0)
    client.close()

    by_name: dict[str, list[dict[str, str]]] = {}
    for span in spans:
        by_name.setdefault(span["name"], []).append(span)
    [job], [call] = by_name["child job"], by_name[CALL_SPAN]
    requests = by_name[REQUEST_SPAN]
    assert call["parent"] == job["id"]
    assert len(requests) == 4
    assert {request["parent"] for request in requests} == {call["id"]}
    assert {request.caller_trace_id for request in orq_gateway.requests()[-4:]} == {job["trace"]}
