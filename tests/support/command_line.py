"""The ``orq-embeddings`` command line in a child process, as a user runs it from a shell.

Any interpreter's command line can be given (the dev environment's, or a fresh install's), so the
packaging tests and the CLI tests start the gateway the same way.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

import httpx
import pytest

#: The dev environment's command line, without relying on its console script.
DEV_COMMAND = (sys.executable, "-m", "orq_embeddings.cli")
STARTUP_SECONDS = 30


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the dev environment's ``orq-embeddings ARGS`` to its end; return what it printed."""
    return subprocess.run(
        [*DEV_COMMAND, *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gateway(
    *args: str, command: Sequence[str] = DEV_COMMAND
) -> tuple[subprocess.Popen[str], str]:
    """Run ``COMMAND gateway --port P ARGS`` in a child process; return it and its root URL.

    The gateway's stdout and stderr are one pipe, read when it stops (:func:`stop`).
    """
    port = free_port()
    process = subprocess.Popen(
        [*command, "gateway", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/", timeout=1)
            return process, url
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    output = process.communicate()[0]
    pytest.fail(f"the gateway did not start:\n{output}")


def stop(process: subprocess.Popen[str]) -> str:
    """Terminate the gateway; return everything it printed."""
    process.terminate()
    output, _ = process.communicate(timeout=10)
    return output
