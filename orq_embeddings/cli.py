"""The ``orq-embeddings`` command line: one subcommand per task.

Each subcommand lives beside what it runs and registers itself here with a ``register`` function
that adds its parser and sets ``run``, a function from the parsed arguments to an exit status.
Subcommands import what they need only when they run, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from .bulk import command as bulk_command
from .gateway import command as gateway_command

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

#: The subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[Register, ...] = (gateway_command.register, bulk_command.register)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line, every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="orq-embeddings",
        description="orq.ai embeddings: tools around the orq-embeddings client.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
