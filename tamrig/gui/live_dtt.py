"""Running ΔT/T of the live camera stream, for alignment outside a scan (worker thread).

Fed every block the camera worker reads; uses the camera's pump-state tag (chopper
reference), never frame parity. At most ``rate_hz`` times a second it takes the running
result, fits the Gaussian and offers it to the view — only if the view has drawn the last
one, so fitting and drawing never hold up reading.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tamrig.acquisition.accumulator import DifferentialAccumulator
from tamrig.analysis.fitting import fit_gaussian
from tamrig.devices import FrameBlock
from tamrig.records import GaussianFit

#: pump-on and pump-off frames needed before a running ΔT/T is shown
MIN_FRAMES = 8


@dataclass(frozen=True)
class LiveDtt:
    dtt: np.ndarray
    fit: GaussianFit | None
    n_on: int
    n_off: int
    message: str = ""


class TaggedMeans:
    """Plain sums of pump-on and pump-off frames: ΔT/T = ⟨on⟩/⟨off⟩ − 1, no dark, no
    normalisation.

    The preview used while a scan runs: the engine computes every stored point with its own
    :class:`DifferentialAccumulator`, whose worker pool and BLAS limits are process-wide, so a
    second accumulator in another thread would compete with it (measured: ten times slower
    scans). This costs two array sums per block and shares nothing.
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.sums = np.zeros((2, *shape))
        self.n_on = 0
        self.n_off = 0

    def add(self, block: FrameBlock, pump_on: np.ndarray) -> None:
        tags = np.asarray(pump_on, dtype=bool)
        self.sums[0] += block.data[tags].sum(axis=0, dtype=np.float64)
        self.sums[1] += block.data[~tags].sum(axis=0, dtype=np.float64)
        self.n_on += int(tags.sum())
        self.n_off += int((~tags).sum())

    def dtt(self) -> np.ndarray:
        on = self.sums[0] / max(self.n_on, 1)
        off = self.sums[1] / max(self.n_off, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(off > 0, on / off - 1.0, 0.0)
        return np.asarray(ratio, dtype=np.float64)


class LiveDifferential:
    """Accumulates tagged frames; ``publish`` receives a :class:`LiveDtt` now and then.

    ``light`` selects :class:`TaggedMeans` (during a scan) instead of the full accumulator
    (alignment, when nothing else accumulates).
    """

    def __init__(
        self, pixel_size_nm: float, publish: Callable[[LiveDtt], None], rate_hz: float = 10.0
    ) -> None:
        self.pixel_size_nm = pixel_size_nm
        self.publish = publish
        self.period_s = 1.0 / rate_hz
        self.enabled = False
        self.light = False
        self.frames = 0
        self._acc: DifferentialAccumulator | TaggedMeans | None = None
        self._last = 0.0
        self._shown = threading.Event()
        self._shown.set()
        self._reset = threading.Event()

    def reset(self) -> None:
        """Start a fresh average (any thread); e.g. after moving the stage."""
        self._reset.set()

    def shown(self) -> None:
        self._shown.set()

    def __call__(self, block: FrameBlock) -> None:
        if not self.enabled:
            return
        shape = (int(block.data.shape[1]), int(block.data.shape[2]))
        kind = TaggedMeans if self.light else DifferentialAccumulator
        if (
            self._acc is None
            or self._acc.shape != shape
            or not isinstance(self._acc, kind)
            or self._reset.is_set()
        ):
            self._reset.clear()
            self._acc = kind(shape)
        if block.pump_on is None:
            self._offer(np.zeros(shape), None, "camera gives no pump tag: use a scan")
            return
        try:
            self._acc.add(block, block.pump_on)
        except ValueError:  # e.g. dark frames (no probe light): start afresh after them
            self._acc = None
            return
        self.frames = self._acc.n_on + self._acc.n_off
        now = time.monotonic()
        if now - self._last < self.period_s or not self._shown.is_set():
            return
        if min(self._acc.n_on, self._acc.n_off) < MIN_FRAMES:
            return
        self._last = now
        acc = self._acc
        dtt = acc.dtt() if isinstance(acc, TaggedMeans) else acc.result().dtt
        try:
            fit: GaussianFit | None = fit_gaussian(dtt, self.pixel_size_nm)
        except ValueError:  # e.g. an ROI too small to fit: show the image without a fit
            fit = None
        if fit is not None and not fit.converged:
            fit = None
        self._offer(dtt, fit, "", self._acc.n_on, self._acc.n_off)

    def _offer(
        self,
        dtt: np.ndarray,
        fit: GaussianFit | None,
        message: str,
        n_on: int = 0,
        n_off: int = 0,
    ) -> None:
        if not self._shown.is_set():
            return
        self._shown.clear()
        self.publish(LiveDtt(dtt=dtt, fit=fit, n_on=n_on, n_off=n_off, message=message))
