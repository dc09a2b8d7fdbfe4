"""The ``orq-embeddings`` command line: one subcommand per task.

Each subcommand lives beside what it runs and registers itself here with a ``register`` function
that adds its parser and sets ``run``, a function from the parsed arguments to an exit status.
Subcommands import what they need only when they run, so ``--help`` stays fast.

Packages outside the core add subcommands through the ``orq_embeddings.commands`` entry point
group (``demo`` does, because it imports LangChain and LlamaIndex, which the core never does).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from .bulk import command as bulk_command
from .gateway import command as gateway_command

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

#: The core's own subcommands, listed first by ``--help``.
SUBCOMMANDS: tuple[Register, ...] = (gateway_command.register, bulk_command.register)
#: The entry point group through which other packages add subcommands.
PLUGIN_GROUP = "orq_embeddings.commands"


def plugin_subcommands() -> list[Register]:
    """The ``register`` functions other installed packages declare, by entry point name."""
    found = sorted(entry_points(group=PLUGIN_GROUP), key=lambda point: point.name)
    return [point.load() for point in found]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line, every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="orq-embeddings",
        description="orq.ai embeddings: tools around the orq-embeddings client.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in (*SUBCOMMANDS, *plugin_subcommands()):
        register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
