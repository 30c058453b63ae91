"""σ(τ) of one series as one model: σ₀, the transport and the instrument response together.

Carriers born at t' under the Gaussian instrument response g have age u = τ − t' when the
probe arrives at delay τ, so the measured spot is a mixture of spots of every age. Its fitted
width is the mixture's second moment (to ~0.02 nm), which gives

    σ²(τ) = σ₀² + ⟨MSD⟩_IRF(τ),   ⟨MSD⟩_IRF(τ) = ∫₀^∞ g(τ − u) MSD(u) du / ∫₀^∞ g(τ − u) du,

with τ measured from time zero. MSD(u) is the super-diffusive term (instantaneous diffusivity
D_s (u/τ_s)^(α−1) exp[−(u/τ_s)^n], integrated in closed form) plus a slow linear
term 2·D_slow·u standing in for the Auger-assisted and hopping regimes over the first
picoseconds (optionally a term b·u² too, ``ModelSettings.slow_bend``).

Fitting σ itself (not a mean over a window around zero) removes the bias that spreading
already under way inside the IRF gives a window mean, and fits σ₀ jointly with the curve it
anchors, so the covariance of every reported quantity includes σ₀'s uncertainty exactly.
When the data hold no super-diffusive rise (or too few points to fit it) the same fit is made
with the linear term alone.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares, minimize_scalar
from scipy.special import gamma, gammainc

from tamrig.analysis.stats import chi2_scale
from tamrig.units import NM2_PER_FS_PER_CM2_S

FloatArray = npt.NDArray[np.float64]
FWHM_PER_SD = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: Gauss–Legendre nodes per delay for the average over carrier ages.
N_AGES = 24
#: points earlier than this many IRF standard deviations before time zero hold no carriers
EARLIEST_SD = 3.0
PARAMS = ("sigma0_nm", "d_s_cm2_s", "tau_s_fs", "alpha", "n", "d_slow_cm2_s", "bend_nm2")
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(N_AGES)
#: evaluations per free parameter a quick fit may take (a converging refit needs ~2)
QUICK_NFEV = 3


def superdiffusive_msd(
    u: npt.ArrayLike, d_s_cm2_s: float, tau_s_fs: float, alpha: float, n: float
) -> FloatArray:
    """M_SD(u) in nm² for carrier age u (fs), zero for u ≤ 0."""
    uc = np.clip(np.asarray(u, dtype=float), 0.0, None)
    a_n = alpha / n
    with np.errstate(over="ignore"):  # (u/τ)^n → inf only where P(a, ·) is already 1
        x = (uc / tau_s_fs) ** n
    d_s = d_s_cm2_s * NM2_PER_FS_PER_CM2_S
    return np.asarray(2 * d_s * tau_s_fs / n * gamma(a_n) * gammainc(a_n, x), dtype=float)


def regularised_gamma(a: float, x: FloatArray) -> FloatArray:
    """P(a, x) = scipy's gammainc(a, x), bit for bit, for a ≤ 8 (α/n within the bounds).

    Where x ≥ 40 + 3a the upper tail is below half an ulp of 1 and P is exactly 1.0, so
    only the other ages go through the (slow) incomplete gamma function: localised
    carriers (u ≳ 2 τ_s) cost nothing.
    """
    p = np.ones_like(x)
    low = ~(x >= 40.0 + 3.0 * a)  # NaN ages stay with gammainc
    p[low] = gammainc(a, x[low])
    return p


def model_msd(u: npt.ArrayLike, theta: FloatArray) -> FloatArray:
    """MSD(u) (nm²) of the full parameter vector (see PARAMS), without σ₀."""
    _, d_s, tau, alpha, n, d_slow, bend = theta
    uc = np.clip(np.asarray(u, dtype=float), 0.0, None)
    slow = 2 * d_slow * NM2_PER_FS_PER_CM2_S * uc + bend * (uc / 1000.0) ** 2
    if d_s == 0.0:
        return np.asarray(slow, dtype=float)
    return superdiffusive_msd(uc, d_s, tau, alpha, n) + slow


def age_quadrature(tau_fs: npt.ArrayLike, irf_fwhm_fs: float) -> tuple[FloatArray, FloatArray]:
    """Carrier ages (n_delays × N_AGES) and normalised weights for ⟨·⟩_IRF at each delay.

    Gauss–Legendre on the ages that exist, u ∈ [max(0, τ − 6 sd), τ + 6 sd]; each row's
    weights are g(τ − u) normalised to sum 1 (the carriers present at that delay).
    """
    t = np.atleast_1d(np.asarray(tau_fs, dtype=float))
    sd = irf_fwhm_fs / FWHM_PER_SD
    lo = np.clip(t - 6 * sd, 0.0, None)
    hi = np.maximum(t + 6 * sd, lo + sd)
    half = (hi - lo)[:, None] / 2
    ages = lo[:, None] + (_GL_NODES[None, :] + 1) * half
    weights = _GL_WEIGHTS[None, :] * half * np.exp(-0.5 * ((t[:, None] - ages) / sd) ** 2)
    total = weights.sum(axis=1, keepdims=True)
    return ages, weights / np.where(total > 0, total, 1.0)


def model_sigma(tau_fs: npt.ArrayLike, theta: FloatArray, irf_fwhm_fs: float) -> FloatArray:
    """σ(τ) in nm: √(σ₀² + ⟨MSD⟩_IRF(τ)) for delays τ from time zero."""
    ages, weights = age_quadrature(tau_fs, irf_fwhm_fs)
    msd = np.sum(weights * model_msd(ages, theta), axis=1)
    return np.sqrt(np.clip(theta[0] ** 2 + msd, 1e-12, None))


@dataclass(frozen=True)
class TransportModelFit:
    """The fitted σ(τ) model of one series: parameters (PARAMS order), covariance, quality.

    ``kind`` "superdiffusive" or "linear" (no super-diffusive term: D_s = 0). ``cov`` is
    already scaled by χ²_red where the fit is significantly worse than the errors allow.
    """

    ok: bool
    message: str
    kind: str
    theta: FloatArray
    cov: FloatArray
    free: tuple[bool, ...]
    chi2: float
    dof: int
    error_scale: float  # √ of the χ² factor applied to cov (1: errors taken as given)
    irf_fwhm_fs: float
    n_points: int
    t_max_fs: float
    fitted_tau_fs: FloatArray = field(repr=False, default_factory=lambda: np.empty(0))

    def value(self, name: str) -> float:
        return float(self.theta[PARAMS.index(name)])

    def error(self, name: str) -> float:
        i = PARAMS.index(name)
        return math.sqrt(float(self.cov[i, i])) if self.free[i] else 0.0

    def sigma_nm(self, tau_fs: npt.ArrayLike) -> FloatArray:
        return model_sigma(tau_fs, self.theta, self.irf_fwhm_fs)

    def diffusivity_cm2_s(self, t_fs: npt.ArrayLike, theta: FloatArray | None = None) -> FloatArray:
        """D(t) = MSD(t)/2t of the transport (no IRF: what the carriers do at age t)."""
        th = self.theta if theta is None else theta
        t = np.asarray(t_fs, dtype=float)
        return model_msd(t, th) / (2 * t * NM2_PER_FS_PER_CM2_S)


@dataclass(frozen=True)
class ModelSettings:
    """Choices of the σ(τ) model fit (times in fs, from time zero)."""

    t_max_fs: float = 2_000.0  # last delay fitted: past the localisation, before Auger bends
    #: sharpness n of the localisation cut-off; None fits it (poorly determined by most
    #: scans, so by default held at the value of the transport model)
    sharpness: float | None = 6.0
    #: a term ∝ u² beside the linear slow term (the Auger-assisted spreading bends within
    #: 2 ps when τ_A is ~10 ps); off by default: it costs more precision than it removes bias
    slow_bend: bool = False
    #: the super-diffusive form is tried only with this many points after time zero
    min_points: int = 8
    #: σ₀ needs a width measured before the spot has spread much: one at τ ≤ this
    early_by_fs: float = 100.0


def _bounds(free: tuple[bool, ...]) -> tuple[FloatArray, FloatArray]:
    lower = np.array([1.0, 0.0, 5.0, 0.3, 0.5, -200.0, -1e5])
    upper = np.array([1e5, 1e4, 2e4, 4.0, 40.0, 200.0, 1e5])
    f = np.array(free)
    return lower[f], upper[f]


def fit_transport_model(
    tau_fs: npt.ArrayLike,
    sigma_nm: npt.ArrayLike,
    sigma_err_nm: npt.ArrayLike,
    irf_fwhm_fs: float,
    settings: ModelSettings | None = None,
    *,
    start: TransportModelFit | None = None,
    irf_err_fs: float = 0.0,
    t0_err_fs: float = 0.0,
    quick: bool = False,
) -> TransportModelFit:
    """Fit σ(τ) (delays from time zero; repeated delays allowed) — super-diffusive if it can.

    Points before −3 IRF sd (no carriers yet) and after ``t_max_fs`` are not used. ``start``
    (an earlier fit of the same series, e.g. before the latest point arrived) is tried first.
    ``irf_err_fs`` and ``t0_err_fs`` (from the rise fit) enter the covariance.
    ``quick`` (the live monitor between its full refits) tries one super-diffusive start
    (``start`` if it is one, else the middle of the usual three) with at most QUICK_NFEV
    evaluations per parameter and the unbounded Levenberg–Marquardt of MINPACK, so a refit
    never takes long; a start that has not converged by then, or whose optimum lies outside
    the bounds, counts as failed (the linear form is fitted instead, the same way).
    """
    cfg = settings or ModelSettings()
    t = np.asarray(tau_fs, dtype=float)
    s = np.asarray(sigma_nm, dtype=float)
    e = np.asarray(sigma_err_nm, dtype=float)
    sd = irf_fwhm_fs / FWHM_PER_SD
    use = (
        np.isfinite(t)
        & np.isfinite(s)
        & np.isfinite(e)
        & (e > 0)
        & (t >= -EARLIEST_SD * sd)
        & (t <= cfg.t_max_fs * (1 + 1e-9))
    )
    t, s, e = t[use], s[use], e[use]
    if t.size < 2:
        return _failed(f"need two widths after time zero, got {t.size}", irf_fwhm_fs, t.size, cfg)
    if not np.any(t <= cfg.early_by_fs):
        return _failed(
            f"no width within {cfg.early_by_fs:g} fs of time zero", irf_fwhm_fs, t.size, cfg
        )
    sd_fit: TransportModelFit | None = None
    best: TransportModelFit | None = None
    if int(np.sum(t > 0)) >= cfg.min_points and np.ptp(t) > 0:
        sd_fit = _fit_superdiffusive(t, s, e, irf_fwhm_fs, cfg, start, quick)
        if sd_fit.ok:
            best = sd_fit
    if best is None:
        best = _fit(
            t, s, e, irf_fwhm_fs, cfg, _linear_start(t, s), _LINEAR_FREE, "linear", quick=quick
        )
        if not best.ok and sd_fit is not None:
            best = sd_fit
    if best.ok and (irf_err_fs > 0 or t0_err_fs > 0):
        best = _with_timing_errors(best, t, s, e, cfg, irf_err_fs, t0_err_fs)
    return best


def _with_timing_errors(
    fit: TransportModelFit,
    t: FloatArray,
    s: FloatArray,
    e: FloatArray,
    cfg: ModelSettings,
    irf_err: float,
    t0_err: float,
) -> TransportModelFit:
    """Add the uncertainty of the IRF width and of t₀ (measured by the rise, not here) to the
    covariance: refit with each moved by ± its error, J = dθ/d(nuisance), cov += J·Jᵀ·err²."""
    import dataclasses

    cov = fit.cov.copy()
    for shift_irf, shift_t0 in ((irf_err, 0.0), (0.0, t0_err)):
        if not shift_irf and not shift_t0:
            continue
        moved = []
        for sign in (1.0, -1.0):
            irf = max(fit.irf_fwhm_fs + sign * shift_irf, 1.0)
            f = _fit(t + sign * shift_t0, s, e, irf, cfg, fit.theta, fit.free, fit.kind)
            if not f.ok:
                break
            moved.append(f.theta)
        if len(moved) == 2:
            j = (moved[0] - moved[1]) / 2  # dθ/dx · err(x)
            cov = cov + np.outer(j, j)
    return dataclasses.replace(fit, cov=cov)


_LINEAR_FREE = (True, False, False, False, False, True, False)


def _linear_start(t: FloatArray, s: FloatArray) -> FloatArray:
    early = s[t <= 30.0] if np.any(t <= 30.0) else s[: max(1, s.size // 4)]
    s0 = float(np.median(early))
    late = t > 30.0
    d_slow = 0.0
    if late.any():
        d_slow = float(np.median((s[late] ** 2 - s0**2) / (2 * t[late]))) / NM2_PER_FS_PER_CM2_S
    return np.array([s0, 0.0, 1.0, 1.0, 1.0, float(np.clip(d_slow, -100, 100)), 0.0])


def _fit_superdiffusive(
    t: FloatArray,
    s: FloatArray,
    e: FloatArray,
    irf: float,
    cfg: ModelSettings,
    start: TransportModelFit | None,
    quick: bool = False,
) -> TransportModelFit:
    free = (True, True, True, True, cfg.sharpness is None, True, cfg.slow_bend)
    n0 = 6.0 if cfg.sharpness is None else float(cfg.sharpness)
    base = _linear_start(t, s)
    s0 = base[0]
    msd = s**2 - s0**2
    pos = t > 20.0
    d_est = float(np.max(msd[pos] / (2 * t[pos]))) / NM2_PER_FS_PER_CM2_S if pos.any() else 50.0
    starts = []
    if start is not None and start.ok and start.kind == "superdiffusive":
        starts.append(start.theta.copy())
    for tau in (250.0, 450.0, 800.0):
        starts.append(np.array([s0, max(d_est, 1.0) * 1.3, tau, 1.2, n0, 0.0, 0.0]))
    if quick:
        starts = starts[:1] if len(starts) == 4 else starts[1:2]
    best: TransportModelFit | None = None
    for k, x0 in enumerate(starts):
        x0[4] = n0 if cfg.sharpness is not None else x0[4]
        fit = _fit(t, s, e, irf, cfg, x0, free, "superdiffusive", quick=quick)
        better = fit.ok and (best is None or not best.ok or fit.chi2 < best.chi2 - 1e-6)
        if best is None or better:
            best = fit
        if k == 0 and start is not None and fit.ok and start.kind == "superdiffusive":
            break  # the warm start converged: the earlier optimum moved a little
    assert best is not None
    if best.ok and best.value("d_s_cm2_s") <= 1e-6:
        return _replace_message(best, False, "no super-diffusive term (D_s = 0)")
    return best


def _fit(
    t: FloatArray,
    s: FloatArray,
    e: FloatArray,
    irf: float,
    cfg: ModelSettings,
    x0: FloatArray,
    free: tuple[bool, ...],
    kind: str,
    *,
    numeric_jacobian: bool = False,
    quick: bool = False,
) -> TransportModelFit:
    """Least-squares fit of σ(τ) from ``x0`` with the parameters ``free`` varied.

    The Jacobian is analytic except for α and n (one forward difference each, the step
    scipy's "2-point" takes); ``numeric_jacobian`` uses scipy's differences for all (the
    reference the analytic one is tested against).
    """
    f = np.array(free)
    theta = x0.astype(float).copy()
    lower, upper = _bounds(free)
    p0 = np.clip(theta[f], lower + 1e-9 * np.abs(lower) + 1e-12, upper - 1e-9 * np.abs(upper))
    n_free = int(f.sum())
    if t.size < n_free:
        return _failed(f"{t.size} widths for {n_free} parameters", irf, t.size, cfg, kind)
    model = _Residuals(t, s, e, irf, theta, f, upper)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if quick:  # MINPACK's Levenberg–Marquardt: a fraction of TRF's overhead per step
                res = least_squares(
                    model.residuals,
                    p0,
                    jac=model.jacobian,
                    method="lm",
                    x_scale="jac",
                    max_nfev=QUICK_NFEV * n_free,
                )
            else:
                res = least_squares(
                    model.residuals,
                    p0,
                    jac="2-point" if numeric_jacobian else model.jacobian,
                    bounds=(lower, upper),
                    x_scale="jac",
                    max_nfev=400 * n_free,
                )
    except (ValueError, np.linalg.LinAlgError) as exc:
        return _failed(str(exc), irf, t.size, cfg, kind)
    if quick and not (
        np.all(np.isfinite(res.fun)) and np.all(res.x > lower) and np.all(res.x < upper)
    ):
        # without bounds the step left the model's range: only an interior optimum counts
        return _failed("quick fit left the parameter bounds", irf, t.size, cfg, kind)
    theta[f] = res.x
    chi2 = float(np.sum(res.fun**2))
    dof = t.size - n_free
    jac = np.asarray(res.jac, dtype=float)
    cov_free = _inverse(jac.T @ jac)
    scale = chi2_scale(chi2, dof)
    cov = np.zeros((theta.size, theta.size))
    cov[np.ix_(f, f)] = cov_free * scale
    at_bound = np.asarray(res.active_mask) != 0
    # the slow terms may sit at a bound without harm; a shape parameter there is no optimum
    n_shape = int(f[:5].sum())
    shape_at_bound = bool(np.any(at_bound[:n_shape])) if kind == "superdiffusive" else False
    finite = bool(np.all(np.isfinite(cov_free)) and np.all(np.diag(cov_free) > 0))
    ok = bool(res.status > 0 and finite and not shape_at_bound)
    message = (
        "ok"
        if ok
        else (
            "parameters not determined"
            if not finite
            else "a shape parameter at its bound"
            if shape_at_bound
            else str(res.message)
        )
    )
    return TransportModelFit(
        ok=ok,
        message=message,
        kind=kind,
        theta=theta,
        cov=cov,
        free=tuple(bool(x) for x in free),
        chi2=chi2,
        dof=dof,
        error_scale=math.sqrt(scale),
        irf_fwhm_fs=irf,
        n_points=int(t.size),
        t_max_fs=cfg.t_max_fs,
        fitted_tau_fs=t.copy(),
    )


class _Residuals:
    """Weighted residuals (σ_model − σ)/err of the σ(τ) model and their Jacobian.

    The IRF quadrature is set up once per fit and the model is evaluated once per parameter
    vector: the Jacobian reuses the evaluation of the residuals at the same point (scipy
    asks for both there). MSD = D_s·G(u) + slow(u), G = 2τ_s/n·Γ(a)·P(a, (u/τ_s)^n),
    a = α/n, so ∂/∂D_s = G, ∂/∂τ_s = D_s·(G/τ_s − 2·(u/τ_s)^α·e^(−(u/τ_s)^n)) and the slow
    terms are linear; α and n (inside the incomplete gamma function's shape) by a forward
    difference.
    """

    def __init__(
        self,
        t: FloatArray,
        s: FloatArray,
        e: FloatArray,
        irf: float,
        theta: FloatArray,
        free: npt.NDArray[np.bool_],
        upper: FloatArray,
    ) -> None:
        # repeated delays (sweeps) share their quadrature: the model is evaluated once per delay
        delays, self.index = np.unique(t, return_inverse=True)
        self.ages, self.weights = age_quadrature(delays, irf)
        self.s, self.e = s, e
        self.theta, self.free, self.upper = theta, free, upper
        self.slow_lin = np.sum(self.weights * self.ages, axis=1) * (2 * NM2_PER_FS_PER_CM2_S)
        self.slow_bend = np.sum(self.weights * (self.ages / 1000.0) ** 2, axis=1)
        self._at: FloatArray | None = None
        self._state: tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None = None

    def _full(self, p: FloatArray) -> FloatArray:
        th = self.theta.copy()
        th[self.free] = p
        return th

    def _g(self, tau: float, alpha: float, n: float) -> tuple[FloatArray, FloatArray]:
        """G(u) per age (nm² per cm²/s) and x = (u/τ_s)^n."""
        a_n = alpha / n
        with np.errstate(over="ignore"):
            x = (self.ages / tau) ** n
        g = (2 * NM2_PER_FS_PER_CM2_S * tau / n * gamma(a_n)) * regularised_gamma(a_n, x)
        return np.asarray(g, dtype=float), np.asarray(x, dtype=float)

    def _evaluate(self, p: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        if self._at is not None and self._state is not None and np.array_equal(p, self._at):
            return self._state
        th = self._full(p)
        sigma0, d_s, tau, alpha, n, d_slow, bend = th
        var = sigma0**2 + d_slow * self.slow_lin + bend * self.slow_bend
        g = x = np.zeros_like(self.ages)
        if d_s != 0.0 or self.free[1]:
            g, x = self._g(tau, alpha, n)
            var = var + d_s * np.sum(self.weights * g, axis=1)
        sigma = np.sqrt(np.clip(var, 1e-12, None))[self.index]
        self._at, self._state = p.copy(), (th, g, x, sigma)
        return self._state

    def residuals(self, p: FloatArray) -> FloatArray:
        sigma = self._evaluate(p)[3]
        return np.asarray((sigma - self.s) / self.e, dtype=float)

    def jacobian(self, p: FloatArray) -> FloatArray:
        th, g, x, sigma = self._evaluate(p)
        sigma0, d_s, tau, alpha, n, _, _ = th
        w = self.weights
        cols: list[FloatArray] = []
        for j in np.nonzero(self.free)[0]:
            if j == 0:
                dvar = np.full(self.slow_lin.size, 2 * sigma0)
            elif j == 1:
                dvar = np.sum(w * g, axis=1)
            elif j == 2:
                with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                    tail = np.where(x > 0, x ** (alpha / n) * np.exp(-x), 0.0)
                dg = g / tau - 2 * NM2_PER_FS_PER_CM2_S * tail
                dvar = d_s * np.sum(w * dg, axis=1)
            elif j in (3, 4):
                h = _step(th[j], self.upper[int(np.sum(self.free[:j]))])
                moved = th.copy()
                moved[j] += h
                g_h = self._g(moved[2], moved[3], moved[4])[0]
                dvar = d_s * np.sum(w * (g_h - g), axis=1) / h
            elif j == 5:
                dvar = self.slow_lin
            else:
                dvar = self.slow_bend
            cols.append(dvar)
        dvar_all = np.stack(cols, axis=1)[self.index]
        clipped = sigma <= 1e-6  # σ held at its floor: the model does not move there
        scale = np.where(clipped, 0.0, 1.0 / (2 * sigma * self.e))
        return np.asarray(dvar_all * scale[:, None], dtype=float)


def _step(value: float, upper: float) -> float:
    """scipy's forward-difference step for one parameter (backwards at its upper bound)."""
    h = math.sqrt(np.finfo(float).eps) * max(1.0, abs(value)) * (1.0 if value >= 0 else -1.0)
    if value + h > upper:
        h = -h
    return (value + h) - value


def _inverse(a: FloatArray) -> FloatArray:
    """Inverse of a symmetric curvature matrix, NaN where it is singular."""
    try:
        d = np.sqrt(np.diag(a))
        if not np.all(d > 0):
            raise np.linalg.LinAlgError
        scaled = a / np.outer(d, d)
        inv = np.linalg.inv(scaled) / np.outer(d, d)
        if np.linalg.cond(scaled) > 1e13:
            raise np.linalg.LinAlgError
        return np.asarray(inv, dtype=float)
    except np.linalg.LinAlgError:
        return np.full_like(a, np.nan)


def _replace_message(fit: TransportModelFit, ok: bool, message: str) -> TransportModelFit:
    import dataclasses

    return dataclasses.replace(fit, ok=ok, message=message)


def _failed(
    message: str, irf: float, n: int, cfg: ModelSettings, kind: str = "linear"
) -> TransportModelFit:
    return TransportModelFit(
        ok=False,
        message=message,
        kind=kind,
        theta=np.full(len(PARAMS), np.nan),
        cov=np.full((len(PARAMS), len(PARAMS)), np.nan),
        free=(False,) * len(PARAMS),
        chi2=float("nan"),
        dof=0,
        error_scale=1.0,
        irf_fwhm_fs=irf,
        n_points=n,
        t_max_fs=cfg.t_max_fs,
    )


# -- the peak of D(t) and its errors (delta method) ------------------------------------------


@dataclass(frozen=True)
class ModelPeak:
    """Maximum of the model's D(t) = MSD/2t in a window, with delta-method errors."""

    interior: bool  # False: the maximum sits on an edge of the window (no peak there)
    d_peak_cm2_s: float
    d_peak_err_cm2_s: float
    t_peak_fs: float
    t_peak_err_fs: float
    length_nm: float  # L = √MSD(t_peak)
    length_err_nm: float
    rise_z: float = float("nan")  # (D(t_peak) − D(window start)) / its error
    fall_z: float = float("nan")  # (D(t_peak) − D(window end)) / its error


def _argmax_d(fit: TransportModelFit, theta: FloatArray, lo: float, hi: float) -> float:
    grid = np.arange(lo, hi + 1.0, 2.0)
    d = fit.diffusivity_cm2_s(grid, theta)
    i = int(np.argmax(d))
    if i == 0 or i == grid.size - 1:
        return float(grid[i])
    res = minimize_scalar(
        lambda x: -float(fit.diffusivity_cm2_s(np.array([x]), theta)[0]),
        bounds=(float(grid[i - 1]), float(grid[i + 1])),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(res.x)


def model_peak(fit: TransportModelFit, window_fs: tuple[float, float]) -> ModelPeak:
    """Peak D, its time and L from the fitted model; errors by the delta method.

    D_peak's gradient is ∂D/∂θ at the fixed peak time (envelope theorem); t_peak's follows
    from the peak condition D'(t*) = 0: dt*/dθ = −∂θD'(t*)/D''(t*); L = √MSD(t*) takes both.
    """
    nan = float("nan")
    lo, hi = window_fs
    if not fit.ok or fit.kind != "superdiffusive":
        return ModelPeak(False, nan, nan, nan, nan, nan, nan)
    theta = fit.theta
    t_star = _argmax_d(fit, theta, lo, hi)
    interior = lo + 1.0 < t_star < hi - 1.0

    def dval(th: FloatArray, t: float) -> float:
        return float(fit.diffusivity_cm2_s(np.array([t]), th)[0])

    def msd(th: FloatArray, t: float) -> float:
        return float(model_msd(np.array([t]), th)[0])

    h_t = max(0.5, 1e-3 * t_star)

    def dprime(th: FloatArray) -> float:
        return (dval(th, t_star + h_t) - dval(th, t_star - h_t)) / (2 * h_t)

    d2 = (dval(theta, t_star + h_t) - 2 * dval(theta, t_star) + dval(theta, t_star - h_t)) / h_t**2
    free = np.array(fit.free)
    errs = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
    g_d = np.zeros(theta.size)
    g_t = np.zeros(theta.size)
    g_m = np.zeros(theta.size)
    g_lo = np.zeros(theta.size)
    g_hi = np.zeros(theta.size)
    for j in np.nonzero(free)[0]:
        h = 1e-3 * errs[j] if errs[j] > 0 else 1e-6 * max(abs(theta[j]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        g_d[j] = (dval(up, t_star) - dval(down, t_star)) / (2 * h)
        g_m[j] = (msd(up, t_star) - msd(down, t_star)) / (2 * h)
        g_lo[j] = (dval(up, lo) - dval(down, lo)) / (2 * h)
        g_hi[j] = (dval(up, hi) - dval(down, hi)) / (2 * h)
        if interior and d2 < 0:
            g_t[j] = -(dprime(up) - dprime(down)) / (2 * h) / d2
    d_star = dval(theta, t_star)
    m_star = msd(theta, t_star)
    length = math.sqrt(m_star) if m_star > 0 else nan
    # L depends on t* too: dL = (∂M/∂θ + M'(t*)·dt*/dθ) / 2L
    m_slope = (msd(theta, t_star + h_t) - msd(theta, t_star - h_t)) / (2 * h_t)
    g_l = (g_m + m_slope * g_t) / (2 * length) if length > 0 else np.full(theta.size, nan)
    cov = fit.cov

    def err(g: FloatArray) -> float:
        return math.sqrt(max(float(g @ cov @ g), 0.0))

    rise_err, fall_err = err(g_d - g_lo), err(g_d - g_hi)
    rise = d_star - dval(theta, lo)
    fall = d_star - dval(theta, hi)
    return ModelPeak(
        interior=bool(interior),
        d_peak_cm2_s=d_star,
        d_peak_err_cm2_s=err(g_d),
        t_peak_fs=t_star,
        t_peak_err_fs=err(g_t) if interior else nan,
        length_nm=length,
        length_err_nm=err(g_l),
        rise_z=rise / rise_err if rise_err > 0 else nan,
        fall_z=fall / fall_err if fall_err > 0 else nan,
    )
