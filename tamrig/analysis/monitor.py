"""Live transport monitor: after each scan point, fit the image and update σ², MSD and D.

One monitor follows several curves ("series", e.g. one per probe wavelength and fluence).
σ₀ of a series is the weighted mean width of its points around time zero; every new point
there changes σ₀, so :meth:`LiveMonitor.transport` re-evaluates all earlier points with the
current σ₀. The fit takes well under a millisecond, so calling :meth:`update` inline after
each point never holds up the scan.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from tamrig.analysis.fitting import fit_gaussian
from tamrig.analysis.sigma0 import Sigma0, diffusivity_cm2_s, estimate_sigma0
from tamrig.records import DifferentialImage, GaussianFit, TransportPoint


@dataclass(frozen=True)
class _Point:
    delay_fs: float
    fit: GaussianFit
    sigma_err_nm: float  # the fit's error, inflated by √χ²_red when the pixel errors were low


class LiveMonitor:
    """Fit each point's ΔT/T image and keep σ(t), σ₀, MSD(t) and D(t) per series (thread-safe).

    ``min_snr`` is the amplitude significance |A|/err(A) a point needs to count towards σ₀
    (points before time zero carry no signal and must not set the reference width).
    """

    def __init__(
        self,
        pixel_size_nm: float,
        *,
        sigma0_window_fs: tuple[float, float] = (-60.0, 60.0),
        min_snr: float = 5.0,
        anisotropic: bool = False,
    ) -> None:
        if not (math.isfinite(pixel_size_nm) and pixel_size_nm > 0):
            raise ValueError(f"pixel_size_nm: expected a finite number > 0, got {pixel_size_nm}")
        lo, hi = sigma0_window_fs
        if not lo < hi:
            raise ValueError(f"sigma0_window_fs: expected (low, high), low < high; got {lo, hi}")
        self.pixel_size_nm = float(pixel_size_nm)
        self.sigma0_window_fs = (float(lo), float(hi))
        self.min_snr = float(min_snr)
        self.anisotropic = anisotropic
        self._points: dict[str, list[_Point]] = {}
        self._sigma0: dict[str, Sigma0 | None] = {}
        self._lock = threading.Lock()

    # -- live -----------------------------------------------------------------------------
    def update(
        self, *, delay_fs: float, series: str, image: DifferentialImage
    ) -> tuple[GaussianFit, TransportPoint | None]:
        """Fit ``image`` (weighted by its per-pixel errors) and return the point's transport.

        The TransportPoint is None while the series has no σ₀ yet, or when the fit failed
        (``fit.converged`` False; ``fit.message`` says why).
        """
        fit = fit_gaussian(
            image.dtt,
            self.pixel_size_nm,
            anisotropic=self.anisotropic,
            weights=_weights(image),
        )
        return fit, self.add_fit(delay_fs=delay_fs, series=series, fit=fit)

    def add_fit(self, *, delay_fs: float, series: str, fit: GaussianFit) -> TransportPoint | None:
        """Record an already fitted point (e.g. re-analysis) and return its transport."""
        err = fit.sigma_err_nm
        if math.isfinite(fit.reduced_chi2) and fit.reduced_chi2 > 1.0:
            err *= math.sqrt(fit.reduced_chi2)  # pixel errors too small for the scatter seen
        point = _Point(float(delay_fs), fit, err)
        with self._lock:
            points = self._points.setdefault(series, [])
            points.append(point)
            if self._in_window(point):
                self._sigma0[series] = self._estimate_sigma0(points)
            sigma0 = self._sigma0.get(series)
        if sigma0 is None or not _usable(fit):
            return None
        return _transport(point, sigma0)

    # -- queries --------------------------------------------------------------------------
    def transport(self, series: str) -> list[TransportPoint]:
        """All usable points of ``series`` in arrival order, evaluated with the current σ₀."""
        with self._lock:
            points = list(self._points.get(series, []))
            sigma0 = self._sigma0.get(series)
        if sigma0 is None:
            return []
        return [_transport(p, sigma0) for p in points if _usable(p.fit)]

    def series(self) -> list[str]:
        with self._lock:
            return list(self._points)

    def sigma0(self, series: str) -> Sigma0 | None:
        """Current σ₀ of ``series`` (None until a significant point inside the window)."""
        with self._lock:
            return self._sigma0.get(series)

    def fits(self, series: str) -> list[tuple[float, GaussianFit]]:
        """(delay, fit) of every point of ``series``, including failed fits."""
        with self._lock:
            return [(p.delay_fs, p.fit) for p in self._points.get(series, [])]

    # -- internals ------------------------------------------------------------------------
    def _in_window(self, point: _Point) -> bool:
        lo, hi = self.sigma0_window_fs
        return lo <= point.delay_fs <= hi

    def _estimate_sigma0(self, points: list[_Point]) -> Sigma0 | None:
        good = [p for p in points if self._in_window(p) and self._significant(p.fit)]
        if not good:
            return None
        return estimate_sigma0(
            [p.delay_fs for p in good],
            [p.fit.sigma_nm for p in good],
            [p.sigma_err_nm for p in good],
            self.sigma0_window_fs,
        )

    def _significant(self, fit: GaussianFit) -> bool:
        if not _usable(fit):
            return False
        if not (math.isfinite(fit.amplitude_err) and fit.amplitude_err > 0):
            return False
        return abs(fit.amplitude) >= self.min_snr * fit.amplitude_err


def _usable(fit: GaussianFit) -> bool:
    return bool(
        fit.converged
        and math.isfinite(fit.sigma_nm)
        and math.isfinite(fit.sigma_err_nm)
        and fit.sigma_err_nm > 0
    )


def _weights(image: DifferentialImage) -> np.ndarray | None:
    """1/err² per pixel from the accumulator; None (unit weights) if it has no usable errors."""
    err = np.asarray(image.dtt_err, dtype=float)
    if err.shape != np.shape(image.dtt):
        return None
    good = np.isfinite(err) & (err > 0)
    if not good.any():
        return None
    with np.errstate(divide="ignore"):
        return np.where(good, 1.0 / np.where(good, err, 1.0) ** 2, 0.0)


def _transport(point: _Point, sigma0: Sigma0) -> TransportPoint:
    s, e = point.fit.sigma_nm, point.sigma_err_nm
    msd = s * s - sigma0.value_nm**2
    msd_err = math.hypot(2 * s * e, 2 * sigma0.value_nm * sigma0.err_nm)
    d, d_err = diffusivity_cm2_s(point.delay_fs, msd, msd_err)
    return TransportPoint(
        delay_fs=point.delay_fs,
        sigma_nm=s,
        sigma_err_nm=e,
        sigma0_nm=sigma0.value_nm,
        sigma0_err_nm=sigma0.err_nm,
        msd_nm2=msd,
        msd_err_nm2=msd_err,
        diffusivity_cm2_s=float(d),
        diffusivity_err_cm2_s=float(d_err),
    )
