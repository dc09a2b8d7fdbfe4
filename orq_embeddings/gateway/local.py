"""``LocalGateway``: a local orq gateway for the length of a ``with`` block.

Point any orq or OpenAI-compatible client at ``base_url`` (router dialect) or ``gateway_base_url``
(the legacy gateway dialect), then steer and inspect the gateway through the methods here. They go
through the control endpoints, so a gateway in a child process is used exactly like one in a
thread::

    with LocalGateway() as gateway:
        gateway.inject(ProviderFault(model="openai/text-embedding-3-small", status=503, times=3))
        ...  # embed against gateway.base_url
        assert gateway.counters().attempts_by_model["openai/text-embedding-3-small"] == 3
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from ..extras import GATEWAY_SERVER, require
from ..options import Identity
from .app import GatewayApp
from .catalogue import ModelSpec
from .config import GatewayConfig
from .control import CONTROL_PREFIX
from .faults import Fault, FaultSet, ProviderFault, ResponseFault
from .request_log import Counters, RecordedRequest
from .server import ProcessServer, ThreadServer, bind

_CONTROL_TIMEOUT_SECONDS = 10.0


class LocalGateway:
    """An orq-compatible embeddings server on this machine, started and stopped by its owner.

    Args:
        config: the gateway's settings (default: no API key, no faults).
        host: the address to listen on.
        port: the port; 0 picks a free one.
        clock: monotonic seconds for cache expiry and the rate-limit window, to step past a ttl
            or a minute in a test without waiting.
            Only with ``separate_process=False``: a clock cannot cross into another process.
        separate_process: serve from a child process, so the gateway runs on its own core and
            never competes with the client for the GIL (for benchmarks). Starting takes longer.
        startup_timeout: seconds to wait for the server to listen.

    Raises:
        ValueError: a ``clock`` with ``separate_process=True``.
    """

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
        separate_process: bool = False,
        startup_timeout: float = 30.0,
    ) -> None:
        if clock is not None and separate_process:
            raise ValueError("a clock cannot be injected into a gateway in a separate process")
        self.config = config or GatewayConfig()
        self._host = host
        self._port = port
        self._clock = clock or time.monotonic
        self._separate_process = separate_process
        self._startup_timeout = startup_timeout
        self._server: ThreadServer | ProcessServer | None = None
        self._control: httpx.Client | None = None

    def __enter__(self) -> LocalGateway:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving; return once the gateway answers.

        Raises:
            MissingExtraError: uvicorn is not installed (the ``gateway`` extra); an ImportError.
            RuntimeError: it is already running, or did not start in time.
        """
        if self._server is not None:
            raise RuntimeError("this LocalGateway is already running")
        require("the local gateway", GATEWAY_SERVER)
        server: ThreadServer | ProcessServer
        if self._separate_process:
            server = ProcessServer(self.config, self._host, self._port)
        else:
            app = GatewayApp(self.config, clock=self._clock)
            server = ThreadServer(app, bind(self._host, self._port))
        server.start(self._startup_timeout)
        self._server = server
        headers = {}
        if self.config.api_key is not None:
            headers["authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        self._control = httpx.Client(
            base_url=self.url + CONTROL_PREFIX,
            headers=headers,
            timeout=max(_CONTROL_TIMEOUT_SECONDS, self._startup_timeout),
        )
        self.counters()  # the first answer proves the server is serving, not just listening

    def stop(self) -> None:
        """Stop serving and release the port; a stopped gateway may not be started again."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None:
            self._server.stop(self._startup_timeout)
            self._server = None

    @property
    def port(self) -> int:
        """The port the gateway listens on."""
        return self._running_server().port

    @property
    def pid(self) -> int:
        """The id of the process serving: this one, or the child with ``separate_process``."""
        return self._running_server().pid

    @property
    def url(self) -> str:
        """The server's root, such as ``http://127.0.0.1:50123``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The router dialect's base URL, orq's current API: ``{url}/v2/router``."""
        return f"{self.url}/v2/router"

    @property
    def gateway_base_url(self) -> str:
        """The legacy gateway dialect's base URL: ``{url}/v2/gateway``."""
        return f"{self.url}/v2/gateway"

    def inject(self, *faults: Fault) -> None:
        """Arm faults, after any already armed (the first that matches strikes first)."""
        armed = FaultSet(
            provider=tuple(f for f in faults if isinstance(f, ProviderFault)),
            response=tuple(f for f in faults if isinstance(f, ResponseFault)),
        )
        self._call("POST", "faults", content=armed.model_dump_json())

    def armed_faults(self) -> FaultSet:
        """The faults still armed, with ``times`` showing how many strikes each has left."""
        return FaultSet.model_validate(self._call("GET", "faults"))

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self._call("DELETE", "faults")

    def requests(self) -> list[RecordedRequest]:
        """The embeddings requests received, oldest first (credentials redacted)."""
        return [RecordedRequest.model_validate(item) for item in self._call("GET", "requests")]

    def counters(self) -> Counters:
        """Totals since start or the last reset: requests, attempts, cache hits, peak in flight."""
        return Counters.model_validate(self._call("GET", "counters"))

    def identities(self) -> dict[str, Identity]:
        """The people requests were attributed to (``orq.identity``/``orq.contact``), by id."""
        found = self._call("GET", "identities")
        return {key: Identity.model_validate(value) for key, value in found.items()}

    def models(self) -> list[ModelSpec]:
        """The models the gateway serves."""
        return [ModelSpec.model_validate(item) for item in self._call("GET", "models")]

    def reset(self) -> None:
        """Put the gateway back as it started: as good as a fresh one, and far quicker.

        The request log, counters, cache and identities are emptied, only the config's faults
        are armed, and the load balancer's randomness is seeded again.
        """
        self._call("POST", "reset")

    def _running_server(self) -> ThreadServer | ProcessServer:
        if self._server is None:
            raise RuntimeError("the LocalGateway is not running: use it in a with block")
        return self._server

    def _call(self, method: str, endpoint: str, content: str | None = None) -> Any:
        if self._control is None:
            raise RuntimeError("the LocalGateway is not running: use it in a with block")
        response = self._control.request(method, endpoint, content=content)
        response.raise_for_status()
        return response.json()


class GatewayPool:
    """Running gateways shared by many tests: one per config, reset before each use.

    A reset gateway behaves as a freshly started one (see :meth:`LocalGateway.reset`), and
    resetting takes a millisecond where a restart takes a fifth of a second.

    Args:
        clock: the clock every gateway of the pool reads (see :class:`LocalGateway`).
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock
        self._running: dict[GatewayConfig, LocalGateway] = {}

    def get(self, config: GatewayConfig) -> LocalGateway:
        """The pool's gateway for ``config``, started if need be, reset to how it started."""
        gateway = self._running.get(config)
        if gateway is None:
            gateway = LocalGateway(config, clock=self._clock)
            gateway.start()
            self._running[config] = gateway
        else:
            gateway.reset()
        return gateway

    def stop(self) -> None:
        """Stop every gateway of the pool."""
        for gateway in self._running.values():
            gateway.stop()
        self._running.clear()
