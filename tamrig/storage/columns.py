"""Per-point 1-D columns written a whole chunk at a time.

Writing one value through HDF5's dataset write path (selection, conversion, chunk cache)
costs ~14 µs, and a point has some fifty columns. For an unfiltered column the writer keeps
the chunk being filled in memory and hands it to HDF5 as is with a direct chunk write
(~4 µs). Rows already on disk are rewritten with the same bytes, so neither a reader nor a
kill in the middle of the write ever sees an earlier row change.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np


def chunk_writable(ds: h5py.Dataset) -> bool:
    """A 1-D chunked dataset without filters: its chunks are its raw bytes."""
    return ds.ndim == 1 and ds.chunks is not None and ds.id.get_create_plist().get_nfilters() == 0


class ColumnChunk:
    """The open chunk of one growing column, mirrored in memory."""

    def __init__(self, ds: h5py.Dataset, rows: int) -> None:
        """``rows``: the rows the column holds now (the next append writes row ``rows``)."""
        if not chunk_writable(ds):
            raise ValueError(f"{ds.name} is not an unfiltered 1-D chunked dataset")
        self._ds = ds
        self._id = ds.id  # the low-level handle (the property builds it on every access)
        self._size = int(ds.chunks[0])
        self._fill = np.full(self._size, ds.fillvalue, ds.dtype)
        self._buffer = self._fill.copy()
        self._start = rows // self._size * self._size
        if rows > self._start:
            self._buffer[: rows - self._start] = ds[self._start : rows]

    def append(self, row: int, value: Any) -> None:
        """Grow the column to ``row + 1`` rows with ``value`` as its last."""
        start = row // self._size * self._size
        if start != self._start:  # a new chunk: nothing of it is on disk yet
            self._buffer[:] = self._fill
            self._start = start
        self._buffer[row - start] = value
        self._id.set_extent((row + 1,))
        self._id.write_direct_chunk((start,), self._buffer)
