"""The ``orq-embeddings`` command line: one subcommand per task.

A subcommand is declared by a :class:`Subcommand`: its name, its one-line help, the module that
adds its flags, and the optional modules it needs. The CLI discovers subcommands without
importing their dependencies (DESIGN.md): ``orq-embeddings --help`` imports no subcommand module,
and ``orq-embeddings NAME ...`` imports only NAME's, whose ``configure(parser)`` adds the flags
and sets ``run``, a function from the parsed arguments to an exit status. What a subcommand runs
is imported by ``run``, so ``--help`` works in every install; before ``run``, the modules in
``needs`` are looked for, and if one is missing the command says which ``pip install`` to run.

Packages outside the core add subcommands through the ``orq_embeddings.commands`` entry point
group, each entry point naming a :class:`Subcommand` (``demo`` does, because it runs LangChain
and LlamaIndex, which the core never imports).

Routine endings are one line on stderr, never a traceback: a missing extra (status 2), a usage
error (2), Ctrl-C (130).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import NoReturn

from .extras import GATEWAY_SERVER, MissingExtraError, require

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
PROG = "orq-embeddings"
#: The entry point group through which other packages add subcommands.
PLUGIN_GROUP = "orq_embeddings.commands"


@dataclass(frozen=True)
class Subcommand:
    """A subcommand, declared without importing what it runs.

    Attributes:
        name: what the user types, ``orq-embeddings NAME``.
        help: its line in ``orq-embeddings --help``.
        module: the module whose ``configure(parser: argparse.ArgumentParser)`` adds the flags
            and sets ``run``; imported only when the subcommand is chosen, so it must not import
            ``needs`` itself.
        needs: optional modules it cannot run without, each mapped to the extra that brings it.
    """

    name: str
    help: str
    module: str
    needs: Mapping[str, str] = field(default_factory=dict)


#: The core's own subcommands, listed first by ``--help``.
SUBCOMMANDS = (
    Subcommand(
        "gateway",
        "run a local orq-compatible embeddings gateway",
        "orq_embeddings.gateway.command",
        needs=GATEWAY_SERVER,
    ),
    Subcommand(
        "embed",
        "embed a corpus file into .npy, .jsonl or .parquet, resumably",
        "orq_embeddings.bulk.command",
    ),
)


class _OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line that points at ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def plugin_subcommands() -> list[Subcommand]:
    """The subcommands other installed packages declare, by entry point name.

    One that cannot be loaded is left out with a one-line warning: a broken plugin must not take
    the core's own subcommands (and ``--help``) down with it.
    """
    declared = []
    for point in sorted(entry_points(group=PLUGIN_GROUP), key=lambda point: point.name):
        try:
            subcommand = point.load()
        except Exception as error:  # whatever its import raised: the plugin is unusable
            problem = f"cannot be loaded ({type(error).__name__}: {error})"
        else:
            if isinstance(subcommand, Subcommand):
                declared.append(subcommand)
                continue
            problem = f"is a {type(subcommand).__name__}, not an orq_embeddings.cli.Subcommand"
        print(
            f"{PROG}: warning: ignoring the subcommand {point.name!r} ({point.value}): {problem}",
            file=sys.stderr,
        )
    return declared


def all_subcommands() -> list[Subcommand]:
    """The core's subcommands, then the plugins'."""
    return [*SUBCOMMANDS, *plugin_subcommands()]


def build_parser(
    subcommands: Sequence[Subcommand] | None = None, *, configure: Iterable[str] | None = None
) -> argparse.ArgumentParser:
    """The parser of the whole command line.

    Args:
        subcommands: the subcommands to offer (default: :func:`all_subcommands`).
        configure: the names of those to give their flags, importing their modules (default:
            all); the others are listed with their help only.
    """
    subcommands = all_subcommands() if subcommands is None else subcommands
    chosen = None if configure is None else set(configure)
    parser = _OneLineErrorParser(
        prog=PROG, description="orq.ai embeddings: tools around the orq-embeddings client."
    )
    actions = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for subcommand in subcommands:
        subparser = actions.add_parser(subcommand.name, help=subcommand.help)
        if chosen is None or subcommand.name in chosen:
            import_module(subcommand.module).configure(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    subcommands = all_subcommands()
    # The first word that is not an option names the subcommand; only its flags are needed.
    named = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser(subcommands, configure=[named] if named else []).parse_args(argv)
    subcommand = next(command for command in subcommands if command.name == args.command)
    prefix = f"{PROG} {subcommand.name}"
    try:
        require("this command", subcommand.needs)
        status: int = args.run(args)
    except MissingExtraError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prefix}: stopped (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status


if __name__ == "__main__":
    # ``python -m orq_embeddings.cli`` runs this file as __main__: run the imported module
    # instead, whose Subcommand class is the one plugins' declarations are instances of.
    from orq_embeddings import cli

    raise SystemExit(cli.main())
