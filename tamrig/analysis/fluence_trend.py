"""How the super-diffusive peak D changes with pump fluence (carrier–carrier scattering).

The seed paper sees the diffusivity fall at higher fluence. Per probe wavelength this
module collects the peak D of every fluence whose super-diffusive peak was found and fits
a straight line D_peak = D₀ + s·⟨N_abs⟩, weighted by the peak errors. The slope's error is
propagated from those errors (not rescaled by χ², which three fluences cannot estimate);
the reduced χ² is reported beside it so a poor straight line is visible.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tamrig.analysis.linefit import LineFit, weighted_line

#: |slope| / error above which the trend is called a decrease or an increase.
SIGNIFICANCE_Z = 2.0


@dataclass(frozen=True)
class PeakFluenceTrend:
    """Peak D per fluence at one probe wavelength, and the straight-line trend through it."""

    probe_wavelength_nm: float
    n_abs: tuple[float, ...]
    fluence_uj_cm2: tuple[float, ...]  # NaN where the file gives no µJ/cm²
    d_peak_cm2_s: tuple[float, ...]  # NaN where no super-diffusive peak was found
    d_peak_err_cm2_s: tuple[float, ...]
    t_peak_fs: tuple[float, ...]
    t_peak_err_fs: tuple[float, ...]
    line: LineFit | None  # D_peak against ⟨N_abs⟩; None: fewer than two peaks

    @property
    def slope_cm2_s(self) -> float:
        """dD_peak/d⟨N_abs⟩ in cm²/s per absorbed photon per emitter (NaN: undetermined)."""
        return self.line.slope if self.line is not None else math.nan

    @property
    def slope_err_cm2_s(self) -> float:
        return self.line.slope_err if self.line is not None else math.nan

    @property
    def verdict(self) -> str:
        if self.line is None:
            return "undetermined (fewer than two fluences with a super-diffusive peak)"
        z = self.line.slope / self.line.slope_err
        if z <= -SIGNIFICANCE_Z:
            return f"peak D decreases with fluence ({abs(z):.1f} σ)"
        if z >= SIGNIFICANCE_Z:
            return f"peak D increases with fluence ({z:.1f} σ)"
        return f"no significant fluence dependence ({abs(z):.1f} σ)"


@dataclass(frozen=True)
class _Peak:
    """What the trend needs of one analysed series (duck-typed SeriesAnalysis)."""

    probe_wavelength_nm: float
    n_abs: float
    found: bool
    d: float
    d_err: float
    t: float
    t_err: float


def _peaks(analysed: Iterable[object]) -> list[_Peak]:
    out = []
    for a in analysed:
        series, peak = a.series, a.peak  # type: ignore[attr-defined]
        out.append(
            _Peak(
                float(series.probe_wavelength_nm),
                float(series.n_abs),
                bool(peak.found),
                float(peak.d_peak_cm2_s),
                float(peak.d_peak_err_cm2_s),
                float(peak.t_peak_fs),
                float(peak.t_peak_err_fs),
            )
        )
    return out


def _probe_key(probe_nm: float) -> float:
    return round(probe_nm, 3) if math.isfinite(probe_nm) else math.nan


def fluence_by_series(points: Mapping[str, npt.ArrayLike]) -> dict[tuple[float, float], float]:
    """Median target fluence (µJ/cm²) per (probe wavelength, ⟨N_abs⟩) of a point table."""
    if "fluence_uj_cm2" not in points or "n_abs" not in points:
        return {}
    fluence = np.asarray(points["fluence_uj_cm2"], dtype=float)
    n_abs = np.asarray(points["n_abs"], dtype=float)
    probe = np.asarray(points.get("probe_wavelength_nm", np.full(n_abs.size, np.nan)), float)
    out: dict[tuple[float, float], list[float]] = {}
    for p, n, f in zip(probe, n_abs, fluence, strict=True):
        if math.isfinite(n) and math.isfinite(f):
            out.setdefault((_probe_key(float(p)), round(float(n), 9)), []).append(float(f))
    return {k: float(np.median(v)) for k, v in out.items()}


def peak_fluence_trends(
    analysed: Iterable[object],
    fluences: Mapping[tuple[float, float], float] | None = None,
) -> dict[float, PeakFluenceTrend]:
    """Per probe wavelength (nm): peak D per ⟨N_abs⟩ and its straight-line trend.

    ``analysed``: SeriesAnalysis objects (``.series.n_abs``, ``.series.probe_wavelength_nm``,
    ``.peak``); ``fluences``: µJ/cm² per (probe, ⟨N_abs⟩), see :func:`fluence_by_series`.
    Series without a known ⟨N_abs⟩ are left out; only peaks that were found enter the fit.
    """
    groups: dict[float, list[_Peak]] = {}
    for p in _peaks(analysed):
        if math.isfinite(p.n_abs):
            groups.setdefault(_probe_key(p.probe_wavelength_nm), []).append(p)
    lookup = fluences or {}
    out: dict[float, PeakFluenceTrend] = {}
    for probe, peaks in groups.items():
        peaks.sort(key=lambda p: p.n_abs)
        nan = math.nan
        d = [p.d if p.found else nan for p in peaks]
        d_err = [p.d_err if p.found else nan for p in peaks]
        out[probe] = PeakFluenceTrend(
            probe_wavelength_nm=probe,
            n_abs=tuple(p.n_abs for p in peaks),
            fluence_uj_cm2=tuple(lookup.get((probe, round(p.n_abs, 9)), nan) for p in peaks),
            d_peak_cm2_s=tuple(d),
            d_peak_err_cm2_s=tuple(d_err),
            t_peak_fs=tuple(p.t if p.found else nan for p in peaks),
            t_peak_err_fs=tuple(p.t_err if p.found else nan for p in peaks),
            line=weighted_line([p.n_abs for p in peaks], d, d_err),
        )
    return out
