"""The success bodies the gateway answers with, in the shape shared/spec gives."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .vector_encoding import EncodedVector

#: What a ``malformed_json`` response fault sends: a 200 cut off in the middle of a vector.
TRUNCATED_BODY = b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.01'


def embeddings_body(model_name: str, vectors: Sequence[EncodedVector], tokens: int) -> bytes:
    """A 200 body: every vector with its ``index``, the serving model's name and the usage.

    Written out by hand rather than by ``json.dumps``: a base64 vector is 8 KB of characters that
    need no escaping, and scanning and copying them was most of the cost of a large response,
    which is what a client benchmark asks for. Each vector is copied once, by the final join.
    """
    pieces = [f'{{"object":"list","model":{json.dumps(model_name)},"data":[']
    for index, vector in enumerate(vectors):
        pieces.append(f'{"," if index else ""}{{"object":"embedding","index":{index},"embedding":')
        if isinstance(vector, str):
            # base64, whose alphabet never needs escaping in JSON
            pieces += ('"', vector, '"}')
        else:
            pieces += (json.dumps(vector), "}")
    pieces.append(f'],"usage":{{"prompt_tokens":{tokens},"total_tokens":{tokens}}}}}')
    return "".join(pieces).encode("ascii")
