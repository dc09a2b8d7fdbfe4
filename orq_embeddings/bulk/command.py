"""``orq-embeddings embed``: the bulk job from the command line."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from ..client import OrqEmbeddingsClient
from ..config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BATCH_SIZE
from ..errors import ConfigurationError, OrqError, SettingPath, dotted_name
from .engines import ENGINES, run_engine_job
from .job import DEFAULT_CHUNK_ROWS, BadRowsError, BulkJob, BulkResult, run_bulk_job
from .setting_flags import add_setting_flags, command_line_settings

EXIT_FAILED = 1
#: Settings or files that cannot work as given, as argparse exits for a bad flag.
EXIT_USAGE = 2
EXIT_BAD_ROWS = 3
EXIT_INTERRUPTED = 130


def configure(parser: argparse.ArgumentParser) -> None:
    """Give ``embed`` its flags (see :mod:`orq_embeddings.cli`)."""
    flags = _FlagsBySetting(parser)
    flag = flags.add
    parser.description = (
        "Embed every row of INPUT and write the vectors, in input order, to OUTPUT. "
        "Finished work is saved as it completes (in OUTPUT.checkpoint/): after Ctrl-C, a "
        "crash or an error, run the same command again to continue (a run with other "
        "settings is refused while rows are saved; --restart discards them). Rows with no "
        f"text are reported by line number and skipped. The API key is read from {API_KEY_ENV}."
    )
    flag("input", type=Path, help="a .txt (one text a line), .jsonl or .parquet file")
    flag(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="a .npy (ids beside it in .ids.json), .jsonl or .parquet file",
    )
    flag("--model", required=True, help="orq model id, e.g. openai/text-embedding-3-small")
    flag("--dimensions", type=int, help="shorten vectors to this length")
    flag(
        "--orq",
        type=_json_object,
        metavar="JSON",
        help="orq routing, cache and identity options, as JSON "
        '(or @file.json), e.g. \'{"cache": {"ttl": 3600}}\'',
    )
    flag(
        "--text-field",
        default="text",
        help="the field holding the text in .jsonl/.parquet (default: text)",
    )
    flag("--id-field", help="the field holding the row id (default: the line number)")
    flag("--base-url", help=f"orq base URL (default: ${BASE_URL_ENV}, else orq.ai's router)")
    flag(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"texts per request (default: {DEFAULT_BATCH_SIZE})",
    )
    add_setting_flags(flag)
    flag(
        "--chunk-rows",
        type=int,
        default=DEFAULT_CHUNK_ROWS,
        help=f"rows saved together in the checkpoint (default: {DEFAULT_CHUNK_ROWS})",
    )
    flag(
        "--strict",
        action="store_true",
        help="fail, embedding nothing, if any row cannot be embedded",
    )
    flag(
        "--restart",
        action="store_true",
        help="discard the rows saved by an earlier run (of this or another job) and start over",
    )
    flag(
        "--engine",
        choices=["here", *ENGINES],
        default="here",
        help="where to embed: in this process (default), or on Ray workers or Spark tasks on "
        "this machine (RAY_ADDRESS: on that Ray cluster), with one rate budget for all of them "
        "and the parts kept in OUTPUT.parts/ until the output is written (pip install "
        '"orq-embeddings[ray]" or "[spark]")',
    )
    flag(
        "--workers",
        type=int,
        default=2,
        help="with --engine: Ray workers or Spark tasks at once, each sending up to "
        "--max-concurrency requests (default: 2)",
    )
    flag(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: only on a terminal)",
    )
    parser.set_defaults(run=run_embed_command, setting_names=flags.by_setting)


def _json_object(value: str) -> dict[str, Any]:
    try:
        text = Path(value[1:]).read_text() if value.startswith("@") else value
    except OSError as error:
        reason = error.strerror or error
        raise argparse.ArgumentTypeError(f"cannot read {value[1:]}: {reason}") from None
    try:
        parsed = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return parsed


class _FlagsBySetting:
    """Adds the command's arguments and remembers each one's flag by the setting it fills.

    ``batch_size`` -> ``--batch-size``: the names a ConfigurationError gives are said in the
    command line's words (see :func:`_in_flags`).
    """

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._parser = parser
        self.by_setting: dict[str, str] = {}

    def add(self, *names: str, **options: Any) -> argparse.Action:
        """``parser.add_argument``, recording the flag the user types (its longest form)."""
        action = self._parser.add_argument(*names, **options)
        typed = action.option_strings[-1] if action.option_strings else action.dest.upper()
        self.by_setting[action.dest] = typed
        return action


def _in_flags(error: ConfigurationError, flags: dict[str, str]) -> str:
    """The error's message in the command line's words: ``--batch-size``, ``retry.count in --orq``.

    The settings at fault are named by their flags, and so is any snake_case setting name with a
    flag that a message mentions (``point base_url at it``).
    """

    def name_of(path: SettingPath) -> str:
        head, rest = str(path[0]), path[1:]
        flag = flags.get(head, head)
        return f"{dotted_name(rest)} in {flag}" if rest else flag

    message = error.describe(name_of)
    python_names = [name for name in flags if "_" in name]  # words like "input" stay words
    mentioned = re.compile(r"\b(" + "|".join(map(re.escape, python_names)) + r")\b")
    return mentioned.sub(lambda found: flags[found.group(1)], message)


def run_embed_command(args: argparse.Namespace) -> int:
    """Run the job; the exit status says how it ended."""
    try:
        client = OrqEmbeddingsClient(args.model, **_client_settings(args))
    except ConfigurationError as error:
        print(f"error: {_in_flags(error, args.setting_names)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        try:
            job = BulkJob(
                input=args.input,
                output=args.output,
                text_field=args.text_field,
                id_field=args.id_field,
                chunk_rows=args.chunk_rows,
                strict=args.strict,
                restart=args.restart,
            )
            if args.engine == "here":
                result = run_bulk_job(job, client, progress=args.progress)
            else:
                result = run_engine_job(
                    job,
                    args.engine,
                    workers=args.workers,
                    model=args.model,
                    settings=_client_settings(args),
                    say=_say,
                )
        except KeyboardInterrupt:
            _exit_now(EXIT_INTERRUPTED)
        finally:
            client.close()
    except BadRowsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_ROWS
    except ConfigurationError as error:
        print(f"error: {_in_flags(error, args.setting_names)}", file=sys.stderr)
        return EXIT_USAGE
    except (OrqError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(_summary(result, args.output), file=sys.stderr)
    return 0


def _client_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The client's settings from the flags: its keyword arguments but the model."""
    return {
        "base_url": args.base_url,
        "dimensions": args.dimensions,
        "orq": args.orq,
        "batch_size": args.batch_size,
        **command_line_settings(args),
    }


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _summary(result: BulkResult, output: Path) -> str:
    """The last line of a finished job, counting every run of it."""
    runs = ""
    if result.runs > 1 or result.resumed_rows:
        over = f" over {result.runs} runs," if result.runs > 1 else ","
        runs = f"{over} {result.resumed_rows} rows from earlier runs"
    tokens = "tokens" if result.tokens_over_every_run else "tokens this run"
    skipped = f", skipped {len(result.bad_rows)} bad row(s)" if result.bad_rows else ""
    return (
        f"wrote {result.rows} vectors of {result.dimensions} dimensions to {output} "
        f"({result.tokens} {tokens}{runs}{skipped})"
    )


def _exit_now(status: int) -> NoReturn:
    """Leave at once after Ctrl-C: every finished chunk is already on disk.

    A normal exit would wait for the requests still in flight (each up to the client's timeout)
    before the process could end; their batches are not saved either way, so they are abandoned.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
