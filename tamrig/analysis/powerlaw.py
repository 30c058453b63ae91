"""How MSD grows with time: local exponent α(t) = d ln MSD / d ln t and power-law fits.

α > 1 is super-diffusive, α = 1 normal diffusion, α < 1 sub-diffusive. Fits are done on
the linear MSD scale with its errors (log scale would mishandle small or negative MSD near
time zero); σ₀'s correlated error is propagated by refitting with MSD shifted by ±2σ₀δσ₀.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeWarning, curve_fit

from tamrig.analysis.series import TransportSeries

FloatArray = npt.NDArray[np.float64]
#: A power law whose exponent is uncertain by more than this says nothing about the regime.
MAX_ALPHA_ERR = 1.0


@dataclass(frozen=True)
class PowerLawFit:
    """MSD = K·t^α over [t_min, t_max] (t in fs, MSD in nm²)."""

    t_min_fs: float
    t_max_fs: float
    alpha: float
    alpha_err: float  # statistical (scaled by √χ²_red when > 1)
    alpha_sys: float  # from σ₀'s uncertainty
    prefactor_nm2: float  # K, MSD at t = 1 fs
    reduced_chi2: float
    n_points: int
    ok: bool = True
    message: str = ""

    @property
    def alpha_total_err(self) -> float:
        return math.hypot(self.alpha_err, self.alpha_sys)


@dataclass(frozen=True)
class LocalExponent:
    """α(t) from weighted log-log regressions in a sliding window of ±half_width decades."""

    delay_fs: FloatArray
    alpha: FloatArray
    alpha_err: FloatArray


def _power(t: FloatArray, k: float, alpha: float) -> FloatArray:
    return k * t**alpha


def _fit_once(t: FloatArray, y: FloatArray, e: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    pos = y > 0
    if pos.sum() >= 2:
        slope, icpt = np.polyfit(np.log(t[pos]), np.log(y[pos]), 1, w=(y[pos] / e[pos]))
        p0 = [math.exp(icpt), slope]
    else:
        p0 = [max(float(np.max(np.abs(y))), 1.0) / float(t.max()), 1.0]
    popt, pcov = curve_fit(_power, t, y, p0=p0, sigma=e, absolute_sigma=True, maxfev=5000)
    chi2 = float(np.sum(((y - _power(t, *popt)) / e) ** 2))
    return popt, pcov, chi2


def fit_power_law(series: TransportSeries, t_min_fs: float, t_max_fs: float) -> PowerLawFit:
    """Weighted fit of MSD = K t^α on [t_min, t_max]; ``ok`` False with a message if it fails."""
    t, y, e = series.select(max(t_min_fs, 1e-9), t_max_fs)
    nan = float("nan")
    if t.size < 3:
        return PowerLawFit(
            t_min_fs,
            t_max_fs,
            nan,
            nan,
            nan,
            nan,
            nan,
            int(t.size),
            False,
            f"fewer than 3 points in {t_min_fs:g}–{t_max_fs:g} fs",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)  # undetermined α: report, not warn
            popt, pcov, chi2 = _fit_once(t, y, e)
            shift = series.sigma0_shift_nm2
            up, _, _ = _fit_once(t, y + shift, e)
            down, _, _ = _fit_once(t, y - shift, e)
    except (RuntimeError, ValueError, OptimizeWarning) as exc:
        return PowerLawFit(
            t_min_fs, t_max_fs, nan, nan, nan, nan, nan, int(t.size), False, str(exc)
        )
    dof = max(t.size - 2, 1)
    reduced = chi2 / dof
    alpha_err = math.sqrt(float(pcov[1, 1])) * math.sqrt(max(reduced, 1.0))
    alpha_sys = abs(float(up[1] - down[1])) / 2
    total = math.hypot(alpha_err, alpha_sys)
    ok = math.isfinite(total) and total <= MAX_ALPHA_ERR
    return PowerLawFit(
        t_min_fs=t_min_fs,
        t_max_fs=t_max_fs,
        alpha=float(popt[1]),
        alpha_err=alpha_err,
        alpha_sys=alpha_sys,
        prefactor_nm2=float(popt[0]),
        reduced_chi2=reduced,
        n_points=int(t.size),
        ok=ok,
        message="" if ok else f"α not determined (error {total:.3g} > {MAX_ALPHA_ERR})",
    )


def local_exponent(series: TransportSeries, half_width_decades: float = 0.15) -> LocalExponent:
    """α(t) at each delay with MSD > 0, from a weighted straight line in ln MSD vs ln t.

    Points within ±``half_width_decades`` of t contribute with weight (MSD/err)²; delays with
    fewer than three such points get NaN.
    """
    t, y, e = series.delay_fs, series.msd_nm2, series.msd_total_err_nm2()
    good = (t > 0) & (y > 0)
    lt = np.log(t[good])
    ly = np.log(y[good])
    w = (y[good] / e[good]) ** 2
    hw = half_width_decades * math.log(10)
    alpha = np.full(t.size, np.nan)
    alpha_err = np.full(t.size, np.nan)
    idx = np.nonzero(good)[0]
    for k, i in enumerate(idx):
        near = np.abs(lt - lt[k]) <= hw
        if near.sum() < 3:
            continue
        x = lt[near] - lt[k]
        ww = w[near]
        s0, s1, s2 = ww.sum(), (ww * x).sum(), (ww * x * x).sum()
        det = s0 * s2 - s1 * s1
        if det <= 0:
            continue
        sy, sxy = (ww * ly[near]).sum(), (ww * x * ly[near]).sum()
        alpha[i] = (s0 * sxy - s1 * sy) / det
        alpha_err[i] = math.sqrt(s0 / det)
    return LocalExponent(t.copy(), alpha, alpha_err)
