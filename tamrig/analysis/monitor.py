"""Live transport monitor: after each scan point, fit the image and update σ², MSD and D.

One monitor follows several curves ("series", e.g. one per probe wavelength and fluence).
It uses the estimators of ``tamrig analyze``: time zero and the instrument response from
the rise of the signal (:mod:`.timezero`, once the rise is sampled; until then t₀ = 0 and
the IRF of the settings), σ₀ from the σ(τ) model (:func:`.sigma0.estimate_sigma0`), and
MSD and D from :func:`.sigma0.msd_from_sigma`.

Refits are amortised so a point costs little however fine the grid: the rise and σ₀ are
refitted when their points have grown by GROWTH since the last fit (a "quick" fit from the
previous optimum, of bounded cost), and to every point on the last point of a run of a
series (``settle``: the engine passes it at the end of each sweep of a curve and of the
scan; analyze's full fit decides where the quick one finds no optimum), so the stored
point that ends a run carries the values analyze finds (docs/analysis.md).
:meth:`LiveMonitor.transport` re-evaluates all earlier points with the current σ₀. Points
whose spot is not significant (before the rise, no signal) are reported with
``significant`` False and never set σ₀.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from tamrig.analysis.fitting import fit_gaussian
from tamrig.analysis.pixel_weights import fit_weights
from tamrig.analysis.sigma0 import Sigma0, estimate_sigma0, msd_from_sigma
from tamrig.analysis.timezero import TimeZeroFit, fit_time_zero, population_signal
from tamrig.analysis.transport_model import EARLIEST_SD, FWHM_PER_SD, ModelSettings
from tamrig.records import DifferentialImage, GaussianFit, TransportPoint

#: refit once the points of the last fit have grown by this factor: all refits of a series
#: together then cost about 1.5 fits of all its points, however fine the grid
GROWTH = 3.0
#: the rise (six parameters) is fitted from this many delays in its range on
MIN_RISE_POINTS = 8
#: A significant spot starts the fit of its series' next image where the pixel errors
#: describe the scatter (χ²_red at most this; 1.0 ± 0.05 with 50 pairs per point, ≈ 1.05
#: with 2 now that the weights pool each pixel's error with its neighbours'): the fit then
#: skips the smoothing for start values and most steps, and ends where the image's own
#: start values lead (to a few % of the errors). Where the errors understate the scatter
#: (raw few-pair errors gave χ²_red 1.3 with 5 pairs, 5–40 with 2) χ² has minima at single
#: pixels, and which one a fit ends in depends on its start: there the image's own start
#: values decide, as for a point after one without a spot.
WARM_MAX_REDUCED_CHI2 = 1.2


@dataclass(frozen=True)
class _Point:
    delay_fs: float
    fit: GaussianFit
    sigma_err_nm: float  # the fit's error, inflated by √χ²_red when the pixel errors were low
    spot: bool  # the fitted spot stands out of the noise (|A| ≥ min_snr·δA)


@dataclass
class _Series:
    points: list[_Point] = field(default_factory=list)
    sigma0: Sigma0 | None = None
    time_zero: TimeZeroFit | None = None
    fitted_with: int = 0  # significant widths the current σ₀ was fitted to
    timed_with: int = 0  # points the current rise fit was made with
    warm: GaussianFit | None = None  # the last point's fit, where it starts the next one
    rise: list[_Point] = field(default_factory=list)  # usable points in the rise's range
    n_model: int = 0  # significant widths in the model's range, counted for ``counted_for``
    counted_for: tuple[float, float] | None = None  # (t₀, IRF) of that count


class LiveMonitor:
    """Fit each point's ΔT/T image and keep σ(t), σ₀, MSD(t) and D(t) per series (thread-safe).

    ``min_snr`` is the amplitude significance |A|/err(A) a point needs to count as data;
    ``irf_fwhm_fs`` the instrument response used until the rise of the signal measures it.
    """

    def __init__(
        self,
        pixel_size_nm: float,
        *,
        irf_fwhm_fs: float = 40.0,
        model: ModelSettings | None = None,
        min_snr: float = 5.0,
        time_zero_range_fs: tuple[float, float] = (-400.0, 400.0),
        anisotropic: bool = False,
    ) -> None:
        if not (math.isfinite(pixel_size_nm) and pixel_size_nm > 0):
            raise ValueError(f"pixel_size_nm: expected a finite number > 0, got {pixel_size_nm}")
        if not (math.isfinite(irf_fwhm_fs) and irf_fwhm_fs > 0):
            raise ValueError(f"irf_fwhm_fs: expected a finite duration > 0, got {irf_fwhm_fs}")
        self.pixel_size_nm = float(pixel_size_nm)
        self.irf_fwhm_fs = float(irf_fwhm_fs)
        self.model = model or ModelSettings()
        self.min_snr = float(min_snr)
        self.time_zero_range_fs = time_zero_range_fs
        self.anisotropic = anisotropic
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()

    # -- live -----------------------------------------------------------------------------
    def update(
        self, *, delay_fs: float, series: str, image: DifferentialImage, settle: bool = False
    ) -> tuple[GaussianFit, TransportPoint | None]:
        """Fit ``image`` (weighted by its per-pixel errors) and return the point's transport.

        The TransportPoint is None when the fit failed (``fit.converged`` False;
        ``fit.message`` says why); its σ₀, MSD and D are NaN while the series has no σ₀.
        ``settle``: the last point of a run of this series (a sweep's end, the scan's end):
        time zero and σ₀ are refitted to every point so far, so this point carries the
        values ``tamrig analyze`` finds for them. After the carriers arrive, the fit starts
        from the series' previous spot where that is significant (WARM_MAX_REDUCED_CHI2) and
        keeps that result only where it is a significant spot too; otherwise it starts from
        the image's own start values.
        """
        weights = _weights(image)
        with self._lock:
            state = self._series.get(series)
            warm = None
            if state is not None and state.warm is not None:
                t0, irf = self._timing(state)
                if delay_fs - t0 >= -EARLIEST_SD * irf / FWHM_PER_SD:  # carriers there
                    warm = state.warm
        fit = None
        if warm is not None:
            fit = fit_gaussian(
                image.dtt,
                self.pixel_size_nm,
                anisotropic=self.anisotropic,
                weights=weights,
                start=warm,
            )
        if fit is None or not self._starts_next(fit):
            fit = fit_gaussian(
                image.dtt, self.pixel_size_nm, anisotropic=self.anisotropic, weights=weights
            )
        return fit, self.add_fit(delay_fs=delay_fs, series=series, fit=fit, settle=settle)

    def add_fit(
        self, *, delay_fs: float, series: str, fit: GaussianFit, settle: bool = False
    ) -> TransportPoint | None:
        """Record an already fitted point (e.g. re-analysis) and return its transport."""
        err = fit.sigma_err_nm
        if math.isfinite(fit.reduced_chi2) and fit.reduced_chi2 > 1.0:
            err *= math.sqrt(fit.reduced_chi2)  # pixel errors too small for the scatter seen
        point = _Point(float(delay_fs), fit, err, self._spot(fit))
        with self._lock:
            state = self._series.setdefault(series, _Series())
            state.points.append(point)
            state.warm = fit if self._starts_next(fit) else None
            lo, hi = self.time_zero_range_fs
            if _usable(fit) and lo <= point.delay_fs <= hi:
                state.rise.append(point)
            if _usable(fit) or settle:
                self._refine(state, settle, point)
            sigma0, t0, irf = state.sigma0, *self._timing(state)
        if not _usable(fit):
            return None
        return self._transport(point, sigma0, t0, irf)

    # -- queries --------------------------------------------------------------------------
    def transport(self, series: str) -> list[TransportPoint]:
        """All usable points of ``series`` in arrival order, evaluated with the current σ₀."""
        with self._lock:
            state = self._series.get(series)
            if state is None:
                return []
            points = list(state.points)
            sigma0, t0, irf = state.sigma0, *self._timing(state)
        return [self._transport(p, sigma0, t0, irf) for p in points if _usable(p.fit)]

    def settle(self, series: str | None = None) -> None:
        """Refit time zero and σ₀ of ``series`` (default: every series) to all their points,
        where points arrived since the last fit (e.g. before reading final values)."""
        with self._lock:
            names = list(self._series) if series is None else [series]
            for name in names:
                state = self._series.get(name)
                if state is not None:
                    self._refine(state, True, None)

    def series(self) -> list[str]:
        with self._lock:
            return list(self._series)

    def sigma0(self, series: str) -> Sigma0 | None:
        """Current σ₀ of ``series`` (None until the σ(τ) model converges)."""
        with self._lock:
            state = self._series.get(series)
            return None if state is None else state.sigma0

    def time_zero(self, series: str) -> TimeZeroFit | None:
        """The rise fit of ``series`` once it resolves t₀ and the IRF, else None."""
        with self._lock:
            state = self._series.get(series)
            return None if state is None else state.time_zero

    def fits(self, series: str) -> list[tuple[float, GaussianFit]]:
        """(delay, fit) of every point of ``series``, including failed fits."""
        with self._lock:
            state = self._series.get(series)
            return [] if state is None else [(p.delay_fs, p.fit) for p in state.points]

    # -- internals ------------------------------------------------------------------------
    def _timing(self, state: _Series) -> tuple[float, float]:
        tz = state.time_zero
        if tz is not None and tz.ok:
            return tz.t0_fs, tz.irf_fwhm_fs
        return 0.0, self.irf_fwhm_fs

    def _refine(self, state: _Series, settle: bool, new: _Point | None) -> None:
        """Refit time zero and σ₀ when their points have grown by GROWTH, or (``settle``)
        whenever a point arrived since their last fit (caller holds the lock). ``new``, the
        point just added, is counted without a pass over the series."""
        retimed = False
        rise = state.rise
        if _due(len(rise), state.timed_with, settle) and len(rise) >= MIN_RISE_POINTS:
            retimed = self._retime(state, list(rise), settle)
        t0, irf = self._timing(state)
        if state.counted_for != (t0, irf):  # a new t₀ or IRF: count again
            state.n_model = sum(self._in_model(p, t0, irf) for p in state.points)
            state.counted_for = (t0, irf)
        elif new is not None and self._in_model(new, t0, irf):
            state.n_model += 1
        if not state.n_model or not (retimed or _due(state.n_model, state.fitted_with, settle)):
            return
        data = [p for p in state.points if self._in_model(p, t0, irf)]
        # The same estimator as analyze, started from the previous optimum; the live σ₀ error
        # leaves out the t₀/IRF part (four more refits; a few % of the error), which analyze adds.
        columns = (
            [p.delay_fs - t0 for p in data],
            [p.fit.sigma_nm for p in data],
            [p.sigma_err_nm for p in data],
            irf,
            self.model,
        )
        start = None if state.sigma0 is None else state.sigma0.model
        sigma0 = estimate_sigma0(*columns, start=start, quick=True)
        if settle and (sigma0 is None or sigma0.method != "superdiffusive"):
            # the quick fit found no super-diffusive optimum: the full fit (all starts) decides
            sigma0 = estimate_sigma0(*columns, start=start)
        if sigma0 is not None:  # until σ₀ is found every new width tries again
            state.sigma0, state.fitted_with = sigma0, len(data)

    def _retime(self, state: _Series, rise: list[_Point], settle: bool) -> bool:
        """Refit the rise (from the previous fit); True when it resolves t₀ and the IRF."""
        pop, pop_err = population_signal(
            [p.fit.amplitude for p in rise],
            [p.fit.amplitude_err for p in rise],
            [p.fit.sigma_nm for p in rise],
            [p.sigma_err_nm for p in rise],
            [p.spot for p in rise],
        )
        ok = np.isfinite(pop) & np.isfinite(pop_err)
        delays = np.array([p.delay_fs for p in rise])
        tz = fit_time_zero(delays[ok], pop[ok], pop_err[ok], start=state.time_zero, quick=True)
        if settle and not tz.ok:  # the full fit decides
            tz = fit_time_zero(delays[ok], pop[ok], pop_err[ok], start=state.time_zero)
        state.timed_with = len(rise)
        if not tz.ok:
            return False
        state.time_zero = tz
        return True

    def _in_model(self, point: _Point, t0: float, irf: float) -> bool:
        """A significant width inside the σ(τ) model's range (what σ₀ is fitted to)."""
        return self._significant(point, t0, irf) and point.delay_fs - t0 <= self.model.t_max_fs

    def _significant(self, point: _Point, t0: float, irf: float) -> bool:
        """A spot that stands out of the noise, at a delay after the carriers arrive."""
        return point.spot and point.delay_fs - t0 >= -EARLIEST_SD * irf / FWHM_PER_SD

    def _starts_next(self, fit: GaussianFit) -> bool:
        """A significant spot in an image whose pixel errors describe its scatter."""
        return self._spot(fit) and fit.reduced_chi2 <= WARM_MAX_REDUCED_CHI2

    def _spot(self, fit: GaussianFit) -> bool:
        if not _usable(fit):
            return False
        if not (math.isfinite(fit.amplitude_err) and fit.amplitude_err > 0):
            return False
        return abs(fit.amplitude) >= self.min_snr * fit.amplitude_err

    def _transport(
        self, point: _Point, sigma0: Sigma0 | None, t0: float, irf: float
    ) -> TransportPoint:
        s, e = point.fit.sigma_nm, point.sigma_err_nm
        nan = float("nan")
        significant = self._significant(point, t0, irf)
        if sigma0 is None:
            msd = msd_err = d = d_err = nan
        else:
            c = msd_from_sigma(point.delay_fs - t0, s, e, sigma0)
            msd, msd_err = float(c.msd_nm2), float(c.msd_err_nm2)
            d, d_err = float(c.diffusivity_cm2_s), float(c.diffusivity_err_cm2_s)
        return TransportPoint(
            delay_fs=point.delay_fs,
            sigma_nm=s,
            sigma_err_nm=e,
            sigma0_nm=nan if sigma0 is None else sigma0.value_nm,
            sigma0_err_nm=nan if sigma0 is None else sigma0.err_nm,
            msd_nm2=msd,
            msd_err_nm2=msd_err,
            diffusivity_cm2_s=d,
            diffusivity_err_cm2_s=d_err,
            significant=significant,
        )


def _due(n: int, fitted_with: int, settle: bool) -> bool:
    """A refit is due once the points have grown by GROWTH since the last one, or at a
    settle once any point has arrived since."""
    return n >= GROWTH * fitted_with if not settle else n != fitted_with


def _usable(fit: GaussianFit) -> bool:
    return bool(
        fit.converged
        and math.isfinite(fit.sigma_nm)
        and math.isfinite(fit.sigma_err_nm)
        and fit.sigma_err_nm > 0
    )


def _weights(image: DifferentialImage) -> np.ndarray | None:
    """The fit's weights: the accumulator's per-pixel errors pooled with their neighbours'
    (:mod:`.pixel_weights`; 0 where the error is not finite and > 0); None (unit weights)
    if the image has no usable errors."""
    if np.shape(image.dtt_err) != np.shape(image.dtt):
        return None
    return fit_weights(image.dtt_err, image.n_on, image.n_off)
