"""Package attributes imported on first use (PEP 562), to keep ``import`` of a package cheap.

The local gateway's pytest plugin is loaded by every pytest run where this package is installed;
with eager ``__init__`` imports it would pull in the HTTP client, numpy and the ASGI app each time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a submodule) on first access."""
    namespace = import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        submodule = exports.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{submodule}"), name)
        namespace[name] = value
        return value

    return __getattr__
