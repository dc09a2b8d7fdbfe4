"""``orq-embeddings gateway`` as a new user runs it: start, embed once, stop; and ``--help``."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from orq_embeddings.cli import build_parser, main
from orq_embeddings.gateway.command import config_from
from tests.support.command_line import start_gateway, stop
from tests.support.gateway_http import SMALL

GATEWAY_FLAGS = [
    "--host",
    "--port",
    "--api-key",
    "--config",
    "--max-inputs",
    "--max-body-bytes",
    "--requests-per-minute",
    "--max-inputs-per-request",
    "--retry-backoff",
    "--orq-backoff",
    "--seed",
    "--log-level",
]


def test_the_gateway_command_serves_until_terminated():
    process, url = start_gateway("--log-level", "warning")
    try:
        response = httpx.post(
            f"{url}/v2/router/embeddings", json={"input": "hello", "model": SMALL}
        )
        assert response.status_code == 200
        assert len(response.json()["data"][0]["embedding"]) == 1536
    finally:
        output = stop(process)
    # uvicorn shuts down gracefully, then lets SIGTERM end the process as it would by default.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in output
    assert f"{url}/v2/router" in output
    assert "limits:" not in output  # none by default


def test_the_gateway_command_takes_its_api_key_and_config_file(tmp_path: Path):
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"faults": {"response": [{"status": 503, "times": 1}]}}))
    process, url = start_gateway("--api-key", "sk-cli", "--config", str(config))
    try:
        endpoint = f"{url}/v2/router/embeddings"
        body = {"input": "hello", "model": SMALL}
        assert httpx.post(endpoint, json=body).status_code == 401
        authorized = {"Authorization": "Bearer sk-cli"}
        assert httpx.post(endpoint, json=body, headers=authorized).status_code == 503
        assert httpx.post(endpoint, json=body, headers=authorized).status_code == 200
    finally:
        output = stop(process)
    assert "sk-cli" not in output


def test_an_invalid_config_file_is_refused_with_exit_status_2(tmp_path: Path, capsys):
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"max_inputs": 0}))

    assert main(["gateway", "--config", str(config)]) == 2
    assert "max_inputs" in capsys.readouterr().err


def test_help_explains_every_gateway_flag():
    gateway_help = next(
        action.choices["gateway"]
        for action in build_parser()._actions
        if getattr(action, "choices", None) and "gateway" in action.choices
    ).format_help()

    for flag in GATEWAY_FLAGS:
        described = re.search(rf"{flag}( \S+)?\s+\S", gateway_help)
        assert described, f"{flag} is not explained in --help"


def test_help_runs_as_a_command():
    result = subprocess.run(
        [sys.executable, "-m", "orq_embeddings.cli", "gateway", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "--api-key" in result.stdout and "Config file" in result.stdout


def test_ctrl_c_stops_the_gateway_with_status_130_and_one_line():
    process, _ = start_gateway("--log-level", "warning")
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=10)

    assert process.returncode == 130
    assert "Traceback" not in output
    assert output.splitlines()[-1] == "orq-embeddings gateway: stopped (Ctrl-C)"


@pytest.mark.parametrize(
    ("flags", "backoff"),
    [([], 0.0), (["--orq-backoff"], 1.0), (["--retry-backoff", "0.25"], 0.25)],
    ids=["instant-by-default", "orq-backoff", "retry-backoff"],
)
def test_the_backoff_flags_set_the_gateways_first_retry_wait(flags, backoff):
    args = build_parser().parse_args(["gateway", *flags])

    assert config_from(args).retry_backoff_seconds == backoff


def test_the_limit_flags_reach_the_config_and_default_to_no_limit():
    limited = config_from(
        build_parser().parse_args(
            ["gateway", "--requests-per-minute", "30", "--max-inputs-per-request", "16"]
        )
    )
    unlimited = config_from(build_parser().parse_args(["gateway"]))

    assert (limited.requests_per_minute, limited.max_inputs_per_request) == (30, 16)
    assert (unlimited.requests_per_minute, unlimited.max_inputs_per_request) == (None, None)


def test_a_limit_flag_under_one_is_refused_with_exit_status_2(capsys):
    assert main(["gateway", "--requests-per-minute", "0"]) == 2
    assert "requests_per_minute" in capsys.readouterr().err


def test_the_gateway_command_enforces_its_limits():
    process, url = start_gateway(
        "--log-level", "warning", "--requests-per-minute", "2", "--max-inputs-per-request", "2"
    )
    try:
        endpoint = f"{url}/v2/router/embeddings"
        too_many = httpx.post(endpoint, json={"input": ["a", "b", "c"], "model": SMALL})
        served = httpx.post(endpoint, json={"input": ["a", "b"], "model": SMALL})
        limited = httpx.post(endpoint, json={"input": "a", "model": SMALL})
    finally:
        output = stop(process)
    assert "limits: 2 requests per minute per API key, 2 inputs per request" in output
    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"] == "Too many inputs. The max number of inputs is 2."
    assert served.status_code == 200
    assert limited.status_code == 429
    assert limited.headers["x-ratelimit-limit"] == "2"
