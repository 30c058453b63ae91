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

from tamrig.acquisition import DifferentialAccumulator
from tamrig.devices import FrameBlock
from tamrig.fitting import fit_gaussian
from tamrig.records import GaussianFit


@dataclass(frozen=True)
class LiveDtt:
    dtt: np.ndarray
    fit: GaussianFit | None
    n_on: int
    n_off: int
    message: str = ""


class LiveDifferential:
    """Accumulates tagged frames; ``publish`` receives a :class:`LiveDtt` now and then."""

    def __init__(
        self, pixel_size_nm: float, publish: Callable[[LiveDtt], None], rate_hz: float = 10.0
    ) -> None:
        self.pixel_size_nm = pixel_size_nm
        self.publish = publish
        self.period_s = 1.0 / rate_hz
        self.enabled = False
        self.frames = 0
        self._acc: DifferentialAccumulator | None = None
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
        if self._acc is None or self._acc.shape != shape or self._reset.is_set():
            self._reset.clear()
            self._acc = DifferentialAccumulator(shape)
        if block.pump_on is None:
            self._offer(np.zeros(shape), None, "camera gives no pump tag: use a scan")
            return
        self._acc.add(block, block.pump_on)
        self.frames = self._acc.n_on + self._acc.n_off
        now = time.monotonic()
        if now - self._last < self.period_s or not self._shown.is_set():
            return
        if self._acc.n_on == 0 or self._acc.n_off == 0:
            return
        self._last = now
        result = self._acc.result()
        fit: GaussianFit | None = fit_gaussian(result.dtt, self.pixel_size_nm)
        if fit is not None and not fit.converged:
            fit = None
        self._offer(result.dtt, fit, "", result.n_on, result.n_off)

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
