"""One home for secret-leak checks: the fake key every test uses, and what a test searches for it.

Searched: errors (message, notes, chain), log records of every logger, and OpenTelemetry spans.

The checks themselves live in tests/reliability/test_security.py; tests about other things that
also make sure the key stays out (pickles, LlamaIndex events) import ``FAKE_KEY`` from here.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

#: A key recognisable anywhere it might leak to; no server outside the tests accepts it.
FAKE_KEY = "sk-orq-FAKE-reliability-5e1f0c9a77"


def leaks(texts: list[str]) -> list[str]:
    """The texts that contain the key."""
    return [text for text in texts if FAKE_KEY in text]


def everything_said_by(error: BaseException) -> list[str]:
    """An error's message, repr, attributes and notes, for it and every error in its chain."""
    said = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        said += [str(current), repr(current), repr(vars(current))]
        said += getattr(current, "__notes__", [])
        current = current.__cause__ or current.__context__
    return said


@contextmanager
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at DEBUG and up, loggers that do not propagate included."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.DEBUG)
    root = logging.getLogger()
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = {logger: logger.level for logger in loggers}
    hooked = [root] + [logger for logger in loggers if not logger.propagate]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    for logger in hooked:
        logger.addHandler(keep)
    try:
        yield records
    finally:
        for logger in hooked:
            logger.removeHandler(keep)
        for logger, level in levels.items():
            logger.setLevel(level)


def written_by(records: list[logging.LogRecord]) -> list[str]:
    """The records as a handler would write them: logger name, level and message."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in records]


def everything_said_by_spans(spans: Iterable[Any]) -> list[str]:
    """Everything finished OpenTelemetry spans say, as an exporter would send it: name,
    attributes, events, links, status and resource (each span's JSON, and each value's repr)."""
    said: list[str] = []
    for span in spans:
        said.append(span.to_json())
        said += [repr(value) for value in (span.attributes or {}).values()]
        for event in span.events:
            said += [event.name, *(repr(value) for value in (event.attributes or {}).values())]
    return said
