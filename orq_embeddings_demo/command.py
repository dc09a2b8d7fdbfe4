"""``orq-embeddings demo``: the end-to-end RAG demo from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from .rag import DEFAULT_MODEL


def register(commands: Any) -> None:
    """Add ``demo`` to the command line (found by :mod:`orq_embeddings.cli` via entry point)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="run an end-to-end RAG demo through LangChain and LlamaIndex",
        description=(
            "Embed a small corpus through OrqEmbeddings (LangChain) and OrqEmbedding "
            "(LlamaIndex), answer a few questions with the retrieved passages, and show the "
            "orq options, serving model and token usage. Without ORQ_API_KEY it runs offline "
            "on a local orq-compatible gateway; with it, against orq.ai."
        ),
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="orq model id (default: %(default)s)"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from .rag import run_demo

    answers = run_demo(args.model)
    return 0 if all(answer.correct for answer in answers) else 1
