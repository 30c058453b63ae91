"""2-D Gaussian fit of a ΔT/T image: the spot width σ that the whole transport analysis rests on.

The fit is a Levenberg–Marquardt loop written out in numpy with the analytic Jacobian, so a
64×64 image takes a fraction of a millisecond (several times faster than a generic
curve_fit; benchmarks/bench_fit.py) and a live scan point never waits on it. The model is
separable (a product of an x and a y profile), so the normal equations come from 1-D sums and
a couple of small matrix products per iteration. Errors come from the inverse curvature
matrix, scaled by the residual variance when no per-pixel weights are given, so
``sigma_err_nm`` matches the scatter of repeated fits and the fit reaches the Cramér–Rao
bound sd(σ) = σ_N·a/(√π·A).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.linalg import lapack

from tamrig.records import GaussianFit

FloatArray = npt.NDArray[np.float64]

MAX_ITERATIONS = 60
#: steps a fit started from a neighbouring image's optimum may take (it needs two or three)
WARM_ITERATIONS = 10
#: a noise fit whose χ² has stopped falling for this many iterations ends there (see
#: _levenberg_marquardt; on recorded scans no usable fit crossed a plateau of 15)
STALL_ITERATIONS = 20
#: Converged when the Gauss–Newton step of every parameter is below this fraction of its
#: standard error; the step is then applied, leaving an error of order its square (~1 %).
STEP_TOLERANCE = 0.1
#: Width (pixels) of the smoothing used to find start values.
SMOOTH_PX = 1.0
#: A width under half a pixel is not resolved by pixels sampled at their centres: such a
#: "spot" is one bright pixel (a hot pixel, a cosmic-ray hit in one frame), never a carrier
#: distribution, whose diffraction-limited σ spans two or more pixels on a TAM camera.
MIN_SIGMA_PX = 0.5


def fit_gaussian(
    image: npt.ArrayLike,
    pixel_size_nm: float,
    *,
    anisotropic: bool = False,
    weights: npt.ArrayLike | None = None,
    start: GaussianFit | None = None,
) -> GaussianFit:
    """Fit A·exp(−r²/2σ²) + offset to ``image`` (indexed [y, x]); lengths in nm.

    ``x0_nm``/``y0_nm`` are measured from the image's outer pixel-0 corner: the centre of
    pixel (0, 0) is at (a/2, a/2) for pixel size a.

    ``weights`` are inverse variances per pixel (1/err²); with them the covariance is taken
    as is, without them it is scaled by the residual variance. Pixels that are not finite or
    have zero weight are ignored. Invalid input (not 2-D, too small, bad pixel size) raises
    ValueError; an image that does not hold a spot gives ``converged=False`` and a message.

    ``start``: a fit of a similar image (the previous delay of a scan) to start from instead
    of the smoothed image's peak, with at most WARM_ITERATIONS steps (a converged spot moved
    a little needs two or three); where it does not converge in those, the result says so and
    the caller fits from the image's own start values. Where both converge to the same spot
    they agree to a fraction of its errors.
    """
    data = np.asarray(image, dtype=float)
    if data.ndim != 2:
        raise ValueError(f"image: expected a 2-D array indexed [y, x], got ndim={data.ndim}")
    if min(data.shape) < 3:
        raise ValueError(f"image: expected at least 3×3 pixels, got shape {data.shape}")
    if not (math.isfinite(pixel_size_nm) and pixel_size_nm > 0):
        raise ValueError(f"pixel_size_nm: expected a finite number > 0, got {pixel_size_nm!r}")
    has_weights = weights is not None
    n_params = 6 if anisotropic else 5
    if not has_weights and bool(np.isfinite(data).all()):
        w, valid, n_valid = None, None, data.size  # the common case: unit weights, all pixels
        clean = data
    else:
        w, valid = _weights(data, weights)
        n_valid = int(np.count_nonzero(valid))
        clean = np.where(valid, data, 0.0)
    if n_valid <= n_params:
        return _failed(data, "too few valid pixels for a Gaussian fit")
    p0 = None if start is None else _start_from(start, pixel_size_nm, anisotropic)
    if p0 is None:
        p0 = start_values(clean, w)
        if anisotropic:
            p0 = np.insert(p0, 4, p0[3])  # [A, x0, y0, sx, sy, c]
    offset0 = p0[-1]
    p0[-1] = 0.0  # fit the offset relative to its start value: keeps χ² sums precise
    centred = clean - offset0 if valid is None else np.where(valid, clean - offset0, 0.0)
    params, cov, chi2, _, ok, message = _levenberg_marquardt(
        centred,
        w,
        p0,
        anisotropic=anisotropic,
        max_iterations=MAX_ITERATIONS if start is None else WARM_ITERATIONS,
        scaled_errors=not has_weights,
    )
    params[-1] += offset0
    reduced = chi2 / max(n_valid - n_params, 1)
    if not has_weights:
        cov = cov * reduced  # unit weights: the residual variance is the per-pixel noise
    return _result(params, cov, reduced, pixel_size_nm, anisotropic, ok, message, has_weights)


def _start_from(fit: GaussianFit, a_nm: float, anisotropic: bool) -> FloatArray | None:
    """A converged fit's parameters as start values in pixels (None if it has none)."""
    values = [fit.amplitude, fit.x0_nm, fit.y0_nm, fit.sigma_nm, fit.offset]
    if not (fit.converged and all(math.isfinite(v) for v in values) and fit.sigma_nm > 0):
        return None
    x0, y0 = fit.x0_nm / a_nm - 0.5, fit.y0_nm / a_nm - 0.5  # from the pixel-0 corner
    if not anisotropic:
        return np.array([fit.amplitude, x0, y0, fit.sigma_nm / a_nm, fit.offset])
    sx = fit.sigma_nm if fit.sigma_x_nm is None else fit.sigma_x_nm
    sy = fit.sigma_nm if fit.sigma_y_nm is None else fit.sigma_y_nm
    return np.array([fit.amplitude, x0, y0, sx / a_nm, sy / a_nm, fit.offset])


def _weights(
    data: FloatArray, weights: npt.ArrayLike | None
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Weights with 0 for pixels that are not finite or not weighted, and where they are not 0."""
    finite = np.isfinite(data)
    if weights is None:
        return finite.astype(float), finite
    w = np.asarray(weights, dtype=float)
    if w.shape != data.shape:
        raise ValueError(f"weights: expected shape {data.shape} like the image, got {w.shape}")
    good = finite & np.isfinite(w) & (w > 0)
    return np.where(good, w, 0.0), good


def start_values(image: FloatArray, weights: FloatArray | None = None) -> FloatArray:
    """Robust start [A, x0, y0, σ, offset] in pixels: peak and half width of a smoothed image.

    The offset is the median of the border; the sign of the spot is whichever extremum of the
    smoothed image stands out more, so photo-induced absorption (negative) spots work too.
    With ``weights`` (0 for invalid pixels) the smoothing is a normalised convolution, so
    noisy or dead pixels neither count nor pull towards zero.
    """
    ny, nx = image.shape
    border = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    if weights is not None:
        wb = np.concatenate([weights[0], weights[-1], weights[1:-1, 0], weights[1:-1, -1]])
        border = border[wb > 0]
    k = border.size // 2
    offset = float(np.partition(border, k)[k]) if border.size else 0.0  # median
    if weights is None:
        smoothed = _smooth(image - offset)
    else:
        w = weights / float(weights.max())
        norm = _smooth(w)
        smoothed = _smooth(w * (image - offset))
        smoothed = np.where(norm > 0.05 * norm.max(), smoothed / np.maximum(norm, 1e-300), 0.0)
    hi, lo = float(smoothed.max()), float(smoothed.min())
    sign = 1.0 if abs(hi) >= abs(lo) else -1.0
    signed = sign * smoothed
    iy, ix = np.unravel_index(int(np.argmax(signed)), signed.shape)
    peak = float(signed[iy, ix])
    if peak <= 0:
        return np.array([0.0, (nx - 1) / 2, (ny - 1) / 2, min(nx, ny) / 6, offset])
    # Half width at half maximum along the row and the column through the peak.
    half = 0.5 * peak
    widths = [
        _half_width(signed[iy, ix::-1], half),
        _half_width(signed[iy, ix:], half),
        _half_width(signed[iy::-1, ix], half),
        _half_width(signed[iy:, ix], half),
    ]
    sigma_smoothed = float(np.mean(widths)) / math.sqrt(2 * math.log(2))
    sigma = math.sqrt(max(sigma_smoothed**2 - SMOOTH_PX**2, 0.25))
    sigma = min(max(sigma, 0.5), max(nx, ny) / 2)
    amplitude = sign * peak * (sigma**2 + SMOOTH_PX**2) / sigma**2  # undo the smoothing
    return np.array([amplitude, float(ix), float(iy), sigma, offset])


def _smooth(image: FloatArray) -> FloatArray:
    """Binomial smoothing [1, 4, 6, 4, 1]/16 per axis (variance SMOOTH_PX² = 1 px²).

    Written as shifted sums, much cheaper than a general convolution for a start value; the
    two-pixel rim, where the kernel does not fit, is set to zero so noise there cannot win.
    """
    if min(image.shape) < 7:
        return image.copy()
    out = np.zeros_like(image)
    s = image[:-2] + 2.0 * image[1:-1] + image[2:]
    s = s[:-2] + 2.0 * s[1:-1] + s[2:]
    s = s[:, :-2] + 2.0 * s[:, 1:-1] + s[:, 2:]
    s = s[:, :-2] + 2.0 * s[:, 1:-1] + s[:, 2:]
    out[2:-2, 2:-2] = s * (1.0 / 256.0)
    return out


def _half_width(profile: FloatArray, half: float) -> float:
    """Distance from profile[0] (the peak) to where it first falls below ``half``."""
    below = profile < half
    if not below.any():
        return float(profile.size)
    i = int(np.argmax(below))
    # linear interpolation between the last point above and the first below
    a, b = profile[i - 1], profile[i]
    return i - 1 + float((a - half) / (a - b)) if a != b else float(i)


#: The products of two 1-D basis functions {1, g, g·d, g·d²} are nine distinct functions,
#: 1, g, g·d, g·d², g², g²·d, g²·d², g²·d³, g²·d⁴: _PRODUCT[i, j] indexes Y_i·Y_j among them.
_PRODUCT = np.array([[0, 1, 2, 3], [1, 4, 5, 6], [2, 5, 6, 7], [3, 6, 7, 8]])
#: The Jacobian's terms Y_i(y)·X_j(x), (i, j): ∂/∂c, ∂/∂A, ∂/∂x0, ∂/∂y0 and the x and y
#: parts of ∂/∂σ (∂/∂σx, ∂/∂σy when anisotropic).
_TERM_Y = np.array([0, 1, 1, 2, 1, 3])
_TERM_X = np.array([0, 1, 2, 1, 3, 1])
#: Σ w·Y_i Y_i' X_j X_j' of two terms is the entry (_PRODUCT[i, i'], _PRODUCT[j, j']) of the
#: 9×9 table T of Σ w·(product in y)·(product in x)
_PAIR_ROW = _PRODUCT[_TERM_Y[:, None], _TERM_Y[None, :]]
_PAIR_COL = _PRODUCT[_TERM_X[:, None], _TERM_X[None, :]]
#: a term times g(y)·g(x) (the model's shape), as an entry of T
_SHAPED_ROW = _PRODUCT[_TERM_Y, 1]
_SHAPED_COL = _PRODUCT[_TERM_X, 1]
#: flat indices of the terms in M (4×4), and in T (9×9): the terms, the terms times the
#: model's shape, and the pairs of terms
_M_TERMS = 4 * _TERM_Y + _TERM_X
_T_GATHER = np.concatenate(
    [9 * _TERM_Y + _TERM_X, 9 * _SHAPED_ROW + _SHAPED_COL, (9 * _PAIR_ROW + _PAIR_COL).ravel()]
)
#: which term each parameter's derivative is made of, [param, term]
_ISOTROPIC = np.array(
    [
        [0, 1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1, 1],
        [1, 0, 0, 0, 0, 0],
    ],
    dtype=float,
)
_ANISOTROPIC = np.array(
    [
        [0, 1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1],
        [1, 0, 0, 0, 0, 0],
    ],
    dtype=float,
)


class _SeparableGaussian:
    """Σ w·(d − A·gy(y)·gx(x) − c)² and its normal equations, from 1-D sums only.

    Every Jacobian column is a product Y_i(y)·X_j(x) of the 1-D basis {1, g, g·d, g·d²}
    (d = coordinate − centre) times a coefficient, and the product of two such columns is
    again a product of one of nine functions of y and one of x. So χ², JᵀWJ and JᵀW·r
    follow from the 9×9 table T = Σ w·P_u(y)·P_v(x) (one matrix product with the weights,
    one with the y functions) and M = Σ w·data·Y_i X_j, without ever forming a model or
    residual image; with unit weights T is the outer product of the 1-D sums. That is what
    makes a fit take a fraction of a millisecond.
    """

    def __init__(self, data: FloatArray, w: FloatArray | None, anisotropic: bool) -> None:
        ny, nx = data.shape
        self.nx = nx
        self.coords = np.concatenate([np.arange(nx, dtype=float), np.arange(ny, dtype=float)])
        self.centred = np.empty(nx + ny)
        self.scale = np.empty(nx + ny)
        # the nine functions of x (columns :nx) and of y (nx:), rows as in _PRODUCT
        self.products = np.empty((9, nx + ny))
        self.products[0] = 1.0
        flat = data.reshape(-1)
        if w is None:
            self.stacked = np.ascontiguousarray(data)
            self.s_dd = float(np.einsum("i,i->", flat, flat))
        else:
            self.stacked = np.concatenate([w, w * data])  # W over W·D: one product per step
            self.s_dd = float(np.einsum("i,i->", self.stacked[ny:].reshape(-1), flat))
        self.weighted = w is not None
        self.s_w = float(data.size) if w is None else float(w.sum())  # Σ w
        self.s_wd = float(data.sum()) if w is None else float(self.stacked[ny:].sum())  # Σ w·d
        self.at: list[float] | None = None  # the parameters the buffers hold g and g² of
        self.anisotropic = anisotropic
        self.template = _ANISOTROPIC if anisotropic else _ISOTROPIC
        self.n_params = 6 if anisotropic else 5

    def _gaussians(self, p: FloatArray) -> list[float]:
        """d, g and g² of x and y at ``p`` into the buffers; ``p`` as floats [A, …, c]."""
        values = p.tolist()
        if values == self.at:
            return values
        x0, y0, sx = values[1:4]
        sy = values[4] if self.anisotropic else sx
        nx = self.nx
        d, q = self.centred, self.products
        np.subtract(self.coords[:nx], x0, out=d[:nx])
        np.subtract(self.coords[nx:], y0, out=d[nx:])
        np.multiply(d, d, out=q[1])
        if sx == sy:
            np.multiply(q[1], -0.5 / (sx * sx), out=q[1])
        else:
            self.scale[:nx] = -0.5 / (sx * sx)
            self.scale[nx:] = -0.5 / (sy * sy)
            np.multiply(q[1], self.scale, out=q[1])
        np.exp(q[1], out=q[1])  # g
        np.multiply(q[1], q[1], out=q[4])
        self.at = values
        return values

    def chi2(self, p: FloatArray) -> float:
        """χ² alone at ``p`` (the test of a trial step; a linearise at ``p`` reuses its g)."""
        values = self._gaussians(p)
        a, c = values[0], values[-1]
        nx, q = self.nx, self.products
        shapes_x, shapes_y = q[1:5:3, :nx], q[1:5:3, nx:]  # g and g²
        if self.weighted:
            z = self.stacked @ shapes_x.T
            ny = shapes_y.shape[1]
            t = shapes_y @ z[:ny]  # diagonal: Σ w·gy·gx, Σ w·gy²·gx²
            t_g, t_gg = t[0, 0], t[1, 1]
            m_g = shapes_y[0] @ z[ny:, 0]  # Σ w·data·gy·gx
        else:
            sums_x, sums_y = shapes_x.sum(axis=1), shapes_y.sum(axis=1)
            t_g, t_gg = sums_y[0] * sums_x[0], sums_y[1] * sums_x[1]
            m_g = shapes_y[0] @ (self.stacked @ shapes_x[0])
        value = (
            self.s_dd
            - 2 * c * self.s_wd
            - 2 * a * m_g
            + c * c * self.s_w
            + 2 * c * a * t_g
            + a * a * t_gg
        )
        return max(float(value), 0.0)

    def linearise(self, p: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """χ², JᵀWJ and JᵀW·r at parameters ``p``."""
        values = self._gaussians(p)
        if self.anisotropic:
            a, _, _, sx, sy, c = values
        else:
            a, _, _, sx, c = values
            sy = sx
        nx = self.nx
        d, q = self.centred, self.products
        np.multiply(q[1], d, out=q[2])
        np.multiply(q[2], d, out=q[3])
        np.multiply(q[4], d, out=q[5])
        np.multiply(q[5], d, out=q[6])
        np.multiply(q[6], d, out=q[7])
        np.multiply(q[7], d, out=q[8])
        qx, qy = q[:, :nx], q[:, nx:]
        if self.weighted:
            z = self.stacked @ qx.T  # [W; W·D] · P(x): Σ_x w·P_v(x) and Σ_x w·data·P_v(x)
            ny = qy.shape[1]
            t9 = qy @ z[:ny]
            m = qy[:4] @ z[ny:, :4]  # Σ w·data·Y_i X_j
        else:
            t9 = np.multiply.outer(qy.sum(axis=1), qx.sum(axis=1))
            m = qy[:4] @ (self.stacked @ qx[:4].T)
        # Y_0 = X_0 = 1, Y_1·X_1 = gy·gx and (gy·gx)²: the model's sums are entries of T.
        m_terms = m.take(_M_TERMS)
        t_terms = t9.take(_T_GATHER)
        chi2 = (
            self.s_dd
            - 2 * c * m_terms[0]
            - 2 * a * m_terms[1]
            + c * c * t_terms[0]
            + 2 * c * a * t_terms[1]
            + a * a * t_terms[7]  # (gy·gx)², the shaped A term
        )
        # Σ w·resid·(term) and Σ w·(term)·(term'), then times each parameter's coefficients
        projected = m_terms - c * t_terms[:6] - a * t_terms[6:12]
        coef = self.template * np.array(
            [1.0, 1.0, a / (sx * sx), a / (sy * sy), a / (sx * sx * sx), a / (sy * sy * sy)]
        )
        curvature = coef @ t_terms[12:].reshape(6, 6) @ coef.T
        gradient = coef @ projected
        chi2 = float(chi2)
        return max(chi2, 0.0), curvature, gradient


def _solve(a: FloatArray, b: FloatArray) -> tuple[FloatArray, int]:
    """LAPACK gesv directly: numpy's wrapper costs more than the 5×5 solve itself."""
    _, _, x, info = lapack.dgesv(a, b)
    return np.asarray(x, dtype=float), int(info)


def _levenberg_marquardt(
    data: FloatArray,
    w: FloatArray | None,
    start: FloatArray,
    *,
    anisotropic: bool,
    max_iterations: int = MAX_ITERATIONS,
    scaled_errors: bool = False,
) -> tuple[FloatArray, FloatArray, float, int, bool, str]:
    """Minimise Σ w·(data − model)²; returns params, inverse curvature, χ², iterations, ok, msg.

    Converged when every parameter step is below STEP_TOLERANCE of its standard error; the
    data should be roughly offset-free (the caller subtracts the start offset) so that χ²
    from sums keeps its precision.

    Noise fits (no spot, or pixel errors that leave single-pixel minima of χ²) can crawl
    along a flat valley of χ² to the last iteration and are then rejected. Such a fit
    stops early, as it would end, when χ² has fallen by less than the convergence tolerance
    over the last STALL_ITERATIONS iterations and the parameters hold no spot (``_no_spot``
    with the errors the caller reports: times χ²_red when ``scaled_errors``).
    """
    gauss = _SeparableGaussian(data, w, anisotropic)
    sigma_slots = [3, 4] if anisotropic else [3]
    n_free = max((data.size if w is None else int(np.count_nonzero(w))) - start.size, 1)
    p = start.copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        chi2, alpha, beta = gauss.linearise(p)
        lam = 1e-3
        ok = False
        message = "no convergence"
        iteration = 0
        history = []  # χ² at the start of each iteration
        rejecting = False  # a trial step was rejected: later ones are tested by χ² alone
        for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported below
            diag = alpha.diagonal()
            step, info = _solve(alpha, beta)
            tolerance = STEP_TOLERANCE**2 * chi2 / n_free
            # Gauss–Newton step already far below the errors: done, no further evaluation.
            if info == 0 and (step**2 * diag <= tolerance).all():
                p = p + step
                p[sigma_slots] = np.abs(p[sigma_slots])
                ok, message = True, "converged"
                break
            history.append(chi2)
            if (
                len(history) > STALL_ITERATIONS
                and history[-STALL_ITERATIONS - 1] - chi2 <= tolerance
                and _no_spot_here(p, alpha, anisotropic, chi2 / n_free if scaled_errors else 1.0)
            ):
                message = "no spot: chi2 stopped falling"
                break
            improved = False
            while lam < 1e12:
                damped = alpha.copy()
                damped.flat[:: p.size + 1] += lam * diag
                step, info = _solve(damped, beta)
                if info != 0:
                    lam *= 10
                    continue
                trial = p + step
                trial[sigma_slots] = np.abs(trial[sigma_slots])
                if rejecting:  # a fit that has rejected steps: test χ² alone first
                    t_chi2 = gauss.chi2(trial)
                    if math.isfinite(t_chi2) and t_chi2 <= chi2:
                        _, t_alpha, t_beta = gauss.linearise(trial)
                        improved = True
                        break
                else:
                    t_chi2, t_alpha, t_beta = gauss.linearise(trial)
                    if math.isfinite(t_chi2) and t_chi2 <= chi2:
                        improved = True
                        break
                    rejecting = True
                lam *= 10
            if not improved:
                ok = True  # no downhill step left: at the minimum to numerical precision
                message = "converged (no further decrease of chi2)"
                break
            p, chi2, alpha, beta = trial, t_chi2, t_alpha, t_beta
            lam = max(lam / 10, 1e-9)
    cov, info = _solve(alpha, np.eye(p.size))
    if info != 0 or not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        cov = np.full((p.size, p.size), np.nan)
        ok, message = False, "singular curvature matrix: no spot to fit"
    message = f"{message} after {iteration} iterations"
    return p, cov, chi2, iteration, ok, message


def _no_spot_here(p: FloatArray, alpha: FloatArray, anisotropic: bool, scale: float) -> bool:
    """``p`` holds no spot with the covariance α⁻¹·``scale`` the fit would report."""
    cov, info = _solve(alpha, np.eye(p.size))
    return info != 0 or bool(_no_spot(p, cov * scale if scale != 1.0 else cov, anisotropic))


def _result(
    p: FloatArray,
    cov: FloatArray,
    reduced_chi2: float,
    a_nm: float,
    anisotropic: bool,
    ok: bool,
    message: str,
    has_weights: bool,
) -> GaussianFit:
    err = np.sqrt(np.abs(np.diag(cov)))
    sigma, sigma_err = _width(p, cov, anisotropic)
    if anisotropic:
        amp, x0, y0, sx, sy, c = p
        amp_err, x_err, y_err, c_err = err[0], err[1], err[2], err[5]
        sx_nm, sy_nm = sx * a_nm, sy * a_nm
    else:
        amp, x0, y0, _, c = p
        amp_err, x_err, y_err, c_err = err[0], err[1], err[2], err[4]
        sx_nm = sy_nm = None
    reasons = _no_spot(p, cov, anisotropic) if ok else []
    if reasons:
        ok = False
        message = f"{message}; {', '.join(reasons)}"
    return GaussianFit(
        sigma_nm=float(abs(sigma)) * a_nm,
        sigma_err_nm=float(sigma_err) * a_nm,
        x0_nm=(float(x0) + 0.5) * a_nm,  # from the pixel-0 corner: pixel i spans [i, i+1]·a
        y0_nm=(float(y0) + 0.5) * a_nm,
        amplitude=float(amp),
        offset=float(c),
        amplitude_err=float(amp_err),
        x0_err_nm=float(x_err) * a_nm,
        y0_err_nm=float(y_err) * a_nm,
        offset_err=float(c_err),
        sigma_x_nm=None if sx_nm is None else float(sx_nm),
        sigma_y_nm=None if sy_nm is None else float(sy_nm),
        reduced_chi2=float(reduced_chi2) if has_weights else float("nan"),
        converged=bool(ok),
        message=message,
    )


def _width(p: FloatArray, cov: FloatArray, anisotropic: bool) -> tuple[float, float]:
    """σ (px) and its error; anisotropic: σ = √(σx σy) with the error propagated."""
    if not anisotropic:
        return float(p[3]), math.sqrt(abs(float(cov[3, 3])))
    sx, sy = float(p[3]), float(p[4])
    sigma = math.sqrt(sx * sy)
    # σ = √(σx σy): dσ/dσx = σ/(2σx), dσ/dσy = σ/(2σy)
    grad = np.array([sigma / (2 * sx), sigma / (2 * sy)])
    return sigma, math.sqrt(abs(float(grad @ cov[3:5, 3:5] @ grad)))


def _no_spot(p: FloatArray, cov: FloatArray, anisotropic: bool) -> list[str]:
    """Why the parameters ``p`` (covariance ``cov``) hold no spot; empty if they hold one."""
    sigma, sigma_err = _width(p, cov, anisotropic)
    narrowest_px = min(abs(p[3]), abs(p[4])) if anisotropic else abs(sigma)
    reasons = []
    if not (abs(p[0]) > 0 and math.isfinite(sigma_err)):
        reasons.append("zero amplitude")
    if math.isfinite(sigma_err) and sigma_err > sigma:
        reasons.append("width not determined (error larger than the width)")
    elif narrowest_px < MIN_SIGMA_PX:
        reasons.append(
            f"width below {MIN_SIGMA_PX} pixel: a hot pixel or a one-pixel streak, not a spot"
        )
    return reasons


def _failed(data: FloatArray, message: str) -> GaussianFit:
    nan = float("nan")
    return GaussianFit(
        sigma_nm=nan,
        sigma_err_nm=nan,
        x0_nm=nan,
        y0_nm=nan,
        amplitude=nan,
        offset=float(np.nanmedian(data)) if np.isfinite(data).any() else nan,
        converged=False,
        message=message,
    )


def cramer_rao_sigma_nm(noise: float, pixel_size_nm: float, amplitude: float) -> float:
    """Cramér–Rao bound on σ for white noise ``noise`` per pixel: σ_N·a/(√π·|A|)."""
    return noise * pixel_size_nm / (math.sqrt(math.pi) * abs(amplitude))


def cramer_rao_centre_nm(noise: float, pixel_size_nm: float, amplitude: float) -> float:
    """Bound on each centre coordinate, 0.80·σ_N·a/|A|."""
    return 0.80 * noise * pixel_size_nm / abs(amplitude)
