"""Weighted straight-line fit with propagated errors (trends against fluence, sweep, time).

The errors come from the data's stated errors, not rescaled by χ²: with the handful of
points a trend has (three fluences, a few sweeps) χ² cannot estimate the scatter. The
reduced χ² is reported beside them so a poor straight line is visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class LineFit:
    """Weighted straight line y = intercept + slope·x with propagated errors."""

    slope: float
    slope_err: float
    intercept: float
    intercept_err: float
    reduced_chi2: float  # NaN with two points (no degree of freedom)
    n_points: int
    covariance: float = 0.0  # cov(slope, intercept)


def weighted_line(x: npt.ArrayLike, y: npt.ArrayLike, y_err: npt.ArrayLike) -> LineFit | None:
    """Least-squares line through (x, y ± y_err); None with fewer than two usable points
    or a single distinct x."""
    xs, ys, es = (np.asarray(v, dtype=float).ravel() for v in (x, y, y_err))
    ok = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(es) & (es > 0)
    xs, ys, es = xs[ok], ys[ok], es[ok]
    if xs.size < 2 or np.ptp(xs) == 0:
        return None
    w = 1.0 / es**2
    s, sx, sy = w.sum(), (w * xs).sum(), (w * ys).sum()
    sxx, sxy = (w * xs * xs).sum(), (w * xs * ys).sum()
    det = s * sxx - sx**2
    slope = (s * sxy - sx * sy) / det
    intercept = (sxx * sy - sx * sxy) / det
    chi2 = float((w * (ys - intercept - slope * xs) ** 2).sum())
    dof = xs.size - 2
    return LineFit(
        slope=float(slope),
        slope_err=float(math.sqrt(s / det)),
        intercept=float(intercept),
        intercept_err=float(math.sqrt(sxx / det)),
        reduced_chi2=chi2 / dof if dof > 0 else math.nan,
        n_points=int(xs.size),
        covariance=float(-sx / det),
    )
