"""The ΔT/T kernel: running sums of pump-on and pump-off camera frames, never the frames.

The accumulator keeps running per-pixel sums, sums of squares and counts of dark-subtracted,
probe-normalised frames, so a point never holds its frames and per-pixel standard errors come
for free. It is vectorised over a :class:`~tamrig.devices.FrameBlock`: the per-frame work is a
handful of whole-block array operations and matrix products (BLAS), never a Python loop.

Numerics: for the sums and squares, frames are centred on a per-pixel baseline (the first
block's mean) before any float32 arithmetic, so squares stay small and the float32 block
sums are exact to well below the shot noise. The per-frame means that normalise the probe
are taken from the raw counts in float32 (an error of ~1e-6 of the mean, far below its shot
noise) and summed in float64.

Speed: a block is worked through in pixel slabs that fit a core's L2 cache, in two passes
(frame means, then the weighted sums), each converting its slab from the raw frames: a
float32 copy of the block would not fit in cache, the raw block mostly does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from tamrig.devices import FrameBlock
from tamrig.records import DifferentialImage

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Bytes of float32 work slab per pixel chunk: small enough to stay in a core's L2 cache.
CHUNK_BYTES = 512 * 1024
#: Fewest pixels per slab: narrower slabs make the matrix products inefficient.
MIN_WIDTH = 256


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


@cache
def _pool_workers() -> tuple[ThreadPoolExecutor, ...]:
    """One single-thread executor per core (at most 2): slabs are split between cores.

    numpy releases the GIL inside its array loops and BLAS calls, so the slab work of two
    threads runs truly in parallel; the Python glue between calls is small.
    """
    count = max(1, min(2, os.cpu_count() or 1))
    return tuple(ThreadPoolExecutor(1, thread_name_prefix="tamrig-acc") for _ in range(count))


def max_threads() -> int:
    """Cores the accumulator can split its work over."""
    return len(_pool_workers())


Span = tuple[int, int]
#: Frames x pixels of a block from which its slabs are split between the cores (~1 ms work).
PARALLEL_MIN_PIXELS = 2**20


def _parallel(work: Callable[[int, list[Span]], F64], shares: list[list[Span]]) -> list[F64]:
    """Run ``work(worker, spans)`` on each share, the first in this thread, the rest in
    the pool; ``worker`` numbers the thread so each uses its own scratch slab."""
    futures = [
        pool.submit(work, k, share)
        for k, (pool, share) in enumerate(zip(_pool_workers()[1:], shares[1:]), start=1)
    ]
    results = [work(0, shares[0])]
    results += [f.result() for f in futures]
    return results


class DifferentialAccumulator:
    """Running sums (Σ, Σ², n) of dark-subtracted, probe-normalised pump-on / pump-off frames.

    Normalisation: every frame is divided by its mean over ``norm_mask`` (default: the whole
    frame) and multiplied by the mean of those frame means, which removes probe-power
    fluctuations frame by frame while keeping the means in counts. Choose a mask away from
    the pump spot to keep the pump signal out of the reference (the engine uses the border).
    """

    def __init__(
        self,
        shape: tuple[int, int],
        dark: npt.NDArray[np.floating] | None = None,
        normalise: bool = True,
        *,
        norm_mask: npt.NDArray[np.bool_] | None = None,
        dark_err: npt.NDArray[np.floating] | None = None,
        threads: int | None = None,
    ) -> None:
        #: cores the slab work is split over (default: up to 2)
        self.threads = len(_pool_workers()) if threads is None else threads
        if not 1 <= self.threads <= len(_pool_workers()):
            raise ValueError(f"threads must be within 1..{len(_pool_workers())}")
        self.shape = (int(shape[0]), int(shape[1]))
        self.size = self.shape[0] * self.shape[1]
        if dark is not None and dark.shape != self.shape:
            raise ValueError(f"dark frame shape {dark.shape} != image shape {self.shape}")
        if norm_mask is not None:
            if norm_mask.shape != self.shape:
                raise ValueError(f"norm_mask shape {norm_mask.shape} != image shape {self.shape}")
            if not norm_mask.any():
                raise ValueError("norm_mask selects no pixel")
        self.dark = None if dark is None else np.asarray(dark, dtype=np.float64)
        self.dark_err = None if dark_err is None else np.asarray(dark_err, dtype=np.float64)
        self.normalise = normalise
        mask = np.ones(self.size, bool) if norm_mask is None else norm_mask.reshape(-1)
        self._mask_vec = (mask / mask.sum()).astype(np.float32)
        self._scratch: list[F32] = []
        self.reset()

    def fresh(self) -> DifferentialAccumulator:
        """An empty accumulator with this one's shape, dark frame, normalisation mask and
        threads, without checking or preparing them again.

        What is fixed for a scan is validated once: the engine keeps one accumulator as a
        template and takes a fresh one from it per point. The dark frames and the mask are
        shared, read-only; the sums and the scratch slabs are the new accumulator's own, so
        one point's result can be computed while the next point's frames are added.
        """
        new = object.__new__(type(self))
        new.threads, new.shape, new.size = self.threads, self.shape, self.size
        new.dark, new.dark_err, new.normalise = self.dark, self.dark_err, self.normalise
        new._mask_vec = self._mask_vec
        new._scratch = []
        new.reset()
        return new

    # -- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every frame (keeps dark, mask and buffers)."""
        self._baseline: F64 | None = None  # R: per-pixel centring, dark-subtracted counts
        self._offset32: F32 | None = None  # D + R as float32, subtracted from raw frames
        self._dark_level = 0.0  # mean of D over the normalisation mask
        self._ref_level = 1.0  # M0: frame-mean level the weights refer to
        # Sums of centred values are small, so float32 accumulators stay exact to far below
        # the shot noise; rows: on, off (and for g1 also the w(w-1)-weighted on, off).
        self._g1 = np.zeros((4, self.size), np.float32)  # Σ w·Y, Σ w(w-1)·Y
        self._g2 = np.zeros((2, self.size), np.float32)  # Σ w²·Y²
        self._wsums = np.zeros((2, 2))  # per tag: Σ(w-1), Σ(w-1)²
        self._counts = np.zeros(2, np.int64)
        self._level_sum = 0.0  # Σ of frame means (for the output scale)
        self.dropped = 0

    @property
    def n_on(self) -> int:
        return int(self._counts[0])

    @property
    def n_off(self) -> int:
        return int(self._counts[1])

    # -- accumulation -----------------------------------------------------------------------
    def _width(self, n: int) -> int:
        """Pixels per slab: an n-frame float32 slab stays in a core's L2 cache."""
        return int(np.clip(CHUNK_BYTES // (4 * max(n, 1)), MIN_WIDTH, self.size))

    def _spans(self, n: int) -> list[Span]:
        """(first pixel, end pixel) of the slabs covering the frame, and one compact
        (n, width) float32 scratch slab per worker thread, reused for every slab."""
        width = self._width(n)
        if not self._scratch or self._scratch[0].shape != (n, width):
            self._scratch = [np.empty((n, width), np.float32) for _ in range(self.threads)]
        return [(a, min(self.size, a + width)) for a in range(0, self.size, width)]

    def _first_block(self, flat: npt.NDArray[np.integer]) -> None:
        """Baseline R = rounded mean dark-subtracted frame of the first block."""
        dark = np.zeros(self.size) if self.dark is None else self.dark.reshape(-1)
        self._baseline = np.round(flat.mean(axis=0, dtype=np.float64) - dark)
        self._offset32 = (self._baseline + dark).astype(np.float32)
        self._dark_level = float(dark @ self._mask_vec.astype(np.float64))

    def add(self, block: FrameBlock, pump_on: npt.NDArray[np.bool_]) -> None:
        """Add a block of frames tagged pump on (True) / off (False), vectorised."""
        data = block.data
        n = data.shape[0]
        if data.shape[1:] != self.shape:
            raise ValueError(f"frame shape {data.shape[1:]} != accumulator shape {self.shape}")
        tags = np.asarray(pump_on, dtype=bool).reshape(-1)
        if tags.shape[0] != n:
            raise ValueError(f"{tags.shape[0]} pump tags for {n} frames")
        self.dropped += int(block.dropped)
        if n == 0:
            return
        flat = data.reshape(n, self.size)
        first = self._offset32 is None
        if first:
            self._first_block(flat)
        # The products are many and small: BLAS threads cost more than they give (and are
        # ruinous on a busy machine), so one thread inside this block.
        with _blas().limit(limits=1, user_api="blas"):
            self._accumulate(flat, tags, first, block)

    def _accumulate(
        self,
        flat: npt.NDArray[np.integer],
        tags: npt.NDArray[np.bool_],
        first: bool,
        block: FrameBlock,
    ) -> None:
        n = flat.shape[0]
        offset = self._offset32
        assert offset is not None
        spans = self._spans(n)
        # Small blocks (a demo ROI) are done here: handing them to the other core costs
        # more than their work, and far more on a machine busy with other processes.
        workers = self.threads if n * self.size >= PARALLEL_MIN_PIXELS else 1
        shares = [spans[i::workers] for i in range(workers)]

        def centred(worker: int, a: int, b: int) -> F32:
            """Y = I - D - R of pixels a:b of every frame, in the worker's scratch slab."""
            part = self._scratch[worker][:, : b - a]
            part[...] = flat[:, a:b]
            part -= offset[a:b]
            return part

        def frame_means(worker: int, mine: list[Span]) -> F64:
            """Pass 1 on some slabs: their part of the raw frames' means over the mask.

            Uncentred float32 is enough here: a slab's dot product errs by ~1e-6 of the
            mean, far below the frame-to-frame shot noise of the mean it normalises by.
            """
            partial = np.zeros(n)
            scratch = self._scratch[worker]
            for a, b in mine:
                part = scratch[:, : b - a]
                part[...] = flat[:, a:b]
                partial += part @ self._mask_vec[a:b]
            return partial

        levels = np.sum(_parallel(frame_means, shares), axis=0) - self._dark_level  # I - D
        if self.normalise:
            if np.any(levels <= 0):
                bad = int(np.argmin(levels))
                raise ValueError(
                    f"frame {int(block.frame_id[bad])} has no probe light "
                    f"(mean {levels[bad]:.3g} counts after dark subtraction)"
                )
            if first:
                self._ref_level = float(levels.mean())
            w = self._ref_level / levels
        else:
            w = np.ones(n)
        self._level_sum += float(levels.sum())
        on = tags.astype(np.float64)
        off = 1.0 - on
        wm1 = w - 1.0
        # With Y = I - D - R and s = w(I - D):  s - R = w·Y + (w - 1)·R, hence
        #   Σ(s-R)  = Σ w Y            + R Σ(w-1)
        #   Σ(s-R)² = Σ w² Y² + 2R Σ w(w-1) Y + R² Σ(w-1)²
        n_rows = 4 if self.normalise else 2
        rows1 = np.stack([on * w, off * w, on * w * wm1, off * w * wm1])[:n_rows]
        rows1 = rows1.astype(np.float32)
        rows2 = np.stack([on * w * w, off * w * w]).astype(np.float32)

        def products(worker: int, mine: list[Span]) -> F64:
            """Pass 2 on some slabs: weighted sums per tag while each slab is in cache.

            The slab is centred again from the raw frames rather than kept from pass 1: the
            raw block is half the bytes of its float32 copy, which would not fit in cache.
            """
            for a, b in mine:
                part = centred(worker, a, b)
                self._g1[:n_rows, a:b] += rows1 @ part
                np.square(part, out=part)
                self._g2[:, a:b] += rows2 @ part
            return np.zeros(0)

        _parallel(products, shares)
        self._wsums += [[on @ wm1, on @ (wm1 * wm1)], [off @ wm1, off @ (wm1 * wm1)]]
        self._counts += (int(tags.sum()), int(n - tags.sum()))

    # -- result -----------------------------------------------------------------------------
    def _scale(self) -> float:
        """Output scale: the frames' mean level relative to the level the weights refer to."""
        total = self.n_on + self.n_off
        return (self._level_sum / total) / self._ref_level if self.normalise else 1.0

    def _tag_mean(self, tag: int, scale: float) -> tuple[F64, F64]:
        """Mean frame of one tag (0: pump on, 1: pump off) and its per-pixel standard error."""
        assert self._baseline is not None
        n = int(self._counts[tag])
        base = self._baseline
        s_wm1, s_wm1_2 = self._wsums[tag]
        sum1 = self._g1[tag].astype(np.float64) + base * s_wm1
        sum2 = self._g2[tag] + 2.0 * base * self._g1[tag + 2] + base * base * s_wm1_2
        mean_c = sum1 / n
        var = np.clip((sum2 - sum1 * mean_c) / (n - 1), 0.0, None)
        mean = ((base + mean_c) * scale).reshape(self.shape)
        return mean, (np.sqrt(var / n) * scale).reshape(self.shape)

    def frame_mean(self, pump_on: bool) -> tuple[F64, F64]:
        """Mean of the pump-on (or pump-off) frames and its per-pixel standard error, in counts
        (dark-subtracted when a dark frame was given): a dark frame is this over closed-shutter
        frames with ``normalise=False``."""
        tag = 0 if pump_on else 1
        if self._counts[tag] < 2:
            state = "on" if pump_on else "off"
            raise ValueError(f"need >= 2 pump-{state} frames, have {int(self._counts[tag])}")
        return self._tag_mean(tag, self._scale())

    def result(self) -> DifferentialImage:
        """ΔT/T = (⟨on⟩ - ⟨off⟩)/⟨off⟩ with per-pixel standard errors (error propagation)."""
        n_on, n_off = self.n_on, self.n_off
        if n_on < 2 or n_off < 2:
            raise ValueError(f"need >= 2 pump-on and pump-off frames, have {n_on} and {n_off}")
        scale = self._scale()
        on_mean, on_err = self._tag_mean(0, scale)
        off_mean, off_err = self._tag_mean(1, scale)
        lit = off_mean > 0
        safe_off = np.where(lit, off_mean, 1.0)
        dtt = np.where(lit, on_mean / safe_off - 1.0, 0.0)
        dtt_err = np.where(
            lit,
            np.hypot(on_err / safe_off, on_mean * off_err / safe_off**2),
            np.inf,
        )
        return DifferentialImage(
            dtt=dtt,
            dtt_err=dtt_err,
            on_mean=on_mean,
            off_mean=off_mean,
            on_err=on_err,
            off_err=off_err,
            n_on=n_on,
            n_off=n_off,
            dark_mean=None if self.dark is None else self.dark.copy(),
            dark_err=None if self.dark_err is None else self.dark_err.copy(),
            dropped_frames=self.dropped,
        )


def border_mask(shape: tuple[int, int], fraction: float = 0.25) -> npt.NDArray[np.bool_]:
    """Pixels within ``fraction`` of the edges: a probe reference away from a centred pump."""
    h, w = shape
    mask = np.zeros(shape, bool)
    dy, dx = max(1, int(h * fraction)), max(1, int(w * fraction))
    mask[:dy, :] = mask[-dy:, :] = True
    mask[:, :dx] = mask[:, -dx:] = True
    return mask
