"""Compress per-point image chunks ourselves, in parallel, exactly as HDF5 would.

Every image stack stores one image per chunk through HDF5's standard shuffle + deflate
filters. Letting HDF5 compress the eight images of a point runs them one after another on
one core inside the per-point flush (tens of ms at 256×256). Here the same byte shuffle and
zlib stream are made on a small thread pool (zlib releases the GIL) and handed to the file
as finished chunks; any HDF5 reader decodes them with the usual filters. Stacks with another
filter pipeline fall back to ordinary writes.

Compression is chosen by measurement (:class:`Compressibility`): images dominated by noise
(ΔT/T around zero) barely compress -- deflate would spend its time to save a few percent --
so such a stack's chunks become *stored* deflate streams (zlib level 0: the bytes as they
are in a valid deflate frame, at the cost of a copy). The file keeps one filter pipeline per
dataset that every HDF5 reader decodes with its built-in filters; a per-chunk filter mask
would do the same, but HDF5 2.0 misreads such chunks through a cache shared in-process
(a live view reading the file its own scan writes).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import h5py
import numpy as np


def deflate_level(ds: h5py.Dataset) -> int | None:
    """zlib level when ``ds`` is filtered by exactly shuffle then deflate, one image per
    chunk; None when chunks must go through HDF5's own pipeline."""
    if ds.chunks is None or ds.chunks[0] != 1 or ds.chunks[1:] != ds.shape[1:]:
        return None
    plist = ds.id.get_create_plist()
    if plist.get_nfilters() != 2:
        return None
    first, second = plist.get_filter(0), plist.get_filter(1)
    if first[0] != h5py.h5z.FILTER_SHUFFLE or second[0] != h5py.h5z.FILTER_DEFLATE:
        return None
    return int(second[2][0]) if second[2] else 6


def unfiltered_images(ds: h5py.Dataset) -> bool:
    """True when ``ds`` stores one image per chunk without filters: a chunk is the image's
    bytes, written as they are."""
    if ds.chunks is None or ds.chunks[0] != 1 or ds.chunks[1:] != ds.shape[1:]:
        return False
    return bool(ds.id.get_create_plist().get_nfilters() == 0)


def encode(image: np.ndarray, level: int) -> bytes:
    """HDF5's shuffle (byte k of every element together) followed by its deflate stream."""
    flat = np.ascontiguousarray(image).reshape(-1)
    shuffled = flat.view(np.uint8).reshape(flat.size, flat.itemsize).T.tobytes()
    return zlib.compress(shuffled, level)


#: zlib level of a chunk whose stack does not compress: a stored (uncompressed) deflate stream.
STORED = 0
#: A stack stays compressed only when deflate at least halves its bytes: zlib's fastest
#: level runs at ~100 MB/s on one core, slower than a disk writes the bytes it would save,
#: so a smaller saving costs more CPU per point than it is worth.
MIN_SAVING = 0.5
#: Points between two measurements of a stack's compressibility.
REMEASURE_POINTS = 64


class Compressibility:
    """Whether deflating one image stack pays, from its own images.

    Every ``REMEASURE_POINTS`` points an image is compressed and its size compared with the
    raw one; until the next measurement the stack's images are compressed only if that
    saved at least ``MIN_SAVING``.
    """

    def __init__(self) -> None:
        self.compress = True
        self._left = 0  # points until the next measurement

    def measuring(self) -> bool:
        """True when the stack's next image is to be measured (compressed at its level)."""
        if self._left <= 0:
            return True
        self._left -= 1
        return False

    def level(self, configured: int) -> int:
        """zlib level for an image that is not measured."""
        return configured if self.compress else STORED

    def measured(self, raw_bytes: int, packed_bytes: int) -> bool:
        """Record one measurement; True when compression is kept."""
        self.compress = packed_bytes <= (1.0 - MIN_SAVING) * raw_bytes
        self._left = REMEASURE_POINTS
        return self.compress


#: Below this many bytes per point the images are compressed in the calling thread.
POOL_BYTES = 256 * 1024


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), "tamrig-deflate")


def encode_all(images: Sequence[np.ndarray], levels: Sequence[int]) -> list[bytes]:
    """``encode`` of every image, spread over the cores."""
    if sum(im.nbytes for im in images) < POOL_BYTES:  # not worth the threads' hand-off
        return [encode(im, lv) for im, lv in zip(images, levels)]
    return list(_pool().map(encode, images, levels))
