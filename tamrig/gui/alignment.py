"""Running ΔT/T of the live camera stream, for aligning pump on probe outside a scan.

Fed every block the live-view worker reads, in that worker's thread, through the project's
:class:`~tamrig.acquisition.accumulator.DifferentialAccumulator` (the same sums, dark-free,
as a scan's points) and the frames' pump-state tag, never frame parity. At most ``rate_hz``
times a second the running result is fitted and left in :attr:`latest` for the display
clock to take; fitting and drawing never hold up reading.

During a scan nothing runs here: the engine's own accumulator makes each point's ΔT/T, and
a second one would compete with it for the worker pool.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from tamrig.acquisition.accumulator import DifferentialAccumulator, border_mask
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


class LiveDifferential:
    """Accumulates tagged frames; :meth:`take` returns the newest :class:`LiveDtt` once."""

    def __init__(self, pixel_size_nm: float, rate_hz: float = 20.0) -> None:
        self.pixel_size_nm = pixel_size_nm
        self.period_s = 1.0 / rate_hz
        self.enabled = False
        self.frames = 0
        self.published = 0
        self._acc: DifferentialAccumulator | None = None
        self._last = 0.0
        self._reset = threading.Event()
        self._lock = threading.Lock()
        self._latest: LiveDtt | None = None

    def reset(self) -> None:
        """Start a fresh average (any thread); e.g. after moving the stage."""
        self._reset.set()

    def take(self) -> LiveDtt | None:
        with self._lock:
            latest, self._latest = self._latest, None
            return latest

    def _publish(self, live: LiveDtt) -> None:
        with self._lock:
            self._latest = live
            self.published += 1

    def __call__(self, block: FrameBlock) -> None:
        if not self.enabled:
            return
        shape = (int(block.data.shape[1]), int(block.data.shape[2]))
        if self._acc is None or self._acc.shape != shape or self._reset.is_set():
            self._reset.clear()
            self._acc = DifferentialAccumulator(shape, norm_mask=border_mask(shape))
        if block.pump_on is None:
            self._publish(LiveDtt(np.zeros(shape), None, 0, 0, "camera gives no pump tag"))
            return
        try:
            self._acc.add(block, block.pump_on)
        except ValueError:  # e.g. dark frames (no probe light): start afresh after them
            self._acc = None
            return
        acc = self._acc
        self.frames = acc.n_on + acc.n_off
        now = time.monotonic()
        if now - self._last < self.period_s or min(acc.n_on, acc.n_off) < MIN_FRAMES:
            return
        self._last = now
        dtt = acc.result().dtt
        try:
            fit: GaussianFit | None = fit_gaussian(dtt, self.pixel_size_nm)
        except ValueError:  # e.g. an ROI too small to fit: show the image without a fit
            fit = None
        if fit is not None and not fit.converged:
            fit = None
        self._publish(LiveDtt(dtt, fit, acc.n_on, acc.n_off))
