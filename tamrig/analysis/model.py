"""Super-diffusive transport model fitted to the early MSD, for a precise peak of D(t).

D(t) = MSD/2t is nearly flat around its maximum, so the time and the length L = √MSD of the
peak are poorly pinned by smoothing alone. Fitting the early MSD with the super-diffusive
form (docs/simulator.md) — instantaneous diffusivity D_s (t/τ_s)^(α−1) exp[−(t/τ_s)^n], whose
integral is MSD_SD(t) = (2 D_s τ_s / n) Γ(α/n) P(α/n, (t/τ_s)^n) — plus a linear term for the
slower regimes uses the whole curve's shape. Its four shape parameters are all free, so
rises of any power and localisations of any sharpness are covered; the caller compares the
result with the model-free estimate and falls back to it when they disagree.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import gamma, gammainc

from tamrig.analysis.series import TransportSeries
from tamrig.units import NM2_PER_FS_PER_CM2_S

FloatArray = npt.NDArray[np.float64]


def superdiffusive_msd(
    t: FloatArray, d_s: float, tau: float, alpha: float, n: float, b: float, c: float = 0.0
) -> FloatArray:
    """MSD (nm²) of the super-diffusive term (D_s in nm²/fs) plus b·t, zero before t = 0.

    ``c`` is a constant added to the observed MSD: the fit's correction to σ₀² (the observed
    MSD = σ² − σ₀,est² is offset by σ₀,true² − σ₀,est²), so σ₀ is fitted jointly with the
    curve instead of being fixed by the few points at time zero.
    """
    tc = np.clip(t, 0.0, None)
    a_n = alpha / n
    with np.errstate(over="ignore"):  # (t/τ)^n → inf only where P(a, ·) is already 1
        x = (tc / tau) ** n
    return np.asarray(2 * d_s * tau / n * gamma(a_n) * gammainc(a_n, x) + b * tc + c, dtype=float)


@dataclass(frozen=True)
class ModelPeak:
    ok: bool
    message: str
    params: FloatArray  # D_s (nm²/fs), τ_s (fs), α, n, b (nm²/fs), c (nm², σ₀² correction)
    reduced_chi2: float
    d_peak_cm2_s: float
    d_peak_err_cm2_s: float
    t_peak_fs: float
    t_peak_err_fs: float
    length_nm: float
    length_err_nm: float
    offset_err_nm2: float = float("nan")  # error of params[5], the fitted σ₀² correction


def _peak_of(params: FloatArray, grid: FloatArray) -> tuple[float, float, float]:
    msd = superdiffusive_msd(grid, *params[:5])  # the transport itself, without the offset
    d = msd / (2 * grid)
    i = int(np.argmax(d))
    return float(d[i]) / NM2_PER_FS_PER_CM2_S, float(grid[i]), math.sqrt(max(msd[i], 0.0))


def fit_model_peak(
    series: TransportSeries,
    grid: FloatArray,
    start_tau_fs: float,
    start_d_cm2_s: float,
    *,
    t_min_fs: float = -60.0,
    t_max_fs: float = 2_000.0,
    joint_sigma0: bool = False,
    n_draws: int = 300,
    seed: int = 0,
) -> ModelPeak:
    """Fit the model to t_min ≤ t ≤ t_max, σ₀ jointly, and locate the maximum of its D(t).

    With ``joint_sigma0`` the σ₀² correction ``c`` is a free parameter (unbiased, but a less
    precise peak time); otherwise σ₀ stays as estimated and its error is propagated by
    refitting with every MSD shifted by ±2σ₀δσ₀.
    """
    t, y, e = series.select(t_min_fs, t_max_fs)
    nan = float("nan")
    empty = np.full(6, nan)
    if t.size < 9:
        return ModelPeak(False, "too few points", empty, nan, nan, nan, nan, nan, nan, nan)
    n_par = 6 if joint_sigma0 else 5
    p0 = [start_d_cm2_s * NM2_PER_FS_PER_CM2_S * 1.3, start_tau_fs * 1.3, 1.2, 4.0, 0.0, 0.0]
    lower = [0.0, 5.0, 0.3, 0.5, -np.inf, -np.inf]
    upper = [np.inf, 20 * t_max_fs, 4.0, 30.0, np.inf, np.inf]
    p0, lower, upper = p0[:n_par], lower[:n_par], upper[:n_par]

    # The σ₀² offset trades against the curvature of the early rise, so a single start can
    # end in a poor local minimum: start from several offsets and keep the best χ².
    offsets = [0.0]
    if joint_sigma0:
        scale = 2 * series.sigma0.value_nm * max(series.sigma0.err_nm, 0.5)
        offsets = [0.0, -2 * scale, 2 * scale]

    def fit(values: FloatArray) -> tuple[FloatArray, FloatArray]:
        best: tuple[float, FloatArray, FloatArray] | None = None
        for c0 in offsets:
            start = list(p0)
            if joint_sigma0:
                start[5] = c0
            try:
                popt, pcov = curve_fit(
                    superdiffusive_msd,
                    t,
                    values,
                    p0=start,
                    sigma=e,
                    absolute_sigma=True,
                    bounds=(lower, upper),
                    max_nfev=4000,
                )
            except RuntimeError:
                continue
            chi2 = float(np.sum(((values - superdiffusive_msd(t, *popt)) / e) ** 2))
            if best is None or chi2 < best[0]:
                best = (chi2, np.asarray(popt, dtype=float), np.asarray(pcov, dtype=float))
        if best is None:
            raise RuntimeError("the model fit did not converge from any start")
        return best[1], best[2]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            popt, pcov = fit(y)
            if not joint_sigma0:
                shift = series.sigma0_shift_nm2
                p_up, _ = fit(y + shift)
                p_down, _ = fit(y - shift)
    except (RuntimeError, ValueError, OptimizeWarning) as exc:
        return ModelPeak(False, str(exc), empty, nan, nan, nan, nan, nan, nan, nan)
    chi2 = float(np.sum(((y - superdiffusive_msd(t, *popt)) / e) ** 2))
    reduced = chi2 / max(t.size - n_par, 1)
    if not np.all(np.isfinite(pcov)):
        return ModelPeak(False, "parameters not determined", popt, reduced, *([nan] * 6))
    d0, t0, l0 = _peak_of(popt, grid)
    # statistical spread: parameter draws from the (χ²-scaled) covariance
    rng = np.random.default_rng(seed)
    cov = pcov * max(reduced, 1.0)
    draws = rng.multivariate_normal(popt, cov, size=n_draws, method="eigh")
    draws[:, 1:4] = np.clip(draws[:, 1:4], [5.0, 0.3, 0.5], None)  # stay inside the bounds
    draws[:, 0] = np.clip(draws[:, 0], 0.0, None)
    peaks = np.array([_peak_of(p, grid) for p in draws])
    # robust spread (1.4826·MAD): a few draws into degenerate corners must not dominate
    err = 1.4826 * np.median(np.abs(peaks - np.median(peaks, axis=0)), axis=0)
    # a spread concentrated on one grid point (MAD = 0) is no precision: use the full spread
    err = np.where(err > 0, err, np.std(peaks, axis=0, ddof=1))
    offset_err = math.sqrt(float(cov[5, 5])) if joint_sigma0 else nan
    if not joint_sigma0:  # σ₀'s common error: half the change between the ±1σ refits
        sys = np.abs(np.array(_peak_of(p_up, grid)) - np.array(_peak_of(p_down, grid))) / 2
        err = np.hypot(err, sys)
        popt = np.append(popt, 0.0)
    return ModelPeak(
        True,
        "ok",
        popt,
        reduced,
        d0,
        float(err[0]),
        t0,
        float(err[1]),
        l0,
        float(err[2]),
        offset_err,
    )
