"""A job's rate budget, and the rule by which it reaches the workers or tasks that run at once.

``requests_per_minute`` and ``tokens_per_minute`` given to an engine's job hold for the job, not
per worker:

- **Ray** workers share one budget: a :class:`~orq_embeddings._engines.rate_window.SharedWindow`
  in an actor, asked before every request. A worker takes what is free, so a slow worker leaves
  its share to the others.
- **Spark** tasks cannot share a live object, so the budget is split: each task that runs at once
  gets ``budget // tasks`` (:meth:`JobBudget.split`; the remainder goes unused, so the sum never
  passes the budget). A task paces its own client on its share.

Either way, a budget that cannot give every worker or concurrent task at least one request (and
one token) per window is refused before any task starts (:meth:`JobBudget.check_covers`): with
fewer, some worker would wait a whole window for each request while the job looked stuck.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError, ConfigurationProblem


@dataclass(frozen=True)
class JobBudget:
    """The budgets of a whole job per rate-limit window; None is no budget of that kind."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    def check_covers(self, runners: int, noun: str) -> None:
        """Refuse a budget that cannot give each of ``runners`` one request and token a window.

        Args:
            runners: the workers or tasks that run at once.
            noun: what they are called (``"workers"``, ``"concurrent tasks"``).

        Raises:
            ConfigurationError: naming each budget that is too small, and both ways out.
        """
        problems = [
            ConfigurationProblem(
                (name,),
                f"is {value}, which cannot give each of the {runners} {noun} one "
                f"{unit} per window: raise it to at least {runners}, or run fewer "
                f"{noun} (at most {value})",
            )
            for name, value, unit in (
                ("requests_per_minute", self.requests_per_minute, "request"),
                ("tokens_per_minute", self.tokens_per_minute, "token"),
            )
            if value is not None and value < runners
        ]
        if problems:
            raise ConfigurationError(problems)

    def split(self, runners: int) -> JobBudget:
        """Each of ``runners``' share: the budget divided, rounded down (check it covers them)."""
        return JobBudget(
            None if self.requests_per_minute is None else self.requests_per_minute // runners,
            None if self.tokens_per_minute is None else self.tokens_per_minute // runners,
        )
