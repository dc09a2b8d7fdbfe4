"""Optional dependencies: which extra brings a module, and the one line that says how to get it.

Each extra of the distribution brings one capability (DESIGN.md: "a missing extra never breaks
anything else"). Code that needs one checks for it before importing it, so a user who lacks it
reads the ``pip install`` to run instead of a traceback from deep inside an import.

Only the standard library is imported here: the command line checks extras before it has
imported anything heavy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.util import find_spec

DISTRIBUTION = "orq-embeddings"

#: The module each extra brings that code checks for before importing it (module -> extra).
LANGCHAIN = {"langchain_core": "langchain"}
LLAMA_INDEX = {"llama_index.core": "llama-index"}
GATEWAY_SERVER = {"uvicorn": "gateway", "httptools": "gateway"}
RAY = {"ray": "ray", "pyarrow": "ray"}
SPARK = {"pyspark": "spark", "pyarrow": "spark", "pandas": "spark"}


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the ``pip install`` to run.

    An :class:`ImportError`, as Python code that imports an optional feature expects; the command
    line prints its message as one line and exits with status 2.
    """


def is_installed(module: str) -> bool:
    """Whether ``module`` (dotted names allowed) can be imported, without importing it."""
    try:
        return find_spec(module) is not None
    except ImportError:  # a parent package of a dotted name is itself missing
        return False


def install_command(extras: Iterable[str]) -> str:
    """The shell command installing ``extras``: ``pip install "orq-embeddings[a,b]"``."""
    return f'pip install "{DISTRIBUTION}[{",".join(dict.fromkeys(extras))}]"'


def missing_extra_error(feature: str, missing: Mapping[str, str]) -> MissingExtraError:
    """The error saying that ``feature`` needs the modules of ``missing`` (module -> extra)."""
    modules = " and ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return MissingExtraError(
        f"{feature} needs {modules}, which {verb} not installed: "
        f"run {install_command(missing.values())}"
    )


def require(feature: str, modules: Mapping[str, str]) -> None:
    """Check that every module of ``modules`` (module -> the extra bringing it) is installed.

    Args:
        feature: what needs them, as the user knows it (``"langchain_orq"``,
            ``"orq-embeddings gateway"``); the message starts with it.
        modules: each module to find, mapped to the extra of this distribution that brings it.

    Raises:
        MissingExtraError: some are not installed; the message names them and the extras to install.
    """
    missing = {module: extra for module, extra in modules.items() if not is_installed(module)}
    if missing:
        raise missing_extra_error(feature, missing)
