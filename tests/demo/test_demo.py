"""``orq-embeddings demo`` as a new user runs it: offline, no key, right answers."""

from __future__ import annotations

import os
import socket

import pytest

from orq_embeddings.gateway import GatewayConfig
from orq_embeddings_demo.rag import run_demo
from tests.support.command_line import run_cli


def test_every_answer_is_the_expected_passage_in_both_frameworks(monkeypatch):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    said: list[str] = []
    answers = run_demo(say=said.append)
    assert len(answers) == 12
    assert [answer.passage.id for answer in answers if not answer.correct] == []
    assert any("local orq-compatible gateway" in line for line in said)


def test_the_command_runs_offline_and_shows_options_model_usage_and_faults_survived():
    env = {k: v for k, v in os.environ.items() if k not in ("ORQ_API_KEY", "ORQ_BASE_URL")}
    finished = run_cli("demo", env=env)
    assert finished.returncode == 0, finished.stderr
    shown = finished.stdout
    assert "retry: {'count': 2, 'on_codes': [429, 503]}" in shown
    assert "served by text-embedding-3-small" in shown
    assert "tokens" in shown
    assert "Gateway attempts at the provider: [503, 200]" in shown
    assert "12 of 12 answers are the expected passage." in shown


def test_help_lists_the_demo_beside_the_core_commands():
    finished = run_cli("--help")
    assert finished.returncode == 0
    for command in ("gateway", "embed", "demo"):
        assert command in finished.stdout


def test_with_a_key_and_orq_ai_unreachable_it_says_the_url_and_how_to_run_offline():
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}/v2/router"
    env = {**os.environ, "ORQ_API_KEY": "sk-demo-unreachable", "ORQ_BASE_URL": closed_url}

    finished = run_cli("demo", env=env)

    assert finished.returncode == 1
    (line,) = finished.stderr.splitlines()
    assert line.startswith(f"orq-embeddings demo: could not reach {closed_url} (")
    assert line.endswith("to run offline on a local gateway, unset ORQ_API_KEY")
    assert "sk-demo-unreachable" not in finished.stdout + finished.stderr


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """The stand-in for orq.ai wants a key the demo will not have."""
    return GatewayConfig(api_key="sk-the-right-key")


def test_with_a_key_orq_ai_refuses_it_says_so_in_one_line_and_how_to_run_offline(orq_gateway):
    env = {**os.environ, "ORQ_API_KEY": "sk-a-wrong-key", "ORQ_BASE_URL": orq_gateway.base_url}

    finished = run_cli("demo", env=env)

    assert finished.returncode == 1
    (line,) = finished.stderr.splitlines()
    assert line.startswith(f"orq-embeddings demo: {orq_gateway.base_url} refused the demo: ")
    assert "401" in line
    assert line.endswith("to run offline on a local gateway, unset ORQ_API_KEY")
    assert "sk-a-wrong-key" not in finished.stdout + finished.stderr
