"""The super-diffusive peak of D(t) = MSD/2t: value, time, transport length, dots, mobility.

Whether there is a peak is decided model-free: MSD(t) is smoothed by a local quadratic fit
(a linear operator), D is evaluated on a fine grid and its maximum located, with a parametric
bootstrap that redraws every MSD point from its error *and* shifts all of them together by
σ₀'s error (σ₀ dominates early-time D). Its value, time and length then come from the σ(τ)
model of the series (:mod:`tamrig.analysis.transport_model`, delta-method errors), the
smoothed curve's numbers only when the model has no interior maximum. The peak counts as a
super-diffusive regime only if it lies inside the search window and D rises to it from the
early edge and falls from it to the late edge by more than ``z`` standard deviations;
otherwise the result says "no super-diffusive regime".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tamrig.analysis.series import TransportSeries
from tamrig.analysis.smoothing import local_poly_matrix
from tamrig.analysis.transport_model import model_peak
from tamrig.units import NM2_PER_FS_PER_CM2_S, einstein_mobility_cm2_vs

FloatArray = npt.NDArray[np.float64]
NO_REGIME = "no super-diffusive regime"


@dataclass(frozen=True)
class PeakSettings:
    """Settings of the peak search (times in fs)."""

    window_fs: tuple[float, float] = (50.0, 1000.0)
    bandwidth_fs: float = 80.0
    grid_step_fs: float = 2.0
    z: float = 3.0  # required significance of the fall from the peak to the late edge
    z_rise: float = 1.0  # and of the rise to it (weak: σ₀'s error dominates early D)
    dot_pitch_nm: float = 3.0  # centre-to-centre distance of neighbouring dots
    temperature_k: float = 300.0
    n_bootstrap: int = 400
    seed: int = 0
    #: "model": value, time and L from the σ(τ) model of the series (delta-method errors)
    #: whenever it has an interior maximum; "smooth": model-free only
    method: str = "model"


@dataclass(frozen=True)
class SuperDiffusivePeak:
    """Maximum of D(t) in the window; ``found`` False means no super-diffusive regime."""

    found: bool  # a significant interior peak (status "peak")
    verdict: str
    d_peak_cm2_s: float
    d_peak_err_cm2_s: float
    t_peak_fs: float
    t_peak_err_fs: float
    length_nm: float  # L = √MSD at the peak
    length_err_nm: float
    n_dots: float  # L / dot pitch
    mobility_cm2_vs: float  # Einstein-equivalent mobility of the peak D
    mobility_err_cm2_vs: float
    rise_z: float  # significance of the rise from the early edge to the peak
    fall_z: float  # and of the fall to the late edge
    method: str = "smooth"  # which estimate the numbers come from: "model" or "smooth"
    #: "peak": rises and falls significantly; "unresolved": falls significantly from an
    #: interior maximum but the rise before it is not significant; "none": no regime
    status: str = "none"
    t_grid_fs: FloatArray = field(repr=False, default_factory=lambda: np.empty(0))
    d_smooth_cm2_s: FloatArray = field(repr=False, default_factory=lambda: np.empty(0))
    d_smooth_err_cm2_s: FloatArray = field(repr=False, default_factory=lambda: np.empty(0))


def superdiffusive_peak(
    series: TransportSeries, settings: PeakSettings | None = None
) -> SuperDiffusivePeak:
    cfg = settings or PeakSettings()
    lo, hi = cfg.window_fs
    # data that can influence the window: t > 0 up to a few bandwidths past its end
    use = (series.delay_fs > 0) & (series.delay_fs <= hi + 4 * cfg.bandwidth_fs)
    t = series.delay_fs[use]
    y = series.msd_nm2[use]
    e = series.msd_err_nm2[use]
    grid = np.arange(lo, hi + 0.5 * cfg.grid_step_fs, cfg.grid_step_fs)
    nan = float("nan")
    if t.size < 4:
        return _not_found("too few points in the window", cfg, grid)
    # Smooth D = MSD/2t itself, weighted by its inverse variance (∝ t²): the noisy earliest
    # points, where 1/t amplifies every error, then cannot fake a maximum.
    to_d_data = 1.0 / (2 * t * NM2_PER_FS_PER_CM2_S)
    s = local_poly_matrix(t, grid, cfg.bandwidth_fs, weights=1.0 / (e * to_d_data) ** 2)
    s = s * to_d_data[None, :]  # acts on MSD values directly: D_smooth = s @ msd
    ok = np.all(np.isfinite(s), axis=1)
    if not ok.all():
        grid, s = grid[ok], s[ok]
        if grid.size < 3:
            return _not_found("smoothing undetermined in the window", cfg, grid)
    to_msd = 2 * grid * NM2_PER_FS_PER_CM2_S
    d = s @ y
    msd_smooth = d * to_msd
    # bootstrap: independent point errors plus one common σ₀ shift per draw
    rng = np.random.default_rng(cfg.seed)
    draws = y[:, None] + e[:, None] * rng.standard_normal((y.size, cfg.n_bootstrap))
    draws = draws + series.sigma0_shift_nm2 * rng.standard_normal(cfg.n_bootstrap)[None, :]
    d_b = s @ draws
    msd_b = d_b * to_msd[:, None]
    d_err = np.std(d_b, axis=1, ddof=1)
    i = int(_peak_index(d[:, None])[0])
    interior = 0 < i < grid.size - 1
    cols = np.arange(cfg.n_bootstrap)
    i_b = _peak_index(d_b)
    t_b = grid[i_b]
    dmax_b = d_b[i_b, cols]
    msd_peak_b = msd_b[i_b, cols]
    # rise: from the lowest D before the peak; fall: to the late edge of the window
    j = int(np.argmin(d[: i + 1]))
    rise_sd = float(np.std(d_b[i] - d_b[j], ddof=1))
    fall_sd = float(np.std(d_b[i] - d_b[-1], ddof=1))
    rise_z = float((d[i] - d[j]) / rise_sd) if rise_sd > 0 else 0.0
    fall_z = float((d[i] - d[-1]) / fall_sd) if fall_sd > 0 else 0.0
    model = None
    if cfg.method == "model" and series.model is not None:
        # The σ(τ) model (fitted with σ₀ and the IRF) pins the flat-topped peak far better
        # than the smoothed curve: its rise and fall decide, and its numbers are reported.
        model = model_peak(series.model, cfg.window_fs)
        if model.interior and math.isfinite(model.rise_z) and math.isfinite(model.fall_z):
            rise_z, fall_z = model.rise_z, model.fall_z
            i = int(np.argmin(np.abs(grid - model.t_peak_fs)))
            interior = True
        else:
            model = None
    falls = interior and fall_z > cfg.z
    found = falls and rise_z > cfg.z_rise
    status = "peak" if found else ("unresolved" if falls else "none")
    if not interior:
        verdict = f"{NO_REGIME}: D(t) has no interior maximum in {lo:.0f}–{hi:.0f} fs"
    elif not falls:
        verdict = (
            f"{NO_REGIME}: maximum at {grid[i]:.0f} fs not significant "
            f"(fall to {hi:.0f} fs {fall_z:.1f}σ; need {cfg.z}σ)"
        )
    msd_peak = float(msd_smooth[i])
    d_peak, t_peak = float(d[i]), float(grid[i])
    length = math.sqrt(msd_peak) if msd_peak > 0 else nan
    d_peak_err = float(np.std(dmax_b, ddof=1))
    t_peak_err = float(np.std(t_b, ddof=1))
    length_err = float(np.std(np.sqrt(np.clip(msd_peak_b, 0, None)), ddof=1))
    method = "smooth"
    if falls and model is not None:
        method = "model"
        d_peak, d_peak_err = model.d_peak_cm2_s, model.d_peak_err_cm2_s
        t_peak, t_peak_err = model.t_peak_fs, model.t_peak_err_fs
        length, length_err = model.length_nm, model.length_err_nm
    if found:
        verdict = f"super-diffusive peak at {t_peak:.0f} fs"
    elif falls:
        verdict = (
            f"super-diffusive regime unresolved: D(t) peaks at {t_peak:.0f} fs and falls by "
            f"{fall_z:.1f}σ, but its rise before is only {rise_z:.1f}σ (need {cfg.z_rise}σ; "
            f"σ₀ ± {series.sigma0.err_nm:.1f} nm limits the early D)"
        )
    mobility = einstein_mobility_cm2_vs(d_peak, cfg.temperature_k)
    return SuperDiffusivePeak(
        found=bool(found),
        verdict=verdict,
        d_peak_cm2_s=d_peak,
        d_peak_err_cm2_s=d_peak_err,
        t_peak_fs=t_peak,
        t_peak_err_fs=t_peak_err,
        length_nm=length,
        length_err_nm=length_err,
        n_dots=length / cfg.dot_pitch_nm,
        mobility_cm2_vs=mobility,
        mobility_err_cm2_vs=mobility * d_peak_err / abs(d_peak) if d_peak else nan,
        rise_z=rise_z,
        fall_z=fall_z,
        method=method,
        status=status,
        t_grid_fs=grid,
        d_smooth_cm2_s=d,
        d_smooth_err_cm2_s=d_err,
    )


def _peak_index(d: FloatArray) -> npt.NDArray[np.intp]:
    """Per column: the highest interior local maximum, else the overall maximum.

    An edge of the window is never a peak, even when noise (large at early t) lifts it above
    the true maximum.
    """
    inner = d[1:-1]
    is_max = (inner > d[:-2]) & (inner >= d[2:])
    masked = np.where(is_max, inner, -np.inf)
    best = np.argmax(masked, axis=0) + 1
    has = is_max.any(axis=0)
    return np.where(has, best, np.argmax(d, axis=0))


def _not_found(reason: str, cfg: PeakSettings, grid: FloatArray) -> SuperDiffusivePeak:
    nan = float("nan")
    return SuperDiffusivePeak(
        found=False,
        verdict=f"{NO_REGIME}: {reason}",
        d_peak_cm2_s=nan,
        d_peak_err_cm2_s=nan,
        t_peak_fs=nan,
        t_peak_err_fs=nan,
        length_nm=nan,
        length_err_nm=nan,
        n_dots=nan,
        mobility_cm2_vs=nan,
        mobility_err_cm2_vs=nan,
        rise_z=nan,
        fall_z=nan,
    )
