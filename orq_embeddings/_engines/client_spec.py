"""What a worker builds its client from: the model and the settings, never the key.

An engine pickles what its workers need (Ray: a callable class's constructor arguments; Spark:
the function given to ``mapInPandas``) and ships it to every worker, where it sits in an object
store, a plan or a task. So the key is never part of it: a worker reads ``ORQ_API_KEY`` from its
own environment, or is handed the key by the engine's own secret channel (a Ray object, a Spark
broadcast), which the engine module resolves before calling :meth:`ClientSpec.client`.

The settings are checked where the job starts, before any task: a worker that cannot build its
client would otherwise fail every task, one by one, on the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from .._runtime.pacing import SharedBudget
from ..client import OrqEmbeddingsClient
from ..config import env_api_key
from ..errors import ConfigurationError, ConfigurationProblem

#: Settings that cannot travel to a worker: a live pool of the caller's, or a function of theirs.
_STAY_HOME = ("http_client", "http_async_client", "sleep", "async_sleep")
#: Stands in for the key while the settings are checked where the job starts (nothing is sent):
#: the workers' key may be in their environment only.
_KEY_FOR_THE_CHECK = "sk-checking-settings-only"


@dataclass(frozen=True)
class ClientSpec:
    """The client each worker makes: ``OrqEmbeddingsClient(model, **settings)`` and a key.

    Attributes:
        model: the orq model id.
        settings: the client's other keyword arguments (``base_url``, ``dimensions``, ``orq``,
            ``max_concurrency``, ...), the key never among them.
    """

    model: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def checked(cls, model: str, settings: Mapping[str, Any]) -> ClientSpec:
        """A spec whose client can be built, checked here before any worker builds one.

        Raises:
            ConfigurationError: a setting out of its limits, or one that cannot travel.
            TypeError: an unknown setting (as the client says it).
        """
        staying = [name for name in _STAY_HOME if settings.get(name) is not None]
        if "api_key" in settings:
            staying.append("api_key")
        if staying:
            raise ConfigurationError(
                [
                    ConfigurationProblem(
                        (name,),
                        "cannot travel to the workers: the key reaches them through their "
                        "environment (ORQ_API_KEY) or the job's api_key"
                        if name == "api_key"
                        else "cannot travel to the workers, where each makes its own client",
                    )
                    for name in staying
                ]
            )
        spec = cls(model, dict(settings))
        spec.vector_settings()
        return spec

    def vector_settings(self) -> dict[str, Any]:
        """What the vectors depend on: the model and request settings, the document prefix in
        effect and the base URL, as this process resolves them (a job's manifest records them).

        Raises:
            ConfigurationError, TypeError: as the client raises them.
        """
        with self.client(SecretStr(env_api_key() or _KEY_FOR_THE_CHECK)) as client:
            document_prefix = client.prefixes.document.text
            return {
                "base_url": client.config.base_url,
                **client.settings.model_dump(mode="json", exclude_none=True),
                **({"document_prefix": document_prefix} if document_prefix else {}),
            }

    def client(
        self, api_key: str | SecretStr | None = None, budget: SharedBudget | None = None
    ) -> OrqEmbeddingsClient:
        """The worker's client: ``api_key``, else ``ORQ_API_KEY`` of the worker's environment.

        Args:
            budget: the job's shared budget, asked before every request (see ``_runtime.pacing``).
        """
        client = OrqEmbeddingsClient(self.model, api_key=api_key, **self.settings)
        if budget is not None:
            # The budget is no client setting (it is a live handle, made per job), so it is
            # attached to the resources the client and its copies share, here and only here.
            client._resources.draw_from(budget)
        return client


def as_secret(api_key: str | SecretStr) -> SecretStr:
    """The key as a SecretStr, which never shows its value in a repr or a log line."""
    return api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
