"""Least-squares fit of the half-wave-plate law with parameter errors.

P(θ) = P_min + (P_max − P_min)·cos²(2(θ − θ0)) is linear in (1, cos 4θ, sin 4θ), which
gives an exact starting point; scipy's ``least_squares`` then refines (P_min, P_max, θ0)
weighted by the meter's noise, and the covariance comes from the Jacobian at the optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares, nnls

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HwpFit:
    theta0_deg: float
    p_min_w: float
    p_max_w: float
    covariance: Array  # (p_min, p_max, theta0_deg)
    model_w: Array
    reduced_chi2: float
    dof: int

    @property
    def errors(self) -> Array:
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))


def hwp_power(theta_deg: npt.ArrayLike, p_min: float, p_max: float, theta0_deg: float) -> Array:
    c = np.cos(2.0 * np.radians(np.asarray(theta_deg, dtype=float) - theta0_deg))
    return np.asarray(p_min + (p_max - p_min) * c * c, dtype=float)


def wrap_theta0(theta0_deg: float) -> float:
    """θ0 modulo the 90° period, in [−45°, 45°)."""
    return float((theta0_deg + 45.0) % 90.0 - 45.0)


def noise_model(power_w: Array, sd_w: Array, n: npt.NDArray[np.int_]) -> Array | None:
    """Standard error of each mean reading from the pooled model var = a + b·P².

    Fitting a floor plus a relative term to all points' scatter at once is far steadier than
    trusting each point's own 2–5 readings. None when the readings show no scatter at all.
    """
    ok = n >= 2
    peak = float(np.max(np.abs(power_w))) if power_w.size else 0.0
    if ok.sum() < 2 or peak <= 0:
        return None
    var_mean = (sd_w[ok] ** 2) / n[ok]
    scale = max(float(np.max(var_mean)), 1e-300)
    target = var_mean / scale
    design = np.column_stack([np.ones(ok.sum()), (power_w[ok] / peak) ** 2])
    weight = np.ones_like(target)
    # iteratively reweighted: each variance is uncertain in proportion to its own size
    for _ in range(8):
        coef, _ = nnls(design * weight[:, None], target * weight)
        predicted = design @ coef
        if not np.all(predicted > 0):
            break
        weight = 1.0 / predicted
    p_rel = power_w / peak
    model = np.sqrt(np.clip(coef[0] + coef[1] * p_rel**2, 0.0, None) * scale)
    if not np.all(model > 0):
        return None
    return np.asarray(model, dtype=float)


def linear_guess(theta_deg: Array, power_w: Array) -> tuple[float, float, float]:
    """(P_min, P_max, θ0) from the linear form c0 + c1·cos 4θ + c2·sin 4θ."""
    x = np.radians(4.0 * theta_deg)
    design = np.column_stack([np.ones_like(x), np.cos(x), np.sin(x)])
    (c0, c1, c2), *_ = np.linalg.lstsq(design, power_w, rcond=None)
    amplitude = math.hypot(c1, c2)
    theta0 = math.degrees(math.atan2(c2, c1)) / 4.0
    return c0 - amplitude, c0 + amplitude, wrap_theta0(theta0)


def fit_hwp(theta_deg: Array, power_w: Array, sigma_w: Array | None = None) -> HwpFit:
    """Weighted least-squares fit; errors scaled up by √χ²_red when the scatter exceeds σ.

    Without ``sigma_w`` the fit is unweighted and the errors come from the residual scatter.
    """
    theta = np.asarray(theta_deg, dtype=float)
    power = np.asarray(power_w, dtype=float)
    if theta.size < 4:
        raise ValueError("the half-wave-plate law needs at least 4 points")
    p_min0, p_max0, theta00 = linear_guess(theta, power)
    scale = max(abs(p_max0), float(np.max(np.abs(power))), 1e-300)
    weights = np.ones_like(power) if sigma_w is None else 1.0 / (np.asarray(sigma_w) / scale)

    def residuals(p: Array) -> Array:
        return np.asarray((hwp_power(theta, p[0], p[1], p[2]) - power / scale) * weights)

    start = np.array([p_min0 / scale, p_max0 / scale, theta00])
    result = least_squares(residuals, start, method="lm", x_scale=np.array([1.0, 1.0, 10.0]))
    p = result.x
    dof = max(theta.size - 3, 1)
    chi2 = float(np.sum(result.fun**2))
    reduced = chi2 / dof
    jac = result.jac
    _, s, vt = np.linalg.svd(jac, full_matrices=False)
    threshold = np.finfo(float).eps * max(jac.shape) * s[0]
    s = s[s > threshold]
    vt = vt[: s.size]
    cov = (vt.T / s**2) @ vt
    cov *= reduced if sigma_w is None else max(1.0, reduced)
    units_ = np.diag([scale, scale, 1.0])
    cov = units_ @ cov @ units_
    p_min, p_max, theta0 = p[0] * scale, p[1] * scale, wrap_theta0(float(p[2]))
    if p_max < p_min:  # same curve, θ0 shifted by 45°
        p_min, p_max = p_max, p_min
        theta0 = wrap_theta0(theta0 + 45.0)
        cov = cov[[1, 0, 2]][:, [1, 0, 2]]
    model = hwp_power(theta, p_min, p_max, theta0)
    return HwpFit(
        theta0_deg=theta0,
        p_min_w=float(p_min),
        p_max_w=float(p_max),
        covariance=np.asarray(cov, dtype=float),
        model_w=model,
        reduced_chi2=reduced,
        dof=dof,
    )
