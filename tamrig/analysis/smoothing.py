"""Local polynomial (LOESS-type) smoothing as an explicit linear operator.

Because the smoothed curve is S·y, its covariance S·C·Sᵀ and any bootstrap over y are
exact and cheap — which is what the peak of D(t) and its uncertainty need.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def local_poly_matrix(
    t_data: npt.ArrayLike,
    t_eval: npt.ArrayLike,
    bandwidth: float,
    *,
    weights: npt.ArrayLike | None = None,
    degree: int = 2,
) -> FloatArray:
    """S (n_eval × n_data) with (S·y)[k] the weighted local polynomial fit at t_eval[k].

    Kernel: Gaussian of width ``bandwidth`` in t, times the data weights (1/err²).
    Rows where the local fit is not determined are NaN.
    """
    t = np.asarray(t_data, dtype=float)
    te = np.asarray(t_eval, dtype=float)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    dt = t[None, :] - te[:, None]  # (n_eval, n_data)
    k = np.exp(-0.5 * (dt / bandwidth) ** 2) * w[None, :]
    x = np.stack([dt**p for p in range(degree + 1)], axis=-1)  # (n_eval, n_data, d+1)
    xtk = x.transpose(0, 2, 1) * k[:, None, :]  # (n_eval, d+1, n_data)
    xtkx = xtk @ x  # (n_eval, d+1, d+1)
    s = np.full((te.size, t.size), np.nan)
    # scale columns for conditioning: powers of the bandwidth
    scale = bandwidth ** np.arange(degree + 1, dtype=float)
    scaled = xtkx / scale[None, :, None] / scale[None, None, :]
    det_ok = np.abs(np.linalg.det(scaled)) > 1e-12 * np.max(np.abs(scaled), axis=(1, 2)) ** (
        degree + 1
    )
    if det_ok.any():
        rhs = xtk[det_ok] / scale[None, :, None]
        sol = np.linalg.solve(scaled[det_ok], rhs)  # (m, d+1, n_data)
        s[det_ok] = sol[:, 0, :]
    return s
