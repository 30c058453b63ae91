"""The slow regimes after localisation: Auger-assisted spreading and hopping.

Auger-assisted (1–100 ps): fluence-dependent growth of the MSD as Auger recombination
removes carriers preferentially at the dense centre; reported as the MSD growth between the
ends of the range, and as the excess over what hopping alone would give. Hopping (> 150 ps):
normal diffusion, MSD = m₀ + 2·D_hop·t, D_hop from a weighted straight line. Comparing
series at several fluences: Auger growth should rise with ⟨N_abs⟩, D_hop should not depend
on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2 as chi2_distribution

from tamrig.analysis.series import TransportSeries
from tamrig.analysis.stats import chi2_scale
from tamrig.units import NM2_PER_FS_PER_CM2_S

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HoppingRegime:
    t_min_fs: float
    t_max_fs: float
    d_hop_cm2_s: float
    d_hop_err_cm2_s: float
    intercept_nm2: float
    reduced_chi2: float
    n_points: int
    ok: bool = True
    message: str = ""


@dataclass(frozen=True)
class AugerRegime:
    t_start_fs: float
    t_end_fs: float
    msd_start_nm2: float
    msd_end_nm2: float
    growth_nm2: float  # MSD(t_end) − MSD(t_start)
    growth_err_nm2: float
    excess_nm2: float  # growth minus the hopping part 2·D_hop·(t_end − t_start)
    excess_err_nm2: float
    ok: bool = True
    message: str = ""


@dataclass(frozen=True)
class FluenceDependence:
    """Across series: Auger growth vs ⟨N_abs⟩ and the spread of D_hop."""

    n_abs: FloatArray
    auger_growth_nm2: FloatArray
    auger_growth_err_nm2: FloatArray
    growth_increases_with_n_abs: bool
    growth_exponent: float  # p in growth ∝ N_abs^p (log-log fit), NaN if < 2 fluences
    d_hop_cm2_s: FloatArray
    d_hop_err_cm2_s: FloatArray
    d_hop_mean_cm2_s: float
    d_hop_max_deviation: float  # max |D_hop − mean| / mean
    #: at least two fluences, and the values agree: max deviation within the tolerance, or
    #: within their errors (χ² about the mean not significant at 5 %)
    d_hop_consistent: bool


def hopping_diffusivity(
    series: TransportSeries, t_min_fs: float = 150_000.0, t_max_fs: float = math.inf
) -> HoppingRegime:
    """D_hop = slope/2 of a weighted straight-line fit MSD = m₀ + 2·D·t over [t_min, t_max]."""
    t, y, e = series.select(t_min_fs, t_max_fs)
    nan = float("nan")
    if t.size < 3:
        return HoppingRegime(
            t_min_fs,
            t_max_fs,
            nan,
            nan,
            nan,
            nan,
            int(t.size),
            False,
            f"fewer than 3 points after {t_min_fs / 1000:g} ps",
        )
    w = 1.0 / e**2
    x = np.stack([np.ones_like(t), t], axis=1)
    a = x.T @ (w[:, None] * x)
    cov = np.linalg.inv(a)
    beta = cov @ (x.T @ (w * y))
    chi2 = float(np.sum(w * (y - x @ beta) ** 2))
    reduced = chi2 / max(t.size - 2, 1)
    slope_err = math.sqrt(float(cov[1, 1]) * chi2_scale(chi2, t.size - 2))
    to_cm2_s = 1.0 / (2 * NM2_PER_FS_PER_CM2_S)
    return HoppingRegime(
        t_min_fs=t_min_fs,
        t_max_fs=float(t.max()),
        d_hop_cm2_s=float(beta[1]) * to_cm2_s,
        d_hop_err_cm2_s=slope_err * to_cm2_s,
        intercept_nm2=float(beta[0]),
        reduced_chi2=reduced,
        n_points=int(t.size),
    )


def _msd_near(series: TransportSeries, t0: float, factor: float) -> tuple[float, float, int]:
    """MSD at t0 from a weighted straight line through points within [t0/factor, t0·factor]."""
    t, y, e = series.select(t0 / factor, t0 * factor)
    if t.size == 0:
        return float("nan"), float("nan"), 0
    w = 1.0 / e**2
    if t.size == 1 or np.ptp(t) == 0:
        return float(np.sum(w * y) / np.sum(w)), 1.0 / math.sqrt(float(np.sum(w))), int(t.size)
    x = np.stack([np.ones_like(t), t - t0], axis=1)
    cov = np.linalg.inv(x.T @ (w[:, None] * x))
    beta = cov @ (x.T @ (w * y))
    return float(beta[0]), math.sqrt(float(cov[0, 0])), int(t.size)


def auger_regime(
    series: TransportSeries,
    t_start_fs: float = 1_000.0,
    t_end_fs: float = 100_000.0,
    hopping: HoppingRegime | None = None,
    window_factor: float = 1.25,
) -> AugerRegime:
    """MSD growth over the Auger-assisted range; with ``hopping``, also the excess over it."""
    m1, e1, n1 = _msd_near(series, t_start_fs, window_factor)
    m2, e2, n2 = _msd_near(series, t_end_fs, window_factor)
    nan = float("nan")
    if n1 == 0 or n2 == 0:
        missing = t_start_fs if n1 == 0 else t_end_fs
        return AugerRegime(
            t_start_fs,
            t_end_fs,
            m1,
            m2,
            nan,
            nan,
            nan,
            nan,
            False,
            f"no points near {missing / 1000:g} ps",
        )
    growth = m2 - m1
    growth_err = math.hypot(e1, e2)  # σ₀'s common error cancels in a difference
    excess, excess_err = nan, nan
    if hopping is not None and hopping.ok:
        rate = 2 * hopping.d_hop_cm2_s * NM2_PER_FS_PER_CM2_S
        rate_err = 2 * hopping.d_hop_err_cm2_s * NM2_PER_FS_PER_CM2_S
        span = t_end_fs - t_start_fs
        excess = growth - rate * span
        excess_err = math.hypot(growth_err, rate_err * span)
    return AugerRegime(t_start_fs, t_end_fs, m1, m2, growth, growth_err, excess, excess_err)


def fluence_dependence(
    n_abs: Sequence[float],
    auger: Sequence[AugerRegime],
    hopping: Sequence[HoppingRegime],
    d_hop_tolerance: float = 0.15,
) -> FluenceDependence:
    """Auger growth ordering and exponent vs ⟨N_abs⟩; whether D_hop agrees within tolerance."""
    n = np.asarray(n_abs, dtype=float)
    order = np.argsort(n)
    n = n[order]
    growth = np.array([auger[i].growth_nm2 for i in order])
    growth_err = np.array([auger[i].growth_err_nm2 for i in order])
    d_hop = np.array([hopping[i].d_hop_cm2_s for i in order])
    d_err = np.array([hopping[i].d_hop_err_cm2_s for i in order])
    finite_g = np.isfinite(growth)
    increasing = bool(finite_g.sum() >= 2 and np.all(np.diff(growth[finite_g]) > 0))
    exponent = float("nan")
    pos = finite_g & (growth > 0) & (n > 0)
    if pos.sum() >= 2 and np.ptp(n[pos]) > 0:
        exponent = float(np.polyfit(np.log(n[pos]), np.log(growth[pos]), 1)[0])
    finite_d = np.isfinite(d_hop) & np.isfinite(d_err) & (d_err > 0)
    mean = float("nan")
    deviation = float("nan")
    agree = False
    if finite_d.any():
        w = 1.0 / d_err[finite_d] ** 2
        mean = float(np.sum(w * d_hop[finite_d]) / np.sum(w))
        deviation = float(np.max(np.abs(d_hop[finite_d] - mean)) / abs(mean)) if mean else math.inf
        chi2 = float(np.sum(w * (d_hop[finite_d] - mean) ** 2))
        dof = int(finite_d.sum()) - 1
        agree = dof >= 1 and float(chi2_distribution.sf(chi2, dof)) >= 0.05
    return FluenceDependence(
        n_abs=n,
        auger_growth_nm2=growth,
        auger_growth_err_nm2=growth_err,
        growth_increases_with_n_abs=increasing,
        growth_exponent=exponent,
        d_hop_cm2_s=d_hop,
        d_hop_err_cm2_s=d_err,
        d_hop_mean_cm2_s=mean,
        d_hop_max_deviation=deviation,
        d_hop_consistent=bool(finite_d.sum() >= 2 and (deviation <= d_hop_tolerance or agree)),
    )
