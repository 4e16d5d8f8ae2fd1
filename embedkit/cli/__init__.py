"""The ``embedkit`` command line: a thin layer that parses options, calls the library and formats results.

Each feature registers its commands from its own module in this package; none of them imports TensorFlow
or FAISS at import time, so ``embedkit info`` / ``neighbours`` start fast.
"""

from __future__ import annotations

import typer

from embedkit.cli import base

base.register_all()
app: typer.Typer = base.app


def main() -> None:
    """Console-script entry point."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow C++ start-up chatter (e.g. cuInit on CPU hosts)
    app()


__all__ = ["app", "main"]
