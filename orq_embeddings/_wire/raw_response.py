"""What a transport hands back, and orq's trace headers on it.

No numpy and no JSON: sending bytes needs only this, so the transports import nothing heavier,
and the local gateway takes the header names from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TRACE_ID_HEADER = "x-orq-trace-id"
SPAN_ID_HEADER = "x-orq-trace-span-id"


@dataclass(frozen=True)
class RawResponse:
    """What a transport hands back: status, headers (names lower-cased) and the whole body."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def trace_id(self) -> str | None:
        """orq's trace id for the request, if the response carried one."""
        return self.headers.get(TRACE_ID_HEADER)

    @property
    def span_id(self) -> str | None:
        """orq's trace span id for the request, if the response carried one."""
        return self.headers.get(SPAN_ID_HEADER)
