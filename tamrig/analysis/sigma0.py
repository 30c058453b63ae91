"""σ₀, the width at time zero, and the MSD = σ² − σ₀² it anchors (shared by live and offline).

σ₀ dominates early-time D (1 nm of σ₀ moves D(300 fs) by ~4.7 cm²/s), so its uncertainty is
estimated honestly — inverse-variance mean, inflated by the Birge ratio when the points
scatter more than their errors — and propagated into every MSD and D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tamrig.units import NM2_PER_FS_PER_CM2_S

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sigma0:
    """Weighted mean width around time zero, its standard error and how many points made it."""

    value_nm: float
    err_nm: float
    n_points: int
    birge_ratio: float = 1.0


def weighted_mean(values: npt.ArrayLike, errors: npt.ArrayLike) -> tuple[float, float, float]:
    """Inverse-variance mean, its error (inflated by the Birge ratio if > 1) and the ratio."""
    v = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    w = 1.0 / e**2
    mean = float(np.sum(w * v) / np.sum(w))
    err = 1.0 / math.sqrt(float(np.sum(w)))
    birge = 1.0
    if v.size > 1:
        birge = math.sqrt(float(np.sum(w * (v - mean) ** 2)) / (v.size - 1))
    return mean, err * max(birge, 1.0), birge


SIGMA0_METHODS = ("mean", "intercept")


def estimate_sigma0(
    delay_fs: npt.ArrayLike,
    sigma_nm: npt.ArrayLike,
    sigma_err_nm: npt.ArrayLike,
    window_fs: tuple[float, float] = (-60.0, 60.0),
    method: str = "mean",
) -> Sigma0 | None:
    """σ₀ from the points inside ``window_fs`` with a finite, positive error; None if none.

    ``mean``: inverse-variance mean of σ over the window (the live monitor's choice).
    ``intercept``: fit σ² = σ₀² + b·max(t, 0) over the window and take σ₀ at t = 0; this
    removes the upward bias the mean gets from spreading already under way at t > 0
    (about +1 nm for a ±60 fs window, i.e. −5 cm²/s on D at 300 fs). It falls back to the
    mean when the window holds fewer than two delays after time zero.
    """
    if method not in SIGMA0_METHODS:
        raise ValueError(f"sigma0 method: expected one of {SIGMA0_METHODS}, got {method!r}")
    t = np.asarray(delay_fs, dtype=float)
    s = np.asarray(sigma_nm, dtype=float)
    e = np.asarray(sigma_err_nm, dtype=float)
    use = (t >= window_fs[0]) & (t <= window_fs[1]) & np.isfinite(s) & np.isfinite(e) & (e > 0)
    if not use.any():
        return None
    t, s, e = t[use], s[use], e[use]
    if method == "intercept" and np.unique(t[t > 0]).size >= 2:
        return _intercept(t, s, e)
    mean, err, birge = weighted_mean(s, e)
    return Sigma0(mean, err, int(t.size), birge)


def _intercept(t: FloatArray, s: FloatArray, e: FloatArray) -> Sigma0:
    y = s**2
    w = 1.0 / (2 * s * e) ** 2
    x = np.stack([np.ones_like(t), np.clip(t, 0.0, None)], axis=1)
    a = x.T @ (w[:, None] * x)
    cov = np.linalg.inv(a)
    beta = cov @ (x.T @ (w * y))
    dof = t.size - 2
    birge = math.sqrt(float(np.sum(w * (y - x @ beta) ** 2)) / dof) if dof > 0 else 1.0
    s0_sq = float(beta[0])
    s0 = math.sqrt(s0_sq) if s0_sq > 0 else float("nan")
    err = math.sqrt(float(cov[0, 0])) * max(birge, 1.0) / (2 * s0)
    return Sigma0(s0, err, int(t.size), birge)


def msd_from_sigma(
    sigma_nm: npt.ArrayLike,
    sigma_err_nm: npt.ArrayLike,
    sigma0: Sigma0,
    *,
    include_sigma0_err: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """MSD = σ² − σ₀² and its error; σ₀'s error is a common (correlated) part of every point."""
    s = np.asarray(sigma_nm, dtype=float)
    e = np.asarray(sigma_err_nm, dtype=float)
    msd = s**2 - sigma0.value_nm**2
    var = (2 * s * e) ** 2
    if include_sigma0_err:
        var = var + (2 * sigma0.value_nm * sigma0.err_nm) ** 2
    return msd, np.sqrt(var)


def diffusivity_cm2_s(
    delay_fs: npt.ArrayLike, msd_nm2: npt.ArrayLike, msd_err_nm2: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """D = MSD / 2t in cm²/s (1 cm²/s = 0.1 nm²/fs); NaN where t ≤ 0."""
    t = np.asarray(delay_fs, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(t > 0, 1.0 / (2 * t * NM2_PER_FS_PER_CM2_S), np.nan)
    return np.asarray(msd_nm2) * scale, np.asarray(msd_err_nm2) * scale
