"""Vocabularies that do not come from a tokenizer object: a vocabulary file, or the words of some texts.

>>> v, counts = vocab_from_texts(["a b a", "c a"])
>>> v.tokens, counts.tolist()
(['', '[UNK]', 'a', 'b', 'c'], [0, 0, 3, 1, 1])
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.matrix.adapters.containers import ListAdapter
from embedkit.matrix.adapters.registry import as_vocab
from embedkit.text.tokenizer import Tokenizer
from embedkit.text.vocabulary import Vocabulary


def read_vocab_file(path: str | os.PathLike[str]) -> tuple[Vocabulary, np.ndarray | None]:
    """Read a vocabulary file: one token per line (optionally ``token<TAB or space>count``), or JSON.

    A JSON file holds a list of tokens or a token → id dict (a Keras ``word_index`` when ids start at 1).
    A blank first line is the padding row. Returns the vocabulary and per-id counts (None without counts).
    """
    p = Path(path)
    if not p.is_file():
        raise EmbedkitError(f"Vocabulary file does not exist. Received: {str(p)!r}")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise EmbedkitError(f"Expected a JSON list or dict vocabulary. Received: invalid JSON in {str(p)!r} ({e.msg})") from None
        if not isinstance(data, (list, dict)):
            raise EmbedkitError(f"Expected a JSON list or dict vocabulary. Received: {type(data).__name__} in {str(p)!r}")
        return as_vocab(data), None
    lines = text.splitlines()
    tokens: list[str] = []
    counts: list[int] = []
    has_counts = True
    for n, line in enumerate(lines):
        if not line.strip():
            if n == 0:
                tokens.append("")
                counts.append(0)
            continue
        parts = line.rstrip("\r").split("\t") if "\t" in line else line.rsplit(" ", 1)
        if len(parts) == 2 and parts[1].strip().isdigit():
            tokens.append(parts[0].strip())
            counts.append(int(parts[1]))
        else:
            tokens.append(line.strip())
            counts.append(0)
            has_counts = False
    if not tokens or tokens == [""]:
        raise EmbedkitError(f"The vocabulary must contain at least one token. Received: empty file {str(p)!r}")
    return ListAdapter().adapt(tokens), (np.array(counts, dtype=np.int64) if has_counts else None)


def vocab_from_texts(texts: Iterable[str], *, max_tokens: int | None = None, lower: bool = True) -> tuple[Vocabulary, np.ndarray]:
    """A frequency-ordered word vocabulary of ``texts`` (``''`` padding, ``[UNK]``, then words) and its counts.

    This is the layout ``TextVectorization`` produces after ``adapt``.
    """
    counter: Counter[str] = Counter()
    tokenize = Tokenizer.preset("keras", lower)
    for t in texts:
        counter.update(tokenize(t))
    if not counter:
        raise EmbedkitError("The texts must contain at least one word. Received: no words")
    words = [w for w, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
    if max_tokens is not None:
        words = words[: max(0, max_tokens - 2)]
    tokens = ["", "[UNK]", *words]
    unk = sum(counter.values()) - sum(counter[w] for w in words)
    counts = np.array([0, unk, *(counter[w] for w in words)], dtype=np.int64)
    return ListAdapter().adapt(tokens), counts


def read_text_lines(path: str | os.PathLike[str], encoding: str | None = None) -> list[str]:
    """The non-blank lines of a text sample (``.gz`` / ``.bz2`` / ``.xz`` decompressed), decoded as datasets
    are: UTF-8, then ``encoding``, then cp1252, then latin-1 (:func:`embedkit.text.decoding.decode_bytes`);
    binary input is refused.

    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "t.txt")
    >>> _ = open(p, "wb").write("a b\\nca\xe9\\n".encode("latin-1"))
    >>> read_text_lines(p)
    ['a b', 'caé']
    """
    from embedkit.text.decoding import read_text, split_lines

    text, _ = read_text(path, encoding, what="texts file")
    return split_lines(text)
