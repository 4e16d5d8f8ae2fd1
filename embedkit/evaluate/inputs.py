"""What both intrinsic evaluations read: an evaluation file (your own or one gensim ships) and the vocabulary
restricted to the most frequent words, upper-cased as gensim does.

>>> restricted_vocab(["the", "The", "cat"], 3, case_insensitive=True)
{'THE': 0, 'CAT': 2}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError


def check_restrict(restrict_vocab: object, size: int) -> int:
    """``restrict_vocab`` checked (a positive integer) and capped at the vocabulary ``size``.

    >>> check_restrict(300000, 1000)
    1000
    """
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)) or restrict_vocab <= 0:
        raise EmbedkitError(f"`restrict_vocab` must be a positive integer. Received: restrict_vocab={restrict_vocab!r}")
    return min(int(restrict_vocab), size)


def restricted_vocab(keys: list[str], restrict: int, case_insensitive: bool) -> dict[str, int]:
    """Word → row for the first ``restrict`` rows; upper-cased with the first (most frequent) variant kept."""
    ok: dict[str, int] = {}
    if case_insensitive:
        for i, k in enumerate(keys[:restrict]):
            ok.setdefault(k.upper(), i)
    else:
        ok = dict(zip(keys[:restrict], range(restrict)))
    return ok


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 evaluation file (one-line errors for a missing file, a directory, bad bytes)."""
    from embedkit.errors import check_input_file

    try:
        data = check_input_file(path, "evaluation file").read_bytes()  # a FIFO would block: refused
    except FileNotFoundError:  # pragma: no cover - removed between the check and the read
        raise EmbedkitError(f"Evaluation file does not exist. Received: {str(path)!r}") from None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise EmbedkitError(f"Expected a UTF-8 text file. Received: undecodable byte at offset {e.start} in {path}") from None


def gensim_data(name: str) -> Path:
    """A file from gensim's bundled test data (found without importing gensim, which is slow)."""
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedkitError(f"The default evaluation files come with gensim. Received: gensim not installed (wanted {name})")
    return Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data" / name
