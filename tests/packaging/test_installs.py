"""The wheel installed as users install it, one extra at a time, each in a fresh venv.

In each install: every ``--help`` works; what the install brings imports, and what it lacks
raises (or exits 2 with) one line naming the ``pip install`` to run; one real
``orq-embeddings embed`` runs against a local gateway on 127.0.0.1, on each engine the install
brings (``[ray]``, ``[spark]``: each installed alone); and a call imports OpenTelemetry's API only
where ``[otel]`` brought it, and its SDK never.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.command_line import DEV_COMMAND, start_gateway, stop

from .installs import Install, Venv, make_venv, other_pythons

# Building the venvs takes most of it: pip's cache keeps each install to seconds.
pytestmark = pytest.mark.timeout(600)

INSTALLS = [
    Install(),
    Install(("langchain",)),
    Install(("llama-index",)),
    Install(("gateway",)),
    Install(("otel",)),
    Install(("all",)),
    Install(("ray",)),
    Install(("spark",)),
    # The core install on every other supported Python this machine has.
    *(Install(python=python) for python in other_pythons()),
]
MODEL = "openai/text-embedding-3-small"

#: Imports the core and each adapter, and starts the local gateway, in the install; prints the
#: outcome of each.
PROBE = """
import json
import orq_embeddings
outcome = {"orq_embeddings": orq_embeddings.__file__}
def attempt(name, action):
    try:
        action()
        outcome[name] = "ok"
    except ImportError as error:
        outcome[name] = f"{type(error).__name__}: {error}"
def import_the_core():
    from orq_embeddings import OrqEmbeddingsClient, OrqOptions
    from orq_embeddings.bulk import run_bulk_job
    from orq_embeddings.gateway import GatewayConfig, LocalGateway
attempt("the core", import_the_core)
attempt("langchain_orq", lambda: __import__("langchain_orq").OrqEmbeddings)
attempt("llama_index_orq", lambda: __import__("llama_index_orq").OrqEmbedding)
def start_the_local_gateway():
    from orq_embeddings.gateway import LocalGateway
    with LocalGateway():
        pass
attempt("the local gateway", start_the_local_gateway)
attempt("orq_embeddings.ray", lambda: __import__("orq_embeddings.ray").ray.embed_dataset)
attempt("orq_embeddings.spark", lambda: __import__("orq_embeddings.spark").spark.embed_dataframe)
print(json.dumps(outcome))
"""


@pytest.fixture(scope="module", params=INSTALLS, ids=lambda install: install.id)
def installed(request, distributions, tmp_path_factory) -> Venv:
    install: Install = request.param
    return make_venv(tmp_path_factory.mktemp(f"venv-{install.id}"), install, distributions.wheel)


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("args", [[], ["gateway"], ["embed"], ["demo"]], ids=" ".join)
def test_every_help_works(installed, args):
    finished = installed.run("orq-embeddings", *args, "--help")

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith(f"usage: {' '.join(['orq-embeddings', *args])} ")
    assert finished.stderr == ""


def test_each_adapter_and_the_gateway_import_or_name_the_extra_to_install(installed):
    finished = installed.run("python", "-c", PROBE)
    assert finished.returncode == 0, finished.stderr
    outcome = json.loads(finished.stdout)
    assert Path(outcome["orq_embeddings"]).is_relative_to(installed.path)  # the wheel's, not ours

    assert outcome["the core"] == "ok"  # every install: the client, bulk jobs, gateway config
    expected = {
        "langchain_orq": "langchain",
        "llama_index_orq": "llama-index",
        "the local gateway": "gateway",
        "orq_embeddings.ray": "ray",
        "orq_embeddings.spark": "spark",
    }
    for name, extra in expected.items():
        if installed.install.has(extra):
            assert outcome[name] == "ok"
        else:
            assert outcome[name].startswith(f"MissingExtraError: {name} needs ")
            assert outcome[name].endswith(f'run pip install "orq-embeddings[{extra}]"')


def test_the_gateway_command_runs_or_names_its_extra(installed):
    if installed.install.has("gateway"):
        process, url = start_gateway("--log-level", "warning", command=[str(installed.cli)])
        output = stop(process)
        assert f"listening on {url}" in output
    else:
        finished = installed.run("orq-embeddings", "gateway", "--port", "0")
        assert finished.returncode == 2
        assert one_line(finished.stderr) == (
            "orq-embeddings gateway: this command needs uvicorn and httptools, which are not "
            'installed: run pip install "orq-embeddings[gateway]"'
        )


def test_the_demo_runs_offline_or_names_the_extras_to_install(installed):
    missing = [extra for extra in ("langchain", "llama-index") if not installed.install.has(extra)]
    finished = installed.run("orq-embeddings", "demo")

    if missing:
        assert finished.returncode == 2
        assert one_line(finished.stderr).endswith(
            f'run pip install "orq-embeddings[{",".join(missing)}]"'
        )
    else:
        assert finished.returncode == 0, finished.stderr
        assert "12 of 12 answers are the expected passage." in finished.stdout


@pytest.fixture
def gateway_url(installed) -> Iterator[str]:
    """A local gateway: the install's own when it has the extra, else the dev environment's."""
    command = [str(installed.cli)] if installed.install.has("gateway") else DEV_COMMAND
    process, url = start_gateway("--log-level", "warning", command=command)
    yield url
    stop(process)


def test_embed_writes_vectors_from_a_local_gateway(installed, gateway_url, tmp_path: Path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a first text\na second text\na third text\n")
    output = tmp_path / "vectors.npy"

    finished = installed.run(
        "orq-embeddings",
        "embed",
        corpus,
        "-o",
        output,
        "--model",
        MODEL,
        "--base-url",
        f"{gateway_url}/v2/router",
    )

    assert finished.returncode == 0, finished.stderr
    assert np.load(output).shape == (3, 1536)
    assert f"wrote 3 vectors of 1536 dimensions to {output}" in finished.stderr


#: One call against a gateway; prints the OpenTelemetry modules the process has imported.
OTEL_PROBE = """
import json, sys
from orq_embeddings import OrqEmbeddingsClient
client = OrqEmbeddingsClient("openai/text-embedding-3-small", base_url=sys.argv[1])
client.embed(["a text"])
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] == "opentelemetry")))
"""


def test_a_call_imports_opentelemetry_only_with_the_otel_extra_and_never_its_sdk(
    installed, gateway_url
):
    finished = installed.run("python", "-c", OTEL_PROBE, f"{gateway_url}/v2/router")

    assert finished.returncode == 0, finished.stderr
    imported = json.loads(finished.stdout)
    if installed.install.has("otel"):
        assert "opentelemetry.trace" in imported
        assert [name for name in imported if name.startswith("opentelemetry.sdk")] == []
    else:
        assert imported == []


#: Guards each framework's own in-memory store in the install; prints the space each bound to,
#: and the store libraries the guard imported (none may be: the install has none).
GUARD_PROBE = """
import json, sys
base_url, adapters = sys.argv[1], sys.argv[2:]
spaces = {}
if "langchain" in adapters:
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_orq import OrqEmbeddings
    embeddings = OrqEmbeddings(model="openai/text-embedding-3-small", base_url=base_url)
    embeddings.guard(InMemoryVectorStore(embeddings))
    spaces["langchain"] = str(embeddings.space)
if "llama-index" in adapters:
    from llama_index.core.vector_stores import SimpleVectorStore
    from llama_index_orq import OrqEmbedding
    embed_model = OrqEmbedding(model_name="openai/text-embedding-3-small", base_url=base_url)
    embed_model.guard(SimpleVectorStore())
    spaces["llama-index"] = str(embed_model.space)
stores = ("chromadb", "qdrant_client", "langchain_postgres", "sqlalchemy", "psycopg")
print(json.dumps({"spaces": spaces, "imported": [m for m in stores if m in sys.modules]}))
"""


def test_each_adapter_guards_its_frameworks_own_store_with_no_store_library(installed, gateway_url):
    adapters = [extra for extra in ("langchain", "llama-index") if installed.install.has(extra)]
    if not adapters:
        pytest.skip("this install has no adapter")
    finished = installed.run("python", "-c", GUARD_PROBE, f"{gateway_url}/v2/router", *adapters)
    assert finished.returncode == 0, finished.stderr
    outcome = json.loads(finished.stdout)
    assert outcome["spaces"] == dict.fromkeys(adapters, "text-embedding-3-small:1536:none")
    if installed.install.has("langchain") and not installed.install.has("llama-index"):
        assert outcome["imported"] == []


@pytest.mark.parametrize("engine", ["ray", "spark"])
def test_embed_on_an_engine_runs_or_names_its_extra(installed, gateway_url, engine, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a first text\na second text\na third text\n")
    output = tmp_path / "vectors.npy"
    if installed.install.has(engine) and engine == "spark" and shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 or 21; `make test` installs default-jre-headless")

    finished = installed.run(
        "orq-embeddings", "embed", corpus, "-o", output, "--model", MODEL, "--engine", engine,
        "--base-url", f"{gateway_url}/v2/router", timeout=240,
    )  # fmt: skip

    if installed.install.has(engine):
        assert finished.returncode == 0, finished.stderr[-3000:]
        assert np.load(output).shape == (3, 1536)
    else:
        assert finished.returncode == 2
        assert one_line(finished.stderr).startswith(
            f"orq-embeddings embed: --engine {engine} needs"
        )
        assert one_line(finished.stderr).endswith(f'run pip install "orq-embeddings[{engine}]"')
