"""Moved to :mod:`orq_embeddings.gateway.request_log`; kept for code importing the old path."""

from .request_log import REDACTED as REDACTED
from .request_log import Counters as Counters
from .request_log import RecordedRequest as RecordedRequest
from .request_log import redacted as redacted
