"""The vector sets a server answers for: opened once at start-up, looked up by name, read-only.

``embedkit serve --vectors glove,cbow=runs/cbow`` serves two sets, named ``glove`` and ``cbow``: each entry is
a set name, a path, or ``NAME=SPEC`` to choose the name the API uses. Everything a query needs is opened
before the first request (the vectors, the word -> row table, the exact index and, with ``approx``, the
approximate one), so no request waits for a load and no request can name a file: a request's ``set`` is only
ever looked up among these names.

>>> parse_set_specs("glove,cbow=runs/cbow")
[(None, 'glove'), ('cbow', 'runs/cbow')]
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.progress import ProgressArg
from embedkit.serve.completion import Completions
from embedkit.serve.errors import ApiError, bad_request
from embedkit.vectors.vector_set import VectorSet

if TYPE_CHECKING:  # pragma: no cover
    from embedkit.search.vector_index import VectorIndex
    from embedkit.vectors.word_vectors import WordVectors

log = logging.getLogger("embedkit.serve.sets")

SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SEARCH_MODES = ("exact", "approx")


def parse_set_specs(specs: str | Sequence[str] | None) -> list[tuple[str | None, str | None]]:
    """``(name or None, spec)`` per comma-separated entry (``None`` spec: the default set).

    >>> parse_set_specs(None)
    [(None, None)]
    """
    if specs is None:
        return [(None, None)]
    items = [specs] if isinstance(specs, str) else list(specs)
    out: list[tuple[str | None, str | None]] = []
    for item in items:
        for entry in item.split(","):
            entry = entry.strip()
            if not entry:
                raise EmbedkitError(f"Expected comma-separated vector sets. Received: an empty entry in {item!r}")
            name, sep, spec = entry.partition("=")
            if sep and not SET_NAME.match(name):
                raise EmbedkitError(f"A set name must be 1-64 letters, digits, '.', '_' or '-'. Received: {name!r}")
            out.append((name, spec) if sep else (None, entry))
    return out


@dataclass
class ServedSet:
    """One served set: its vectors, indexes (``exact``, and ``approx`` when enabled) and summary.

    Attributes:
        name: the name requests use.
        vectors: the opened :class:`~embedkit.vectors.vector_set.VectorSet`.
        wv: its words and vectors (a read-only memory map for a native set).
        indexes: search mode (``exact`` / ``approx``) -> index.
        default_search: the mode used when a request names none.
        info: the summary ``GET /v1/sets/NAME`` answers.
    """

    name: str
    vectors: VectorSet
    wv: WordVectors
    indexes: dict[str, VectorIndex]
    default_search: str
    info: dict[str, Any]
    _completions: Completions | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def size(self) -> int:
        """Number of words."""
        return len(self.wv)

    def row(self, word: str) -> int | None:
        """The row of ``word``, or None."""
        return self.wv.key_to_index.get(word)

    def vector(self, row: int) -> np.ndarray:
        """The stored vector of a row (float32)."""
        return np.asarray(self.vectors.matrix[row], dtype=np.float32)

    def search_mode(self, search: str | None) -> str:
        """``search`` (or the default mode) if this set has it, else a 400 error."""
        mode = search or self.default_search
        if mode not in self.indexes:
            raise bad_request(f"Approximate search is not enabled for set {self.name!r}; start `embedkit serve` "
                              f"with --approx. Received: search={mode!r}")
        return mode

    def index(self, search: str | None) -> VectorIndex:
        """The index of a search mode (see :meth:`search_mode`)."""
        return self.indexes[self.search_mode(search)]

    def completions(self) -> Completions:
        """The prefix table of the vocabulary (sorted on first use)."""
        with self._lock:
            if self._completions is None:
                t = time.perf_counter()
                self._completions = Completions(self.wv.keys)
                log.debug("Sorted the %d words of %s for autocomplete in %.2f s", self.size, self.name,
                          time.perf_counter() - t)
            return self._completions

    def describe(self) -> dict[str, Any]:
        """The set's summary with its search modes (JSON-ready)."""
        return {"name": self.name, **self.info, "search": {
            "default": self.default_search, "modes": {m: idx.kind for m, idx in self.indexes.items()}}}


class ServedSets:
    """The sets of one server by name; the first is the default.

    >>> ServedSets([]).names
    []
    """

    def __init__(self, sets: Sequence[ServedSet]) -> None:
        self._sets = {s.name: s for s in sets}

    @property
    def names(self) -> list[str]:
        """The set names, default first."""
        return list(self._sets)

    @property
    def default(self) -> str | None:
        """The default set's name."""
        return next(iter(self._sets), None)

    def __iter__(self) -> Iterator[ServedSet]:
        return iter(self._sets.values())

    def __len__(self) -> int:
        return len(self._sets)

    def get(self, name: str | None) -> ServedSet:
        """The set called ``name`` (None: the default), else a 404 error listing the served names."""
        key = name if name is not None else self.default
        found = self._sets.get(key) if key is not None else None
        if found is None:
            served = ", ".join(self._sets) or "none"
            raise ApiError(404, "unknown_set", f"Expected a set served here: {served}. Received: set={name!r}",
                           sets=self.names)
        return found


def _check_name(name: str) -> str:
    if not SET_NAME.match(name):
        raise EmbedkitError(f"A set name must be 1-64 letters, digits, '.', '_' or '-'; name it with NAME=PATH. "
                            f"Received: {name!r}")
    return name


def open_served_set(
    spec: str | VectorSet | None, name: str | None = None, *, approx: bool = False, progress: ProgressArg = None
) -> ServedSet:
    """Open one set for serving: vectors, word table, exact index and, with ``approx``, the approximate one.

    ``spec`` is what :func:`~embedkit.vectors.vector_set.open_vectors` takes, or a set it opened. Indexes are
    the set's own (:meth:`~embedkit.vectors.vector_set.VectorSet.index`: a native set reuses the index kept
    beside it, building it there on first use, as ``embedkit neighbours`` does).

    Example:
        >>> import numpy as np, tempfile, os
        >>> from embedkit.vectors.word_vectors import WordVectors
        >>> d = os.path.join(tempfile.mkdtemp(), "tiny")
        >>> WordVectors(["a", "b", "c"], np.eye(3, dtype=np.float32)).save(d)
        >>> s = open_served_set(d)
        >>> s.name, s.size, s.default_search, sorted(s.indexes)
        ('tiny', 3, 'exact', ['exact'])
    """
    from embedkit.vectors.info import describe_set
    from embedkit.vectors.vector_set import VectorSet, open_vectors

    t = time.perf_counter()
    vs = spec if isinstance(spec, VectorSet) else open_vectors(spec)
    set_name = _check_name(name if name is not None else vs.name)
    wv = vs.require_words()
    wv.key_to_index  # noqa: B018 - build the word -> row table now, not in the first request
    indexes = {"exact": vs.index(exact=True, progress=progress)}
    if approx:
        indexes["approx"] = vs.index(approx=True, progress=progress)
    info = describe_set(vs, sample=10)
    info.pop("path", None)  # where the files are is not the clients' business
    if isinstance(info.get("source"), str) and ("/" in info["source"] or "\\" in info["source"]):
        info["source"] = PurePath(info["source"]).name
    info["format"] = vs.format
    log.debug("Opened %s: %d words x %d (%s; %s) in %.1f s", set_name, len(wv), wv.dim, info["format"],
              ", ".join(f"{m}: {i.kind}" for m, i in indexes.items()), time.perf_counter() - t)
    return ServedSet(set_name, vs, wv, indexes, "approx" if approx else "exact", info)


def open_served_sets(
    specs: str | Sequence[str] | None, *, approx: bool = False, progress: ProgressArg = None
) -> ServedSets:
    """Open every set of ``specs`` (see :func:`parse_set_specs`); names must be distinct.

    Every name is resolved and checked before any set is read.
    """
    from embedkit.vectors.vector_set import open_vectors

    resolved = []
    for name, spec in parse_set_specs(specs):
        vs = open_vectors(spec)
        resolved.append((_check_name(name if name is not None else vs.name), vs))
    names = [n for n, _ in resolved]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise EmbedkitError(f"Expected distinct set names (name them with NAME=PATH). Received: {twice!r} twice")
    return ServedSets([open_served_set(vs, name, approx=approx, progress=progress) for name, vs in resolved])
