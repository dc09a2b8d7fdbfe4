"""``orq-embeddings gateway``: run the local orq gateway in the foreground until interrupted."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from .catalogue import PRECOMPUTED_MODEL_ID
from .config import ORQ_BACKOFF_SECONDS, GatewayConfig

_DESCRIPTION = """\
Serve orq.ai's embeddings API on this machine: offline development, demos, and tests in CI.

Router dialect (orq's current API):  http://HOST:PORT/v2/router/embeddings  (and /v3/router)
Gateway dialect (legacy):            http://HOST:PORT/v2/gateway/embeddings
Point a client at http://HOST:PORT/v2/router, e.g. ORQ_BASE_URL=http://127.0.0.1:8080/v2/router.

Vectors are deterministic and meaningful (feature hashing, one vector space per model), not a
provider's. orq's retries, fallbacks, load balancer, call timeout and exact-match cache are
emulated; faults are injected from the config file (see its "faults") or at
/_local_gateway/faults while it runs.
"""

_EPILOG = f"""\
Config file (JSON; every key optional; flags given on the command line win):
  {{"api_key": "...", "max_inputs": 2048, "max_body_bytes": 16777216,
   "retry_backoff_seconds": 0, "seed": 7,
   "requests_per_minute": 60, "max_inputs_per_request": 16,
   "models": [{{"id": "acme/embed-x", "dimensions": 768, "shortening": false}}],
   "faults": {{"provider": [{{"model": "openai/text-embedding-3-small", "status": 503,
                            "times": 2}}],
              "response": [{{"status": 429, "retry_after": 1, "times": 1}}]}}}}

For a benchmark of a client, use the model {PRECOMPUTED_MODEL_ID}: its vectors cost nothing.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Give the ``gateway`` subcommand its flags (see :mod:`orq_embeddings.cli`)."""
    parser.description = _DESCRIPTION
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s; 0.0.0.0 exposes it to the network)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help="require 'Authorization: Bearer KEY' on every request (401 otherwise); without it "
        "any key or none is accepted. A key given here shows in the process list: to hide it, "
        "put api_key in the --config file",
    )
    parser.add_argument("--config", metavar="FILE", help="JSON config file (format below)")
    parser.add_argument(
        "--max-inputs",
        type=int,
        metavar="N",
        help="most inputs one request may carry; more is a 400 (default: 2048, OpenAI's limit; "
        "orq publishes none)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        metavar="N",
        help="largest request body accepted; larger is a 413 (default: 16 MiB)",
    )
    parser.add_argument(
        "--requests-per-minute",
        type=int,
        metavar="N",
        help="requests each API key may send in any 60 s (rolling window, as orq limits a "
        "workspace); more is a 429 with Retry-After and X-RateLimit-* headers, whose Reset is "
        "seconds until a slot frees (default: no limit)",
    )
    parser.add_argument(
        "--max-inputs-per-request",
        type=int,
        metavar="N",
        help="play a provider with a small batch limit: a larger batch is a 400 'Too many inputs. "
        "The max number of inputs is N.', as Azure OpenAI answers (default: no limit)",
    )
    backoff = parser.add_mutually_exclusive_group()
    backoff.add_argument(
        "--retry-backoff",
        type=float,
        metavar="SECONDS",
        help="wait before the gateway's first retry of a failing model, doubling after, each "
        "+-25%% (default: 0, retry at once)",
    )
    backoff.add_argument(
        "--orq-backoff",
        action="store_const",
        const=ORQ_BACKOFF_SECONDS,
        dest="retry_backoff",
        help="wait between retries as orq does: about 1, 2, 4, 8, 16 s, +-25%% "
        "(the same as --retry-backoff 1)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed for the load balancer's random picks, to make runs repeatable",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level; 'info' logs each request line (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def config_from(args: argparse.Namespace) -> GatewayConfig:
    """The config file's settings (if any), overridden by the flags given.

    Raises:
        OSError: the config file cannot be read.
        pydantic.ValidationError: the settings are invalid.
    """
    config = GatewayConfig() if args.config is None else GatewayConfig.from_file(args.config)
    flags: dict[str, Any] = {
        "api_key": args.api_key,
        "max_inputs": args.max_inputs,
        "max_body_bytes": args.max_body_bytes,
        "requests_per_minute": args.requests_per_minute,
        "max_inputs_per_request": args.max_inputs_per_request,
        "retry_backoff_seconds": args.retry_backoff,
        "seed": args.seed,
    }
    given = {name: value for name, value in flags.items() if value is not None}
    return GatewayConfig.model_validate({**dict(config), **given})


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; return the process's exit status."""
    # The server is imported only now, so other subcommands never pay for it.
    from .app import GatewayApp
    from .server import bind, uvicorn_server

    try:
        config = config_from(args)
    except (OSError, ValidationError) as error:
        print(f"orq-embeddings gateway: invalid configuration: {error}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        print(
            f"orq-embeddings gateway: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{sock.getsockname()[1]}"
    key_note = "required" if config.api_key is not None else "not required (any or none accepted)"
    print(
        f"orq local gateway listening on {url}\n"
        f"  router dialect:  {url}/v2/router   (e.g. ORQ_BASE_URL={url}/v2/router)\n"
        f"  gateway dialect: {url}/v2/gateway\n"
        f"  API key: {key_note}\n"
        f"{_limits_note(config)}"
        "  Ctrl-C to stop",
        flush=True,
    )
    with sock:
        uvicorn_server(GatewayApp(config), log_level=args.log_level, access_log=True).run(
            sockets=[sock]
        )
    return 0


def _limits_note(config: GatewayConfig) -> str:
    """The start-up banner's line naming the limits set, or nothing when none is."""
    limits = []
    if config.requests_per_minute is not None:
        limits.append(f"{config.requests_per_minute} requests per minute per API key")
    if config.max_inputs_per_request is not None:
        limits.append(f"{config.max_inputs_per_request} inputs per request")
    return f"  limits: {', '.join(limits)}\n" if limits else ""
