"""``orq-embeddings demo``: the end-to-end RAG demo from the command line."""

from __future__ import annotations

import argparse
import sys

from . import DEFAULT_MODEL


def configure(parser: argparse.ArgumentParser) -> None:
    """Give ``demo`` its flags (declared by :data:`orq_embeddings_demo.COMMAND`)."""
    parser.description = (
        "Embed a small corpus through OrqEmbeddings (LangChain) and OrqEmbedding "
        "(LlamaIndex), answer a few questions with the retrieved passages, and show the "
        "orq options, serving model and token usage. Without ORQ_API_KEY it runs offline "
        "on a local orq-compatible gateway; with it, against orq.ai."
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="orq model id (default: %(default)s)"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from orq_embeddings.config import API_KEY_ENV
    from orq_embeddings.errors import OrqConnectionError, OrqError, OrqTimeoutError

    from .rag import orq_ai_url, run_demo

    online_url = orq_ai_url()
    try:
        answers = run_demo(args.model)
    except OrqError as error:
        if online_url is None:
            raise  # offline, on the demo's own gateway: a defect, not the user's network
        what = (
            f"could not reach {online_url} ({error})"
            if isinstance(error, (OrqConnectionError, OrqTimeoutError))
            else f"{online_url} refused the demo: {error}"
        )
        offline = f"to run offline on a local gateway, unset {API_KEY_ENV}"
        print(f"orq-embeddings demo: {what}; {offline}", file=sys.stderr)
        return 1
    return 0 if all(answer.correct for answer in answers) else 1
