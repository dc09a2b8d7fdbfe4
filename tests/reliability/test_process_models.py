"""The ways real programs run a client: forked workers, Ctrl-C, event loops closed carelessly.

- gunicorn ``--preload``, multiprocessing's fork start method and Celery prefork fork a process
  whose client has pooled connections and worker threads: parent and child must each get their
  own answers, and the child must not wait on threads that exist only in the parent.
- Ctrl-C in the middle of a multi-batch sync call must let the process exit at once, not when
  the requests still in flight time out: measured on the process itself, from SIGINT to exit.
- Notebooks and frameworks close loops without ``shutdown_asyncgens()``; a hundred such loops
  must not leave a hundred open sockets.
- Ray, Spark and multiprocessing ship a client to their workers by pickle: a client in use
  travels without its live pools and opens new ones where it lands.
"""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient
from tests.support.scripted_server import ScriptedServer, after, embedding_reply
from tests.support.surfaces import KEY, MODEL

REPOSITORY = Path(__file__).resolve().parents[2]
#: Enough calls, each of several concurrent batches, that parent and child overlap throughout.
ROUNDS = 5
FORKED_CHILD_DEADLINE = 20.0


def _wait_for_exit(pid: int, deadline: float) -> int | None:
    """The child's exit status, or None (after killing it) if it had not exited by ``deadline``."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def _every_round_right(client: OrqEmbeddingsClient, texts: list[str], expected: list) -> str:
    for round_number in range(ROUNDS):
        if client.embed(texts).vectors != expected:
            return f"wrong vectors in round {round_number}"
    return "ok"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_parent_and_forked_child_calling_at_once_each_get_their_own_vectors(orq_gateway, reference):
    client = OrqEmbeddingsClient(
        MODEL, api_key=KEY, base_url=orq_gateway.base_url, batch_size=2, max_concurrency=4
    )
    parent_texts = [f"the parent's passage {i}" for i in range(24)]
    child_texts = [f"the child's passage {i}" for i in range(24)]
    parent_expected = reference.vectors(parent_texts)
    child_expected = reference.vectors(child_texts)
    # Pooled connections and worker threads exist before the fork, as after a preloading app.
    assert client.embed(parent_texts).vectors == parent_expected

    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        try:
            said = _every_round_right(client, child_texts, child_expected)
        except BaseException as error:
            said = f"raised {error!r}"
        os.write(writable, said.encode()[:1000])
        os._exit(0)
    os.close(writable)
    try:
        parent_said = _every_round_right(client, parent_texts, parent_expected)
        status = _wait_for_exit(pid, time.monotonic() + FORKED_CHILD_DEADLINE)
        child_said = os.read(readable, 1000).decode()
    finally:
        os.close(readable)
        client.close()

    assert status is not None, "the forked child hung"
    assert (parent_said, child_said) == ("ok", "ok")


CALL_THEN_CTRL_C = """
import sys
from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient

client = OrqEmbeddingsClient(
    "local/hashing-64", api_key="k", base_url=sys.argv[1],
    batch_size=1, max_concurrency=4, timeout=60, max_retries=0,
)
try:
    client.embed([f"text {i}" for i in range(16)])
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_during_a_multi_batch_sync_call_lets_the_process_exit_at_once(server):
    server.default = after(60, embedding_reply())  # every request stays in flight
    # every worker thread blocked in a request
    stdout, stderr, exit_seconds = interrupted_after(server, CALL_THEN_CTRL_C, requests=4)

    assert stdout.strip() == "interrupted", stderr
    assert exit_seconds < 3.0


def interrupted_after(
    server: ScriptedServer, script: str, requests: int, settle: float = 0.0
) -> tuple[str, str, float]:
    """Run ``script`` against ``server``; once it has sent ``requests``, and ``settle`` s more,
    send it SIGINT. Returns its stdout, stderr and the seconds it took to exit after the signal."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, server.base_url],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        waiting_since = time.monotonic()
        while len(server.requests) < requests:
            assert time.monotonic() - waiting_since < 20, "the call never sent its requests"
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)
        time.sleep(settle)
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
        return stdout, stderr, time.monotonic() - interrupted_at
    finally:
        process.kill()


CALL_PACED_THEN_CTRL_C = """
import sys
from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient

client = OrqEmbeddingsClient(
    "local/hashing-64", api_key="k", base_url=sys.argv[1],
    batch_size=1, max_concurrency=4, requests_per_minute=2,
)
try:
    client.embed([f"text {i}" for i in range(6)])
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_while_batches_wait_for_their_turn_stops_them_and_starts_nothing(server):
    # the budget's two; the other four wait a minute
    stdout, stderr, _ = interrupted_after(server, CALL_PACED_THEN_CTRL_C, requests=2, settle=0.2)

    assert stdout.strip() == "interrupted", stderr
    assert len(server.requests) == 2


LOOP_CYCLES = 100
#: Sockets of this process (the client's, and the scripted server's own ends) that may still be
#: closing when counted; before loops were held weakly, each cycle left two behind.
DESCRIPTOR_SLACK = 6


def test_loops_closed_without_shutting_down_async_generators_leave_no_sockets_behind(server):
    # One core client serves every surface's async calls: the adapters hold one each.
    client = OrqEmbeddingsClient(MODEL, api_key=KEY, base_url=server.base_url)
    gc.collect()
    descriptors_before = len(os.listdir("/proc/self/fd"))
    try:
        for _ in range(LOOP_CYCLES):
            loop = asyncio.new_event_loop()
            loop.run_until_complete(client.aembed(["a passage"]))
            loop.close()  # no shutdown_asyncgens(): the loop's pool cannot be closed on it
        del loop
        gc.collect()
        descriptors_after = len(os.listdir("/proc/self/fd"))
        still_open = server.open_connections(settle=0.2)
    finally:
        client.close()

    assert len(server.requests) == LOOP_CYCLES
    assert still_open <= 1  # the last loop's, let go when the next loop asks
    assert descriptors_after - descriptors_before <= DESCRIPTOR_SLACK


def test_close_and_gc_leave_no_socket_and_no_loop_of_loops_closed_carelessly(server):
    client = OrqEmbeddingsClient(MODEL, api_key=KEY, base_url=server.base_url)
    loops = []
    for _ in range(30):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(client.aembed(["a passage"]))
        loop.close()  # no shutdown_asyncgens()
        loops.append(weakref.ref(loop))
    del loop

    client.close()
    gc.collect()

    assert [ref for ref in loops if ref() is not None] == []
    assert server.open_connections() == 0


def test_clients_in_use_pickle_without_their_connections(orq_gateway):
    at = {"base_url": orq_gateway.base_url, "api_key": KEY}
    made = [
        OrqEmbeddingsClient(MODEL, **at),
        OrqEmbeddings(model=MODEL, **at),
        OrqEmbedding(model_name=MODEL, **at),
    ]
    core, langchain, llama_index = made
    core.embed(["warm"] * 3)
    langchain.embed_documents(["warm"])
    asyncio.run(langchain.aembed_documents(["warm"]))
    llama_index.get_text_embedding_batch(["warm"])
    for original in made:
        clone = pickle.loads(pickle.dumps(original))
        assert type(clone) is type(original)
    assert pickle.loads(pickle.dumps(core)).embed(["x"]).vectors == core.embed(["x"]).vectors
