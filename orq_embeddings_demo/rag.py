"""The end-to-end RAG demo: one corpus embedded through both adapters, questions answered.

With no ``ORQ_API_KEY`` it runs against a local orq gateway started in-process, and shows orq's
retries surviving injected faults; with a key it runs the same steps against orq.ai.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import Document, VectorStoreIndex

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings.config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from orq_embeddings_demo.corpus import QUESTIONS, Passage, load_corpus

from . import DEFAULT_MODEL

#: The orq options every request of the demo carries, as a user would write them.
DEMO_OPTIONS: dict[str, Any] = {
    "name": "orq-embeddings-demo",
    "retry": {"count": 2, "on_codes": [429, 503]},
    "cache": {"type": "exact_match", "ttl": 3600},
    "timeout": {"call_timeout": 15000},
    "identity": {"id": "demo-user", "display_name": "Demo user"},
}

Say = Callable[[str], None]


@dataclass(frozen=True)
class Answer:
    """The passage a framework retrieved for a question, and whether it is the expected one."""

    question: str
    passage: Passage
    score: float

    @property
    def correct(self) -> bool:
        return QUESTIONS[self.question] == self.passage.id


def orq_ai_url() -> str | None:
    """The orq.ai URL the demo sends to when ``ORQ_API_KEY`` is set; None: it runs offline."""
    if not os.environ.get(API_KEY_ENV):
        return None
    return os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


@contextmanager
def orq_endpoint(say: Say) -> Iterator[tuple[str | None, Any]]:
    """orq.ai when a key is set; otherwise a local gateway for the length of the block.

    Yields the base URL and the local gateway, if one was started.
    """
    online_url = orq_ai_url()
    if online_url is not None:
        say(f"Using orq.ai ({online_url}) with {API_KEY_ENV}.")
        yield online_url, None
        return
    from orq_embeddings.gateway import LocalGateway

    with LocalGateway() as gateway:
        say(f"No {API_KEY_ENV}: using a local orq-compatible gateway at {gateway.base_url}")
        say("(deterministic lexical vectors, not a provider's; set the key to use orq.ai)")
        yield gateway.base_url, gateway


def run_demo(model: str = DEFAULT_MODEL, say: Say = print) -> list[Answer]:
    """Run every step, report as it goes, and return the answers of both frameworks."""
    corpus = load_corpus()
    say(f"Corpus: {len(corpus)} passages on {len({p.topic for p in corpus})} topics.")
    say(f"Model: {model}\norq options on every request:")
    for name, value in DEMO_OPTIONS.items():
        say(f"  {name}: {value}")
    with orq_endpoint(say) as (base_url, gateway):
        _embed_with_the_core(model, base_url, gateway, corpus, say)
        answers = _answer_with_langchain(model, base_url, corpus, say)
        answers += _answer_with_llama_index(model, base_url, corpus, say)
        if gateway is not None:
            counters = gateway.counters()
            say(
                f"\nLocal gateway: {counters.requests} requests, {counters.cache_hits} cache hits, "
                f"at most {counters.peak_in_flight} in flight; identities seen: "
                f"{', '.join(gateway.identities())}"
            )
    right = sum(answer.correct for answer in answers)
    say(f"\n{right} of {len(answers)} answers are the expected passage.")
    return answers


def _embed_with_the_core(
    model: str, base_url: str | None, gateway: Any, corpus: list[Passage], say: Say
) -> None:
    """Embed the corpus once with the core client, through injected faults when local."""
    say("\n== The core client: serving model, tokens, and faults survived")
    if gateway is not None:
        from orq_embeddings.gateway import ProviderFault, ResponseFault

        gateway.inject(
            ResponseFault(status=429, retry_after=0.2, times=1),
            ProviderFault(model=model, status=503, times=1),
        )
        say("Injected: one 429 to the client (Retry-After 0.2 s) and one 503 from the provider.")
    with OrqEmbeddingsClient(model, base_url=base_url, orq=DEMO_OPTIONS) as client:
        result = client.embed([p.text for p in corpus])
    say(
        f"Embedded {len(result.vectors)} passages into {len(result.vectors[0])}-d vectors, "
        f"served by {', '.join(result.models) or 'an unnamed model'}, "
        f"{result.usage.total_tokens} tokens."
    )
    attempts = sum(report.attempts for report in result.reports)
    say(
        f"Client attempts: {attempts} for {len(result.reports)} request(s) "
        "(a 429 is retried after its Retry-After)."
    )
    if gateway is not None:
        provider_statuses = [a.status for r in gateway.requests() for a in r.attempts]
        say(
            f"Gateway attempts at the provider: {provider_statuses} "
            "(orq's retry.count turned the 503 into a success)."
        )


def _answer_with_langchain(
    model: str, base_url: str | None, corpus: list[Passage], say: Say
) -> list[Answer]:
    say("\n== LangChain: InMemoryVectorStore + OrqEmbeddings")
    embeddings = OrqEmbeddings(model=model, base_url=base_url, orq=DEMO_OPTIONS)
    store = InMemoryVectorStore.from_texts(
        [p.text for p in corpus], embeddings, metadatas=[{"index": i} for i in range(len(corpus))]
    )
    answers = []
    for question in QUESTIONS:
        ((document, score),) = store.similarity_search_with_score(question, k=1)
        answers.append(Answer(question, corpus[document.metadata["index"]], score))
    _report(answers, say)
    return answers


def _answer_with_llama_index(
    model: str, base_url: str | None, corpus: list[Passage], say: Say
) -> list[Answer]:
    say("\n== LlamaIndex: VectorStoreIndex + OrqEmbedding")
    embed_model = OrqEmbedding(model_name=model, base_url=base_url, orq=DEMO_OPTIONS)
    documents = [Document(text=p.text, id_=p.id) for p in corpus]
    retriever = VectorStoreIndex.from_documents(documents, embed_model=embed_model).as_retriever(
        similarity_top_k=1
    )
    by_id = {p.id: p for p in corpus}
    answers = []
    for question in QUESTIONS:
        (best,) = retriever.retrieve(question)
        answers.append(Answer(question, by_id[best.node.ref_doc_id or ""], best.score or 0.0))
    _report(answers, say)
    return answers


def _report(answers: list[Answer], say: Say) -> None:
    for answer in answers:
        mark = "ok" if answer.correct else "WRONG"
        say(f"Q: {answer.question}")
        passage = textwrap.shorten(answer.passage.text, width=88, placeholder="...")
        say(f"   [{mark}] {answer.passage.id} (score {answer.score:.3f}): {passage}")
