"""The demo corpus shipped with the demo package: thirty short passages on six topics.

Used by ``orq-embeddings demo``, the notebooks and the tests, so they all show the same data. The
questions come with the passage that answers each, so a demo can show it retrieved the right one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files


@dataclass(frozen=True)
class Passage:
    """One passage of the corpus."""

    id: str
    topic: str
    text: str


#: Questions a reader might ask of the corpus, each with the id of the passage that answers it.
QUESTIONS: dict[str, str] = {
    "Which planet has a giant red storm?": "astronomy-1",
    "When did the Wright brothers first fly?": "history-4",
    "How should I prune my roses?": "gardening-3",
    "What are the strings of a violin tuned to?": "music-2",
    "What does an HTTP 429 status code mean?": "programming-3",
    "How do I keep blanched vegetables bright green?": "cooking-5",
}


def load_corpus() -> list[Passage]:
    """Every passage, in file order."""
    text = files("orq_embeddings_demo").joinpath("corpus.jsonl").read_text(encoding="utf-8")
    return [Passage(**json.loads(line)) for line in text.splitlines() if line.strip()]
