"""Photodamage and drift from the reference delay re-measured at the start of every sweep.

The same delay measured sweep after sweep should give the same spot. A falling amplitude
means the sample is bleaching or being damaged by the pump; a moving centre means the
sample (or the pump–probe overlap) drifts; a changing σ either. Per curve this module fits a
straight line to each reference quantity against the sweep number and against time, and
compares the change over the scan with limits: a warning is raised only when the change is
beyond the limit *and* significantly non-zero, so noise alone does not raise it.

The live scan and ``tamrig analyze`` use the same function on the same columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tamrig.analysis.linefit import LineFit, weighted_line
from tamrig.records import GaussianFit

SECONDS_PER_HOUR = 3600.0
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DriftLimits:
    """What the reference spot may change over a scan before the operator is warned."""

    max_amplitude_drop: float = 0.10  # fractional fall of the reference amplitude
    max_centre_shift_nm: float = 30.0  # movement of the spot centre (~0.2 σ₀)
    significance_z: float = 2.0  # and the change must be this many errors from zero


@dataclass(frozen=True)
class Trend:
    """One reference quantity against sweep number and against time (hours)."""

    per_sweep: LineFit | None
    per_hour: LineFit | None

    @staticmethod
    def of(sweeps: FloatArray, hours: FloatArray, value: FloatArray, err: FloatArray) -> Trend:
        return Trend(weighted_line(sweeps, value, err), weighted_line(hours, value, err))

    @property
    def slope_per_sweep(self) -> tuple[float, float]:
        line = self.per_sweep
        return (line.slope, line.slope_err) if line is not None else (math.nan, math.nan)

    @property
    def slope_per_hour(self) -> tuple[float, float]:
        line = self.per_hour
        return (line.slope, line.slope_err) if line is not None else (math.nan, math.nan)


@dataclass(frozen=True)
class ReferenceDrift:
    """Trends of the reference spot of one curve over the sweeps measured so far."""

    series: str
    sweeps: tuple[int, ...]
    amplitude: Trend
    sigma: Trend
    x0: Trend
    y0: Trend
    amplitude_change: float  # fractional change first → last sweep (−0.1: fell 10 %)
    amplitude_change_err: float
    centre_shift_nm: float  # distance moved first → last sweep
    centre_shift_err_nm: float
    photodamage_warning: str = ""  # non-empty: the amplitude fell beyond the limit
    drift_warning: str = ""  # non-empty: the centre moved beyond the limit
    span_s: float = math.nan  # time from the first to the last reference point

    @property
    def warnings(self) -> dict[str, str]:
        """Kind ("photodamage", "drift") → message, for the limits that were crossed."""
        found = {"photodamage": self.photodamage_warning, "drift": self.drift_warning}
        return {kind: text for kind, text in found.items() if text}

    def describe(self) -> str:
        """One line for the live display and the analysis report: rates per sweep and the
        change over the scan."""
        parts = [f"{self.series}: {len(self.sweeps)} sweeps, {self.rates('sweep')}"]
        if math.isfinite(self.amplitude_change):
            parts.append(
                f"amplitude change {100 * self.amplitude_change:+.1f} ± "
                f"{100 * self.amplitude_change_err:.1f} %"
            )
        if math.isfinite(self.centre_shift_nm):
            parts.append(
                f"centre moved {self.centre_shift_nm:.1f} ± {self.centre_shift_err_nm:.1f} nm"
            )
        return ", ".join(parts)

    def rates(self, per: str = "sweep") -> str:
        """Slopes of amplitude (relative), σ, x0 and y0 per ``"sweep"`` or per ``"hour"``."""
        pick = (lambda t: t.per_sweep) if per == "sweep" else (lambda t: t.per_hour)
        unit = "sweep" if per == "sweep" else "h"
        parts = []
        line = pick(self.amplitude)
        if line is not None and line.intercept != 0:
            scale = 100 / abs(line.intercept)
            rate = 100 * line.slope / line.intercept
            parts.append(f"amplitude {rate:+.2g} ± {scale * line.slope_err:.2g} %/{unit}")
        for name, trend in (("σ", self.sigma), ("x0", self.x0), ("y0", self.y0)):
            line = pick(trend)
            if line is not None:
                parts.append(f"{name} {line.slope:+.2g} ± {line.slope_err:.2g} nm/{unit}")
        return ", ".join(parts) if parts else f"no trend per {per}"


def _fractional_change(line: LineFit | None, span: float) -> tuple[float, float]:
    """(A(span) − A(0)) / A(0) of a line fitted with x = 0 at the first sweep, with error."""
    if line is None or line.intercept == 0:
        return math.nan, math.nan
    a, b = line.intercept, line.slope
    change = b * span / a
    # delta method on r = b·span/a with cov(a, b)
    ga, gb = -b * span / a**2, span / a
    var = (ga * line.intercept_err) ** 2 + (gb * line.slope_err) ** 2
    var += 2 * ga * gb * line.covariance
    return change, math.sqrt(max(var, 0.0))


def _planar_threshold(z: float) -> float:
    """Significance threshold for a 2-D shift (Rayleigh-distributed when there is none)
    with the false-alarm rate of a two-sided z test: √(−2 ln P(|N| > z))."""
    return math.sqrt(-2.0 * math.log(math.erfc(z / math.sqrt(2.0))))


def _shift(x: LineFit | None, y: LineFit | None, span: float) -> tuple[float, float]:
    if x is None or y is None:
        return math.nan, math.nan
    dx, dy = x.slope * span, y.slope * span
    ex, ey = x.slope_err * span, y.slope_err * span
    shift = math.hypot(dx, dy)
    if shift == 0:
        return 0.0, math.hypot(ex, ey) / math.sqrt(2)
    return shift, math.hypot(dx * ex, dy * ey) / shift


#: What one reference fit contributes (point-table column names, see ScanFile.points()).
FIELDS = (
    "sweep", "timestamp", "amplitude", "amplitude_err", "sigma_nm", "sigma_err_nm",
    "x0_nm", "x0_err_nm", "y0_nm", "y0_err_nm",
)  # fmt: skip


def reference_drift(
    series: str, rows: Mapping[str, npt.ArrayLike], limits: DriftLimits | None = None
) -> ReferenceDrift | None:
    """Trends of one curve's reference fits (``rows``: one value per sweep for each of
    :data:`FIELDS`; timestamp in seconds); None before two sweeps."""
    lim = limits or DriftLimits()
    arrays = [np.asarray(rows[name], dtype=float).ravel() for name in FIELDS]
    ok = np.logical_and.reduce([np.isfinite(a) for a in arrays[:6]])
    sw, t, a, ae, s, se, x, xe, y, ye = (v[ok] for v in arrays)
    if np.unique(sw).size < 2:
        return None
    first = float(sw.min())
    n = sw - first
    hours = (t - t[np.argmin(sw)]) / SECONDS_PER_HOUR
    span = float(n.max())
    amp = Trend.of(n, hours, a, ae)
    x_trend, y_trend = Trend.of(n, hours, x, xe), Trend.of(n, hours, y, ye)
    change, change_err = _fractional_change(amp.per_sweep, span)
    shift, shift_err = _shift(x_trend.per_sweep, y_trend.per_sweep, span)
    z, sweeps = lim.significance_z, int(span) + 1
    damage = drift = ""
    if change < -lim.max_amplitude_drop and -change > z * change_err:
        damage = (
            f"{series}: the reference amplitude fell {100 * -change:.1f} ± "
            f"{100 * change_err:.1f} % over {sweeps} sweeps (limit "
            f"{100 * lim.max_amplitude_drop:.0f} %): photodamage or bleaching?"
        )
    if shift > lim.max_centre_shift_nm and shift > _planar_threshold(z) * shift_err:
        drift = (
            f"{series}: the reference spot centre moved {shift:.1f} ± {shift_err:.1f} nm "
            f"over {sweeps} sweeps (limit {lim.max_centre_shift_nm:g} nm)"
        )
    return ReferenceDrift(
        series=series,
        sweeps=tuple(int(v) for v in sw),
        amplitude=amp,
        sigma=Trend.of(n, hours, s, se),
        x0=x_trend,
        y0=y_trend,
        amplitude_change=change,
        amplitude_change_err=change_err,
        centre_shift_nm=shift,
        centre_shift_err_nm=shift_err,
        photodamage_warning=damage,
        drift_warning=drift,
        span_s=float(hours.max() - hours.min()) * SECONDS_PER_HOUR,
    )


def drift_from_points(
    points: Mapping[str, npt.ArrayLike], limits: DriftLimits | None = None
) -> dict[str, ReferenceDrift]:
    """Per curve, the reference trends of a point table; {} when it has no reference points
    or lacks the columns (files written without a reference delay)."""
    if any(c not in points for c in ("reference", "series", *FIELDS)):
        return {}
    cols = {c: np.asarray(points[c]) for c in ("reference", "series", *FIELDS)}
    keep = cols["reference"].astype(bool)
    for flag in ("has_fit", "converged"):
        if flag in points:
            keep &= np.asarray(points[flag]).astype(bool)
    out: dict[str, ReferenceDrift] = {}
    names = [str(v) for v in cols["series"]]
    for name in sorted({n for n, k in zip(names, keep, strict=True) if k}):
        rows = keep & np.array([n == name for n in names])
        result = reference_drift(name, {c: cols[c][rows] for c in FIELDS}, limits)
        if result is not None:
            out[name] = result
    return out


class ReferenceTracker:
    """Collects the reference fits of a running scan and re-fits the trends as they come."""

    def __init__(self, limits: DriftLimits | None = None) -> None:
        self.limits = limits or DriftLimits()
        self._rows: dict[str, dict[str, list[float]]] = {}
        self._warned: set[tuple[str, str]] = set()

    def add(
        self, series: str, sweep: int, time_s: float, fit: GaussianFit | None
    ) -> tuple[ReferenceDrift | None, dict[str, str]]:
        """Add one reference fit (unconverged ones are ignored). Returns the updated trends
        and the warnings not raised before."""
        if fit is None or not fit.converged:
            return None, {}
        values = {"sweep": float(sweep), "timestamp": float(time_s)}
        values |= {name: float(getattr(fit, name)) for name in FIELDS[2:]}
        return self.add_values(series, values)

    def add_values(
        self, series: str, values: Mapping[str, float]
    ) -> tuple[ReferenceDrift | None, dict[str, str]]:
        """Add one reference point given as the :data:`FIELDS` values (e.g. from a file)."""
        rows = self._rows.setdefault(series, {name: [] for name in FIELDS})
        for name in FIELDS:
            rows[name].append(float(values[name]))
        result = reference_drift(series, rows, self.limits)
        if result is None:
            return None, {}
        new = {k: v for k, v in result.warnings.items() if (series, k) not in self._warned}
        self._warned |= {(series, k) for k in new}
        return result, new
