"""The native format: a directory holding ``vectors.npy``, ``vocab.txt`` and ``meta.json``.

``vectors.npy`` is float32 (or float16 on request) and is opened with mmap, so re-opening 400k×50 vectors
takes milliseconds. ``vocab.txt`` holds one ``word<TAB>count`` per line (count -1 when unknown).
``meta.json`` records dim, size, dtype, source, created and the sha256 of ``vectors.npy``.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "set")
>>> WordVectors(["a", "b"], np.eye(2, dtype=np.float32)).save(d)
>>> read_native(d).keys
['a', 'b']
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.files.atomic import atomic_path
from embedkit.errors import EmbedkitError, FormatError
from embedkit.vectors.word_vectors import WordVectors

FORMAT_VERSION = 1


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in 4 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while b := fh.read(chunk):
            h.update(b)
    return h.hexdigest()


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``meta.json`` of a native directory."""
    p = Path(path) / "meta.json"
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmbedkitError(f"Expected a native vectors directory with meta.json. Received: {str(path)!r}") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"meta.json must be valid JSON. Received: {p}: {e.msg} at line {e.lineno}") from None
    if not isinstance(meta, dict) or "dim" not in meta or "size" not in meta:
        raise FormatError(f"meta.json must hold 'dim' and 'size'. Received: {p}")
    return meta


def read_native(path: str | os.PathLike[str], mmap: bool = True, verify: bool = False, **_: Any) -> WordVectors:
    """Open a native directory; ``vectors`` is a read-only memory map unless ``mmap=False``.

    With ``verify=True`` the sha256 of ``vectors.npy`` is checked against ``meta.json``.
    """
    p = Path(path)
    meta = read_meta(p)
    vec_path = p / "vectors.npy"
    try:
        vectors = np.load(vec_path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise EmbedkitError(f"Expected vectors.npy in the native directory. Received: {str(p)!r}") from None
    except ValueError as e:
        raise FormatError(f"vectors.npy is not a valid .npy file: {e}. Received: {vec_path}") from None
    if vectors.ndim != 2 or vectors.shape != (meta["size"], meta["dim"]):
        raise FormatError(
            f"vectors.npy must have shape (size, dim) = ({meta['size']}, {meta['dim']}) as meta.json says. "
            f"Received: shape={vectors.shape} in {vec_path}"
        )
    if verify and meta.get("sha256") and sha256_file(vec_path) != meta["sha256"]:
        raise FormatError(f"vectors.npy does not match the sha256 in meta.json. Received: {vec_path}")
    keys, counts = _read_vocab(p / "vocab.txt", with_counts=meta.get("has_counts", True))
    if len(keys) != meta["size"]:
        raise FormatError(
            f"vocab.txt must list {meta['size']} words as meta.json says. Received: {len(keys)} in {p / 'vocab.txt'}"
        )
    wv = WordVectors(keys, vectors, counts, source=meta.get("source"))
    wv.meta = meta  # type: ignore[attr-defined]
    return wv


def _read_vocab(path: Path, with_counts: bool = True) -> tuple[list[str], np.ndarray | None]:
    """Words and counts of ``vocab.txt`` (one ``word<TAB>count`` per line; words hold no tab or newline).

    Splitting the whole text at once keeps re-opening 400k words well under 0.1 s.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EmbedkitError(f"Expected vocab.txt in the native directory. Received: {str(path.parent)!r}") from None
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return [], None
    if not with_counts:  # every count is -1: drop them before splitting (half the strings to create)
        words_only = (text + "\n").replace("\t-1\n", "\n")
        if "\t" not in words_only and text.count("\t") == text.count("\n") + 1:  # one "\t-1" per line
            return words_only[:-1].split("\n"), None
    fields = text.replace("\n", "\t").split("\t")
    if len(fields) % 2:
        raise FormatError(f"Expected 'word<TAB>count' on every line of {path}. Received: a line without a tab")
    keys = fields[0::2]
    if not with_counts:
        return keys, None
    try:
        arr = np.array(fields[1::2], dtype=np.int64)
    except ValueError:
        raise FormatError(f"Expected integer counts in {path}. Received: a non-integer count") from None
    return keys, (None if (arr < 0).all() else arr)


def write_native(
    wv: WordVectors,
    path: str | os.PathLike[str],
    dtype: str = "float32",
    source: str | None = None,
    extra_meta: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    """Write ``wv`` as a native directory at ``path`` (atomically; an existing set is replaced)."""
    if dtype not in ("float32", "float16"):
        raise EmbedkitError(f"`dtype` must be 'float32' or 'float16'. Received: dtype={dtype!r}")
    bad = next((k for k in wv.keys if "\t" in k or "\n" in k or "\r" in k), None)
    if bad is not None:
        raise EmbedkitError(f"Words must not contain tabs or newlines. Received: {bad!r}")
    with atomic_path(path) as tmp:
        tmp.mkdir()
        vec_path = tmp / "vectors.npy"
        arr = np.lib.format.open_memmap(vec_path, mode="w+", dtype=dtype, shape=wv.vectors.shape)
        step = 65536
        for s in range(0, len(wv), step):
            arr[s : s + step] = wv.vectors[s : s + step]
        arr.flush()
        del arr
        counts = wv.counts if wv.counts is not None else np.full(len(wv), -1, np.int64)
        with open(tmp / "vocab.txt", "w", encoding="utf-8", newline="\n") as fh:
            fh.write("".join(f"{k}\t{c}\n" for k, c in zip(wv.keys, counts.tolist())))
        meta = {
            "format_version": FORMAT_VERSION,
            "dim": wv.dim,
            "size": len(wv),
            "dtype": dtype,
            "source": source or wv.source,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "sha256": sha256_file(vec_path),
            "has_counts": wv.counts is not None,
        }
        if extra_meta:
            meta.update(extra_meta)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
