"""The success bodies the gateway answers with, in the shape shared/spec gives."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .encoding import EncodedVector

#: What a ``malformed_json`` response fault sends: a 200 cut off in the middle of a vector.
TRUNCATED_BODY = b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.01'


def embeddings_body(model_name: str, vectors: Sequence[EncodedVector], tokens: int) -> bytes:
    """A 200 body: every vector with its ``index``, the serving model's name and the usage."""
    body = {
        "object": "list",
        "model": model_name,
        "data": [
            {"object": "embedding", "index": index, "embedding": vector}
            for index, vector in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json.dumps(body, separators=(",", ":")).encode("ascii")
