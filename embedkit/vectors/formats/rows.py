"""Where a reader puts the rows it parses: memory, or straight into the ``.npy`` file being written.

A reader asks a *rows factory* (``rows(dim, capacity) -> Rows``) for a growable ``(capacity, dim)`` buffer
once it knows the dimension and an estimate of the row count, writes blocks of rows with :meth:`Rows.put`, and
ends with :meth:`Rows.finish` ``(n)``, which returns the ``(n, dim)`` matrix. Neither kind copies the matrix
to grow it where the platform can remap:

- :class:`MemoryRows` (the default) lives in an anonymous memory map that grows with ``mremap``; an estimate
  that was too high costs address space only (untouched pages are never resident).
- :class:`NpyRows` writes into a ``.npy`` file in place (its data starts after a fixed 128-byte header that
  is written last, once the shape is known), so ``convert`` to native holds one copy of the matrix: the
  file's pages.

Values are rounded to float32 first whatever the target dtype, so a float16 set equals float32 rounded to
float16, as writing a float32 table does.

>>> rows = MemoryRows(2, capacity=1)
>>> rows.put(0, np.array([[1.0, 2.0]])); rows.put(1, np.array([[3.0, 4.0]]))
>>> rows.finish(2).tolist()
[[1.0, 2.0], [3.0, 4.0]]
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError

NPY_HEADER_BYTES = 128
_GROWTH = 1.5

RowsFactory = Callable[[int, int], "Rows"]
"""``(dim, capacity) -> Rows``: how a caller tells a reader where its rows go."""


class Rows:
    """A growable ``(capacity, dim)`` matrix a reader fills block by block."""

    def __init__(self, dim: int, dtype: str | np.dtype = "float32") -> None:
        self.dim = int(dim)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float16):
            raise EmbedkitError(f"`dtype` must be 'float32' or 'float16'. Received: dtype={str(self.dtype)!r}")
        self.capacity = 0
        self._view: np.ndarray | None = None

    # -- what subclasses implement -----------------------------------------------------------------------
    def _resize(self, capacity: int) -> None:
        raise NotImplementedError

    def finish(self, n: int) -> np.ndarray:
        """The first ``n`` rows as the final ``(n, dim)`` matrix (no more puts after this)."""
        raise NotImplementedError

    def abort(self) -> None:
        """Release the buffer without producing a matrix (the read failed)."""
        self._view = None

    # -- shared -------------------------------------------------------------------------------------------
    def ensure(self, n: int) -> None:
        """Make room for at least ``n`` rows."""
        if n > self.capacity:
            self._resize(max(n, int(self.capacity * _GROWTH) + 1024))

    def put(self, start: int, block: np.ndarray) -> None:
        """Write ``block`` (any float dtype, shape ``(k, dim)``) as rows ``start .. start + k``."""
        k = int(block.shape[0])
        if k == 0:
            return
        self.ensure(start + k)
        if self.dtype != np.float32 and block.dtype != np.float32:
            block = block.astype(np.float32)
        assert self._view is not None
        self._view[start : start + k] = block

    def rows(self, start: int, stop: int) -> np.ndarray:
        """A view of rows ``start .. stop`` already written (to move rows when a reader drops some)."""
        assert self._view is not None
        return self._view[start:stop]


def _anonymous_map(size: int) -> mmap.mmap:
    """Private anonymous memory (a shared one could not grow: its pages past the old end would fault)."""
    if hasattr(mmap, "MAP_PRIVATE"):
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
    return mmap.mmap(-1, size)  # pragma: no cover - Windows: resize then copies


def _map_bytes(capacity: int, dim: int, itemsize: int) -> int:
    return max(capacity * dim * itemsize, mmap.PAGESIZE)


class MemoryRows(Rows):
    """Rows in an anonymous memory map that grows without a copy where ``mremap`` exists (Linux)."""

    def __init__(self, dim: int, capacity: int = 1024, dtype: str | np.dtype = "float32") -> None:
        super().__init__(dim, dtype)
        self._map: mmap.mmap | None = None
        self._resize(max(int(capacity), 1))

    def _resize(self, capacity: int) -> None:
        size = _map_bytes(capacity, self.dim, self.dtype.itemsize)
        self._view = None  # the map cannot be resized while a view exports its buffer
        if self._map is not None:
            try:
                self._map.resize(size)
            except (SystemError, OSError, BufferError, ValueError):
                new = _anonymous_map(size)
                keep = min(len(self._map), size)
                new[:keep] = self._map[:keep]
                self._map.close()
                self._map = new
        else:
            try:
                self._map = _anonymous_map(size)
            except (OSError, OverflowError, ValueError):
                raise EmbedkitError(
                    f"Not enough memory for {capacity} vectors of dim {self.dim}. Received: a request for "
                    f"{size / 2**20:.0f} MiB"
                ) from None
        self.capacity = capacity
        self._view = np.frombuffer(self._map, dtype=self.dtype, count=capacity * self.dim).reshape(capacity, self.dim)

    def finish(self, n: int) -> np.ndarray:
        if n == 0:
            self.abort()
            return np.empty((0, self.dim), dtype=self.dtype)
        if n < self.capacity:
            self._resize(n)  # mremap gives the tail back
        assert self._view is not None
        out = self._view[:n]
        self._view = None
        return out

    def abort(self) -> None:
        self._view = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a caller still holds a view
                pass
            self._map = None


def npy_header(dtype: np.dtype, shape: tuple[int, int], total: int = NPY_HEADER_BYTES) -> bytes:
    """An NPY 1.0 header of exactly ``total`` bytes (``np.load`` reads it) for a C-order array."""
    body = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (np.lib.format.dtype_to_descr(dtype), shape)
    room = total - 10
    if len(body) + 1 > room:
        raise EmbedkitError(f"The matrix shape is too large for the .npy header. Received: shape={shape}")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", room) + (body.ljust(room - 1) + "\n").encode("latin-1")


class NpyRows(Rows):
    """Rows written in place into the ``.npy`` file at ``path`` (created; grown with the file).

    :meth:`finish` writes the header for the final shape, cuts the file to its size and returns the matrix
    as a read-only memory map of that file.
    """

    def __init__(self, path: str | os.PathLike[str], dim: int, capacity: int = 1024,
                 dtype: str | np.dtype = "float32") -> None:
        super().__init__(dim, dtype)
        self.path = Path(path)
        self._fh = open(self.path, "w+b")
        self._map: mmap.mmap | None = None
        self._resize(max(int(capacity), 1))

    def _resize(self, capacity: int) -> None:
        size = NPY_HEADER_BYTES + capacity * self.dim * self.dtype.itemsize
        self._view = None
        try:
            if self._map is not None:
                self._map.close()
            self._fh.truncate(size)
            self._map = mmap.mmap(self._fh.fileno(), size)
        except OSError as e:
            raise EmbedkitError(f"The output could not be written ({e.strerror}). Received: {str(self.path)!r}") from None
        self.capacity = capacity
        self._view = np.frombuffer(self._map, dtype=self.dtype, count=capacity * self.dim,
                                   offset=NPY_HEADER_BYTES).reshape(capacity, self.dim)

    def finish(self, n: int) -> np.ndarray:
        assert self._map is not None
        self._view = None
        self._map[:NPY_HEADER_BYTES] = npy_header(self.dtype, (n, self.dim))
        self._map.flush()
        self._map.close()
        self._map = None
        self._fh.truncate(NPY_HEADER_BYTES + n * self.dim * self.dtype.itemsize)
        self._fh.close()
        return np.load(self.path, mmap_mode="r", allow_pickle=False)

    def abort(self) -> None:
        self._view = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass
            self._map = None
        if not self._fh.closed:
            self._fh.close()


def memory_rows(dim: int, capacity: int) -> Rows:
    """The default rows factory: :class:`MemoryRows` of float32."""
    return MemoryRows(dim, capacity)
