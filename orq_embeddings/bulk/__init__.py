"""Bulk embedding of corpus files, resumable after an interruption (``orq-embeddings embed``)."""

from .job import BadRowsError, BulkJob, BulkResult, run_bulk_job
from .rows import BadRow, Corpus, read_corpus

__all__ = [
    "BadRow",
    "BadRowsError",
    "BulkJob",
    "BulkResult",
    "Corpus",
    "read_corpus",
    "run_bulk_job",
]
