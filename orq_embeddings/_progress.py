"""One progress bar for every surface that shows one: both adapters and the bulk command.

A tqdm bar that advances by each finished batch's inputs and, when asked, shows the tokens spent
so far. tqdm is a dependency of the core; it is imported only when a bar is shown, since in a
notebook without ipywidgets ``tqdm.auto`` warns on import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .results import BatchReport


class ProgressBar:
    """Advances a tqdm bar per batch report (when one is shown) and counts the tokens spent."""

    def __init__(self, bar: Any | None, tokens: int | None) -> None:
        self._bar = bar
        #: Tokens spent so far, when the bar shows them.
        self.tokens = tokens

    def advance(self, report: BatchReport) -> None:
        """Count one finished batch: its inputs, and its tokens when they are counted."""
        if self.tokens is not None:
            self.tokens += report.usage.total_tokens if report.usage else 0
        if self._bar is not None:
            self._bar.update(report.batch.size)
            if self.tokens is not None:
                self._bar.set_postfix(tokens=self.tokens, refresh=False)


@contextmanager
def progress_bar(
    total: int,
    *,
    show: bool,
    description: str = "Embedding",
    done: int = 0,
    tokens: int | None = None,
) -> Iterator[ProgressBar]:
    """A bar over ``total`` inputs, ``done`` of them already embedded, shown only if ``show``.

    Args:
        tokens: tokens already spent, to count on from (and show beside the bar); None counts
            none.
    """
    if not show:
        yield ProgressBar(None, tokens)
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, initial=done, unit="text", desc=description) as bar:
        yield ProgressBar(bar, tokens)
