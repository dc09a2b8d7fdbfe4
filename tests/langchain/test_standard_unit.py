"""LangChain's standard unit suite for embeddings, unmodified."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_orq import OrqEmbeddings


class TestOrqEmbeddingsStandardUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[OrqEmbeddings]:
        return OrqEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "openai/text-embedding-3-small", "api_key": "sk-orq-unit-test"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"ORQ_API_KEY": "sk-orq-from-env", "ORQ_BASE_URL": "https://my.orq.ai/v2/router"},
            {"model": "openai/text-embedding-3-small"},
            {"api_key": "sk-orq-from-env", "base_url": "https://my.orq.ai/v2/router"},
        )
