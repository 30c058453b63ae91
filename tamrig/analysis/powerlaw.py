"""How MSD grows with time: local exponent α(t) = d ln MSD / d ln t and power-law fits.

α > 1 is super-diffusive, α = 1 normal diffusion, α < 1 sub-diffusive. Fits are done on
the linear MSD scale with its errors (log scale would mishandle small or negative MSD near
time zero); σ₀'s error, common to every point, enters through the points' covariance.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeWarning, curve_fit

from tamrig.analysis.series import TransportSeries
from tamrig.analysis.stats import chi2_scale

FloatArray = npt.NDArray[np.float64]
#: A power law whose exponent is uncertain by more than this says nothing about the regime.
MAX_ALPHA_ERR = 1.0


@dataclass(frozen=True)
class PowerLawFit:
    """MSD = K·t^α over [t_min, t_max] (t in fs, MSD in nm²)."""

    t_min_fs: float
    t_max_fs: float
    alpha: float
    alpha_err: float  # from the points' own errors
    alpha_sys: float  # the part σ₀'s common error adds (alpha_total_err is both)
    prefactor_nm2: float  # K, MSD at t = 1 fs
    reduced_chi2: float
    n_points: int
    ok: bool = True
    message: str = ""
    #: The common MSD shift the fit attributes to σ₀'s error (nm², its best estimate given
    #: the points): the data follow K·t^α + this shift, so figures draw the curve with it.
    common_shift_nm2: float = 0.0

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
    with np.errstate(over="ignore", invalid="ignore"):  # trial steps far out: inf, rejected
        return k * t**alpha


def _start(t: FloatArray, y: FloatArray, e: FloatArray) -> list[float]:
    pos = y > 0
    if pos.sum() >= 2:
        slope, icpt = np.polyfit(np.log(t[pos]), np.log(y[pos]), 1, w=(y[pos] / e[pos]))
        return [math.exp(icpt), slope]
    return [max(float(np.max(np.abs(y))), 1.0) / float(t.max()), 1.0]


def fit_power_law(series: TransportSeries, t_min_fs: float, t_max_fs: float) -> PowerLawFit:
    """Weighted fit of MSD = K t^α on [t_min, t_max]; ``ok`` False with a message if it fails.

    The points' covariance is their own errors on the diagonal plus σ₀'s common shift
    (2σ₀δσ₀)² everywhere: σ₀'s error enters α exactly as the correlated error it is, not as
    an independent term added afterwards.
    """
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
    shift = series.sigma0_shift_nm2 if math.isfinite(series.sigma0_shift_nm2) else 0.0
    cov_points = np.diag(e**2) + shift**2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)  # undetermined α: report, not warn
            p0 = _start(t, y, e)
            popt, pcov = curve_fit(
                _power, t, y, p0=p0, sigma=cov_points, absolute_sigma=True, maxfev=5000
            )
            _, pcov_stat = curve_fit(
                _power, t, y, p0=popt, sigma=e, absolute_sigma=True, maxfev=5000
            )
    except (RuntimeError, ValueError, OptimizeWarning, np.linalg.LinAlgError) as exc:
        return PowerLawFit(
            t_min_fs, t_max_fs, nan, nan, nan, nan, nan, int(t.size), False, str(exc)
        )
    r = y - _power(t, *popt)
    weighted = np.linalg.solve(cov_points, r)
    chi2 = float(r @ weighted)
    # best estimate of the shared shift δ ~ N(0, shift²) behind the residuals: shift²·1ᵀC⁻¹r
    common_shift = shift**2 * float(weighted.sum())
    dof = max(t.size - 2, 1)
    scale = math.sqrt(chi2_scale(chi2, t.size - 2))
    total = math.sqrt(float(pcov[1, 1])) * scale
    alpha_err = math.sqrt(float(pcov_stat[1, 1])) * scale
    alpha_sys = math.sqrt(max(total**2 - alpha_err**2, 0.0))
    reported = math.hypot(alpha_err, alpha_sys)  # what alpha_total_err will say
    ok = math.isfinite(reported) and reported <= MAX_ALPHA_ERR and popt[0] > 0
    if not math.isfinite(reported) or reported > MAX_ALPHA_ERR:
        message = f"α not determined (error {reported:.3g} > {MAX_ALPHA_ERR})"
    elif not popt[0] > 0:  # MSD = K·t^α with K ≤ 0 never grows: noise, not a power law
        message = f"no growing MSD in {t_min_fs:g}–{t_max_fs:g} fs (prefactor {popt[0]:.3g})"
    else:
        message = ""
    return PowerLawFit(
        t_min_fs=t_min_fs,
        t_max_fs=t_max_fs,
        alpha=float(popt[1]),
        alpha_err=alpha_err,
        alpha_sys=alpha_sys,
        prefactor_nm2=float(popt[0]),
        reduced_chi2=chi2 / dof,
        n_points=int(t.size),
        ok=ok,
        message=message,
        common_shift_nm2=common_shift,
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
