"""`lazy_exports`: a package's public names, imported from their modules on first access.

Packages export their concepts without importing heavy dependencies (TensorFlow, FAISS) at import time:

>>> import types
>>> mod = types.ModuleType("demo")
>>> mod.__getattr__, mod.__dir__ = lazy_exports("demo", {"sqrt": "math"}, mod.__dict__)
>>> mod.sqrt(4.0)
2.0
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose public ``name`` lives in module ``exports[name]``."""

    def __getattr__(name: str) -> Any:
        mod = exports.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(mod), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | {k for k in namespace if not k.startswith("_")})

    return __getattr__, __dir__
