"""`import_tensorflow`: import TensorFlow once, without its C++ start-up chatter on the terminal;
`quiet_tensorflow`: keep its log lines (C++ and Python) below errors for a whole command.

TensorFlow 2.21 prints lines such as "oneDNN custom operations are on" and "Could not find cuda drivers"
before its logging is configured, ignoring ``TF_CPP_MIN_LOG_LEVEL``. embedkit hides file descriptor 2 for
the duration of the import only; Python errors raised by the import still reach the user. Set
``EMBEDKIT_TF_LOGS=1`` to see the lines.

>>> import_tensorflow  # doctest: +ELLIPSIS
<function import_tensorflow at ...>
"""

from __future__ import annotations

import os
import sys
from typing import Any


def import_tensorflow() -> Any:
    """The ``tensorflow`` module, imported quietly the first time."""
    if "tensorflow" in sys.modules or os.environ.get("EMBEDKIT_TF_LOGS") == "1":
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr descriptor: import as is
        import tensorflow

        return tensorflow
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ and Python log lines (retracing warnings, ...) off the terminal (errors still show).

    For applications (the command line) that draw progress on stderr; it sets ``TF_CPP_MIN_LOG_LEVEL`` (unless
    set) and the ``tensorflow`` logger's level, and imports nothing.

    >>> quiet_tensorflow()
    """
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
