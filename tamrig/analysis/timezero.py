"""Time zero and instrument response from the rise of the signal amplitude.

The pump–probe signal switches on with the cross-correlation of the two pulses: a step (and
the fast initial kinetics after it) convolved with a Gaussian instrument response. Fitting
that shape to the amplitude vs delay gives t₀ — where the stage position for zero delay
really is — and the IRF FWHM, the time resolution of the rig.

Model: c + A·Φ((t − t₀)/s) + B·E(t), with Φ the normal CDF (the step ⊗ IRF) and
E = exp(s²/2τ² − (t − t₀)/τ)·Φ((t − t₀)/s − s/τ) a single exponential after t₀ ⊗ IRF
(hot-carrier cooling, early Auger loss, spreading of the spot). FWHM = 2√(2 ln 2)·s.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import erfc, erfcx

FloatArray = npt.NDArray[np.float64]
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: evaluations per parameter a quick fit may take (a refit from an earlier optimum needs ~2)
QUICK_NFEV = 10
#: A rise counts as resolved only if its step stands out of the noise by this many errors
#: (pure noise fitted with a step "resolved" a t₀ in 18 % of trials without it).
RISE_MIN_SNR = 5.0


@dataclass(frozen=True)
class TimeZeroFit:
    t0_fs: float
    t0_err_fs: float
    irf_fwhm_fs: float
    irf_fwhm_err_fs: float
    amplitude: float  # step height A (the sign of the signal: bleach > 0, PIA < 0)
    offset: float
    decay_amplitude: float  # B, NaN without the exponential term
    decay_tau_fs: float
    reduced_chi2: float
    ok: bool
    message: str


def _phi(z: FloatArray) -> FloatArray:
    return 0.5 * erfc(-z / math.sqrt(2.0))


def _exp_step(t: FloatArray, t0: float, s: float, tau: float) -> FloatArray:
    """exp(−(t − t₀)/τ)·H(t − t₀) convolved with a unit Gaussian of width s, overflow-safe."""
    u = (t - t0) / s
    r = s / tau
    x = -(u - r) / math.sqrt(2.0)  # Φ(u − r) = erfc(x)/2
    a = 0.5 * r * r - u * r  # log of the exponential prefactor
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        pos = 0.5 * np.exp(np.minimum(a - x * x, 700.0)) * erfcx(np.maximum(x, 0.0))
        neg = 0.5 * np.exp(np.minimum(a, 700.0)) * erfc(np.minimum(x, 0.0))
    return np.where(x > 0, pos, neg)


def rise_model(
    t: FloatArray, c: float, a: float, t0: float, s: float, b: float = 0.0, tau: float = 1.0
) -> FloatArray:
    out = c + a * _phi((t - t0) / s)
    if b != 0.0:
        out = out + b * _exp_step(t, t0, s, tau)
    return np.asarray(out, dtype=float)


def _step_only(t: FloatArray, c: float, a: float, t0: float, s: float) -> FloatArray:
    return rise_model(t, c, a, t0, s)


def _rise_jacobian(
    t: FloatArray, c: float, a: float, t0: float, s: float, b: float = 0.0, tau: float = 1.0
) -> FloatArray:
    """∂ rise_model / ∂(c, a, t₀, s[, b, τ]) in closed form (6 columns when b and τ are given).

    With u = (t − t₀)/s and r = s/τ the exponential term is E(u, r) and
    ∂E/∂u = φ(u) − r·E, ∂E/∂r = (r − u)·E − φ(u) (its prefactor times φ(u − r) is φ(u)).
    """
    u = (t - t0) / s
    pdf = np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    cols = [np.ones_like(t), _phi(u), -a * pdf / s, -a * pdf * u / s]
    if b != 0.0 or tau != 1.0:
        r = s / tau
        e = _exp_step(t, t0, s, tau)
        de_du = pdf - r * e
        de_dr = (r - u) * e - pdf
        cols[2] = cols[2] - b * de_du / s
        cols[3] = cols[3] + b * (-de_du * u / s + de_dr / tau)
        cols += [e, -b * de_dr * r / tau]
    return np.stack(cols, axis=1)


def _step_jacobian(t: FloatArray, c: float, a: float, t0: float, s: float) -> FloatArray:
    return _rise_jacobian(t, c, a, t0, s)


def fit_time_zero(
    delay_fs: npt.ArrayLike,
    amplitude: npt.ArrayLike,
    amplitude_err: npt.ArrayLike | None = None,
    *,
    with_decay: bool = True,
    t_range_fs: tuple[float, float] | None = None,
    start: TimeZeroFit | None = None,
    quick: bool = False,
) -> TimeZeroFit:
    """Fit the rise of ``amplitude`` vs ``delay_fs``; ``ok`` False (with why) if it fails.

    ``t_range_fs`` restricts the delays used (default: all). The sign of the signal is
    found from the data, so bleach and photo-induced absorption rises both work. ``start``
    (an earlier fit of the same rise, e.g. before the latest points arrived) replaces the
    start values read off the data; the optimum is the same, found in fewer steps.
    ``quick`` (the live monitor's refits between its full ones): MINPACK's unbounded
    Levenberg–Marquardt with at most QUICK_NFEV evaluations per parameter, a fraction of
    the cost; a fit that has not converged by then or left the bounds is not ``ok``.
    """
    t = np.asarray(delay_fs, dtype=float)
    y = np.asarray(amplitude, dtype=float)
    e = None if amplitude_err is None else np.asarray(amplitude_err, dtype=float)
    good = np.isfinite(t) & np.isfinite(y)
    if e is not None:
        good &= np.isfinite(e) & (e > 0)
    if t_range_fs is not None:
        good &= (t >= t_range_fs[0]) & (t <= t_range_fs[1])
    t, y = t[good], y[good]
    e = None if e is None else e[good]
    nan = float("nan")
    n_par = 6 if with_decay else 4
    if t.size < n_par + 2:
        return TimeZeroFit(
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            False,
            f"need at least {n_par + 2} delays, got {t.size}",
        )
    order = np.argsort(t)
    t, y = t[order], y[order]
    e = None if e is None else e[order]
    p0 = _start(t, y)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            if quick:  # unbounded steps may try τ or s → 0; such a fit ends not ok
                warnings.simplefilter("ignore", RuntimeWarning)
            span = float(np.ptp(t))
            model: Callable[..., FloatArray]
            jac: Callable[..., FloatArray]
            if with_decay:
                # τ beyond the delay span would make the exponential a second step
                model, jac = rise_model, _rise_jacobian
                x0 = [*p0, 0.0, min(max(10 * p0[3], 100.0), 0.5 * span)]
                lower = [-np.inf, -np.inf, t[0], 0.5, -np.inf, 1.0]
                upper = [np.inf, np.inf, t[-1], span, np.inf, span]
            else:
                model, jac, x0 = _step_only, _step_jacobian, list(p0)
                lower = [-np.inf, -np.inf, t[0], 0.5]
                upper = [np.inf, np.inf, t[-1], span]
            if start is not None and _usable_start(start, with_decay):
                x0 = _start_from(start, with_decay, lower, upper)
            limits: dict[str, object] = (
                {"method": "lm", "maxfev": QUICK_NFEV * len(x0)}
                if quick
                else {"bounds": (lower, upper), "max_nfev": 20000}
            )
            popt, pcov = curve_fit(
                model,
                t,
                y,
                p0=x0,
                sigma=e,
                absolute_sigma=e is not None,
                jac=jac,
                **limits,
            )
    except (RuntimeError, ValueError, OptimizeWarning) as exc:
        return TimeZeroFit(nan, nan, nan, nan, nan, nan, nan, nan, nan, False, str(exc))
    if quick and not (np.all(popt > lower) and np.all(popt < upper)):
        message = "quick rise fit left the parameter bounds"
        return TimeZeroFit(nan, nan, nan, nan, nan, nan, nan, nan, nan, False, message)
    resid = y - model(t, *popt)
    w = np.ones_like(y) if e is None else 1.0 / e**2
    reduced = float(np.sum(w * resid**2)) / max(t.size - n_par, 1)
    if e is not None and reduced > 1.0:
        pcov = pcov * reduced  # errors too small for the scatter seen
    err = np.sqrt(np.abs(np.diag(pcov)))
    fwhm, fwhm_err = float(popt[3]) * FWHM_PER_SIGMA, float(err[3]) * FWHM_PER_SIGMA
    determined = bool(np.isfinite(err[2]) and err[2] < 0.25 * np.ptp(t) and fwhm_err < fwhm)
    message = "ok" if determined else "rise not resolved: t0 or IRF width undetermined"
    # the height of the rise right after t₀: the step plus the decaying part
    g = np.zeros(popt.size)
    g[1] = 1.0
    if with_decay:
        g[4] = 1.0
    step = abs(float(g @ popt))
    step_err = math.sqrt(abs(float(g @ pcov @ g)))
    if determined and not step > RISE_MIN_SNR * step_err:
        determined = False
        message = (
            f"no rise above the noise: height {step:.3g} ± {step_err:.3g} "
            f"(needs {RISE_MIN_SNR:g} × its error)"
        )
    elif determined and not t[0] + 1e-6 * span < popt[2] < t[-1] - 1e-6 * span:
        determined = False
        message = "rise not resolved: t0 at the edge of the delays measured"
    return TimeZeroFit(
        t0_fs=float(popt[2]),
        t0_err_fs=float(err[2]),
        irf_fwhm_fs=fwhm,
        irf_fwhm_err_fs=fwhm_err,
        amplitude=float(popt[1]),
        offset=float(popt[0]),
        decay_amplitude=float(popt[4]) if with_decay else nan,
        decay_tau_fs=float(popt[5]) if with_decay else nan,
        reduced_chi2=reduced if e is not None else nan,
        ok=determined,
        message=message,
    )


def _usable_start(fit: TimeZeroFit, with_decay: bool) -> bool:
    values = [fit.offset, fit.amplitude, fit.t0_fs, fit.irf_fwhm_fs]
    if with_decay:
        values += [fit.decay_amplitude, fit.decay_tau_fs]
    return bool(np.all(np.isfinite(values)))


def _start_from(
    fit: TimeZeroFit, with_decay: bool, lower: list[float], upper: list[float]
) -> list[float]:
    """An earlier fit's parameters as start values, moved just inside the bounds."""
    x0 = [fit.offset, fit.amplitude, fit.t0_fs, fit.irf_fwhm_fs / FWHM_PER_SIGMA]
    if with_decay:
        x0 += [fit.decay_amplitude, fit.decay_tau_fs]
    lo, hi = np.array(lower), np.array(upper)
    inset = 1e-6 * np.where(np.isfinite(hi - lo), hi - lo, 0.0)
    return [float(v) for v in np.clip(x0, lo + inset, hi - inset)]


def population_signal(
    amplitude: npt.ArrayLike,
    amplitude_err: npt.ArrayLike,
    sigma_nm: npt.ArrayLike,
    sigma_err_nm: npt.ArrayLike,
    significant: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Signal integral A·σ² (∝ carrier population) and its error, for the rise fit.

    The peak A alone also falls as the spot spreads, so the rise is fitted on A·σ². Where
    the spot is not significant its fitted σ is noise (20–90 nm "widths" are typical), which
    would shrink A·σ² at the foot of the rise and narrow the fitted IRF: there the median
    width of the significant spots stands in for σ. σ in units of 100 nm sets the scale.
    """
    a = np.asarray(amplitude, dtype=float)
    ae = np.asarray(amplitude_err, dtype=float)
    s = np.asarray(sigma_nm, dtype=float)
    se = np.asarray(sigma_err_nm, dtype=float)
    sig = np.asarray(significant, dtype=bool)
    if sig.any():
        typical = float(np.median(s[sig]))
        s = np.where(sig, s, typical)
        se = np.where(sig, se, 0.0)
    s2 = (s / 100.0) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.hypot(ae * s2, 2 * a * s2 * se / s)
    return a * s2, err


def _start(t: FloatArray, y: FloatArray) -> list[float]:
    """Offset from the earliest quarter, step from the latest, t₀ at half rise, s from 10–90 %."""
    q = max(t.size // 4, 2)
    c = float(np.median(y[:q]))
    top = float(np.median(y[-q:]))
    a = top - c
    if a == 0:
        return [c, float(np.ptp(y)) or 1.0, float(np.median(t)), max(float(np.ptp(t)) / 20, 1.0)]
    frac = (y - c) / a
    crossing = [float(np.interp(level, *_monotone(t, frac))) for level in (0.1, 0.5, 0.9)]
    s = max((crossing[2] - crossing[0]) / 2.563, float(np.min(np.diff(t))) / 2, 0.5)
    return [c, a, crossing[1], s]


def _monotone(t: FloatArray, frac: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(fraction, delay) pairs with the fraction made non-decreasing, for interpolation."""
    f = np.maximum.accumulate(np.clip(frac, 0.0, 1.0))
    keep = np.concatenate([[True], np.diff(f) > 0])
    return f[keep], t[keep]
