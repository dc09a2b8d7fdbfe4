"""Without the ``[otel]`` extra nothing of OpenTelemetry is imported; without an SDK, nothing runs.

Each case is a fresh interpreter calling the local gateway (the suite's process has imported the
SDK long before): one where ``opentelemetry`` cannot be imported at all, as in an install without
the extra, and one with the API but no SDK configured, as in most installs that have it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.surfaces import KEY, MODEL

#: Makes ``opentelemetry`` and everything under it unimportable, as if it were not installed.
ABSENT = 'sys.modules["opentelemetry"] = None'
CALL = """
import json, sys
{prepare}
def loaded():
    return sorted(
        name for name, module in sys.modules.items()
        if name.split(".")[0] == "opentelemetry" and module is not None
    )
from orq_embeddings import OrqEmbeddingsClient
client = OrqEmbeddingsClient({model!r}, api_key={key!r}, base_url=sys.argv[1])
made = loaded()
vectors = client.embed(["a passage"]).vectors
print(json.dumps({{"made": made, "called": loaded(), "rows": len(vectors)}}))
"""


def call_in_a_fresh_interpreter(base_url: str, prepare: str = "") -> dict[str, list[str]]:
    script = CALL.format(prepare=prepare, model=MODEL, key=KEY)
    finished = subprocess.run(
        [sys.executable, "-c", script, base_url], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    outcome: dict[str, list[str]] = json.loads(finished.stdout)
    return outcome


def test_without_the_api_nothing_of_opentelemetry_is_imported_and_the_call_works(orq_gateway):
    outcome = call_in_a_fresh_interpreter(orq_gateway.base_url, prepare=ABSENT)

    assert outcome == {"made": [], "called": [], "rows": 1}
    [request] = orq_gateway.requests()
    assert "traceparent" not in request.headers


def test_with_the_api_and_no_sdk_no_sdk_is_imported_and_no_trace_is_started(orq_gateway):
    outcome = call_in_a_fresh_interpreter(orq_gateway.base_url)

    assert outcome["made"] == []  # making a client imports nothing of it; the first call does
    assert "opentelemetry.trace" in outcome["called"]
    assert [name for name in outcome["called"] if name.startswith("opentelemetry.sdk")] == []
    [request] = orq_gateway.requests()
    assert {"traceparent", "tracestate"} & request.headers.keys() == set()
