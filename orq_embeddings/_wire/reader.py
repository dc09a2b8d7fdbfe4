"""A response's path through the client: status checked, then body decoded, notes attached.

Each idea lives in its own module: :mod:`.raw_response` (what a transport hands back),
:mod:`.json_body` (the body as JSON), :mod:`.status_errors` (status to error) and
:mod:`.decoding` (body to vectors). :class:`ResponseReader` is what the client runs, so the
tests that call it exercise the production composition.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidResponseError, attach_note
from .batching import Batch
from .decoding import BatchEmbeddings, decode_embeddings
from .raw_response import RawResponse
from .status_errors import raise_for_status


@dataclass(frozen=True)
class ResponseReader:
    """One endpoint's responses: status checked where the request was sent, body decoded where
    it is consumed.

    Attributes:
        url: where the requests went, named in the note of a malformed response.
        host: who answered, named in the message of a status error.
    """

    url: str | None = None
    host: str | None = None

    def check(self, response: RawResponse) -> RawResponse:
        """The response, if its status is a 2xx; otherwise raise the error it calls for."""
        raise_for_status(response, self.host)
        return response

    def vectors(self, response: RawResponse, batch: Batch, attempts: int = 1) -> BatchEmbeddings:
        """The vectors of a checked response. A malformed one is final: it is not retried."""
        try:
            return decode_embeddings(response, batch)
        except InvalidResponseError as error:
            where = f"{batch.describe()}, after {attempts} attempt(s)"
            attach_note(error, f"{where} to {self.url}" if self.url else where)
            raise

    def read(self, response: RawResponse, batch: Batch, attempts: int = 1) -> BatchEmbeddings:
        """:meth:`check`, then :meth:`vectors`: what the client does with one response."""
        return self.vectors(self.check(response), batch, attempts)


def interpret(response: RawResponse, batch: Batch, host: str | None = None) -> BatchEmbeddings:
    """Vectors for a 2xx response; otherwise raise the error the status and body call for."""
    return ResponseReader(host=host).read(response, batch)
