"""Simulation-based calibration of the transport estimators: random truths, fast data, pulls.

A generator written apart from the analysis (its own age quadrature, its own noise model)
draws a sample at random over the ranges a PbS-type film can have and turns it into the
per-point columns a scan file holds: the width σ(τ) an image shows (the second moment of
the spots of every carrier age under the Gaussian IRF, weighted by their signal — what a
Gaussian fit of the image finds, to ~0.02 nm), the spot amplitude, and both errors from
the Cramér–Rao bound of a Gaussian on white pixel noise (sd(σ) = N₀/|A|, sd(A) = √2·N₀/σ,
N₀ = σ_N·a/√π),
with noise drawn from them. Before the carriers arrive the "fit" finds only noise.

``calibrate`` runs ``tamrig.analysis.analyse_points`` on many draws and compares every
reported number with its truth: bias, pull spread and 68 % coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.special import gamma, gammainc

from tamrig.plan import default_grid_fs, load_plan

FloatArray = npt.NDArray[np.float64]
REPO = Path(__file__).resolve().parents[1]
SD_PER_FWHM = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
N_SHARP = 6.0  # localisation sharpness of the transport model
COOL_B, COOL_TAU_FS = 0.3, 200.0  # early amplitude kinetics (hot-carrier cooling)


def demo_grid() -> tuple[FloatArray, int]:
    """Delays of the demo plan and its number of sweeps."""
    plan = load_plan(REPO / "config" / "scans" / "demo.toml")
    return np.array(plan.delays_fs(), dtype=float), plan.sweeps.count


def paper_grid() -> tuple[FloatArray, int]:
    """The default 112-point grid, four sweeps as in the paper's fluence series."""
    return np.array(default_grid_fs(), dtype=float), 4


@dataclass(frozen=True)
class Truth:
    sigma0_nm: float
    alpha: float
    tau_s_fs: float
    d_s_cm2_s: float
    irf_fwhm_fs: float
    t0_fs: float
    d_hop_cm2_s: float
    auger_l2_nm2: float  # at this fluence
    auger_tau_fs: float
    amplitude: float  # A₀, signed (bleach > 0, photo-induced absorption < 0)
    noise: float  # N₀ = σ_N·a/√π (ΔT/T·nm)

    def msd(self, u: npt.ArrayLike) -> FloatArray:
        uc = np.clip(np.asarray(u, dtype=float), 0.0, None)
        a_n = self.alpha / N_SHARP
        d_s = 0.1 * self.d_s_cm2_s
        x = (uc / self.tau_s_fs) ** N_SHARP
        sd = 2 * d_s * self.tau_s_fs / N_SHARP * gamma(a_n) * gammainc(a_n, x)
        aa = self.auger_l2_nm2 * (1 - np.exp(-uc / self.auger_tau_fs))
        return np.asarray(sd + aa + 2 * 0.1 * self.d_hop_cm2_s * uc, dtype=float)

    def peak(self) -> tuple[float, float, float]:
        """(D_peak cm²/s, t_peak fs, L nm): the maximum of MSD/2t over 50–1000 fs."""
        t = np.arange(50.0, 1000.0, 0.25)
        d = self.msd(t) / (0.2 * t)
        i = int(np.argmax(d))
        return float(d[i]), float(t[i]), math.sqrt(float(self.msd(t[i])))

    def auger_growth(self, t1: float = 1_000.0, t2: float = 100_000.0) -> float:
        return float(self.msd(t2) - self.msd(t1))

    def values(self) -> dict[str, float]:
        d, t, length = self.peak()
        return {
            "sigma0": self.sigma0_nm,
            "d_peak": d,
            "t_peak": t,
            "length": length,
            "alpha": self.alpha,
            "d_hop": self.d_hop_cm2_s,
            "auger": self.auger_growth(),
            "t0": self.t0_fs,
            "irf": self.irf_fwhm_fs,
        }


def _shape_constants(alpha: float) -> tuple[float, float]:
    """(c, f): D_SD/D_s peaks at t = c·τ_s with value f."""
    x = np.linspace(0.05, 3.0, 6000)
    a_n = alpha / N_SHARP
    f = gamma(a_n) * gammainc(a_n, x**N_SHARP) / (N_SHARP * x)
    i = int(np.argmax(f))
    return float(x[i]), float(f[i])


def draw_truth(rng: np.random.Generator, *, n_abs: float | None = None) -> Truth:
    """A sample drawn at random over the calibration ranges."""
    alpha = rng.uniform(1.05, 1.5)
    d_peak = rng.uniform(30.0, 150.0)
    t_peak = rng.uniform(200.0, 600.0)
    c, f = _shape_constants(alpha)
    n = float(rng.choice([0.045, 0.09, 0.18])) if n_abs is None else n_abs
    amplitude = 1e-3 * (n / 0.045) * float(rng.choice([1.0, -0.6]))
    # per-point σ error at the top of the rise: marginal (4 nm) to strong (0.3 nm)
    e0 = math.exp(rng.uniform(math.log(0.3), math.log(4.0)))
    return Truth(
        sigma0_nm=rng.uniform(100.0, 250.0),
        alpha=alpha,
        tau_s_fs=t_peak / c,
        d_s_cm2_s=d_peak / f,
        irf_fwhm_fs=rng.uniform(20.0, 60.0),
        t0_fs=rng.uniform(-20.0, 20.0),
        d_hop_cm2_s=rng.uniform(0.005, 0.05),
        auger_l2_nm2=rng.uniform(500.0, 3000.0) * n / 0.045,
        auger_tau_fs=rng.uniform(10_000.0, 40_000.0),
        amplitude=amplitude,
        noise=e0 * abs(amplitude) * (1 - COOL_B),
    )


def ages(truth: Truth, delay_fs: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Carrier ages present at a stage delay, the signal weight of each (IRF × early
    kinetics, trapezoid rule, normalised to the IRF) and σ² of each age's spot."""
    sd = truth.irf_fwhm_fs * SD_PER_FWHM
    delay = delay_fs - truth.t0_fs
    lo, hi = max(0.0, delay - 8 * sd), delay + 8 * sd
    if hi <= 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    u = np.linspace(lo, hi, 801)
    w = np.exp(-0.5 * ((delay - u) / sd) ** 2) * (1 - COOL_B * np.exp(-u / COOL_TAU_FS))
    w[0] *= 0.5
    w[-1] *= 0.5
    w *= (u[1] - u[0]) / (math.sqrt(2 * math.pi) * sd)
    return u, w, truth.sigma0_nm**2 + truth.msd(u)


def observed(truth: Truth, delay_fs: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Noise-free (σ, peak amplitude) an image shows at each stage delay."""
    sigma = np.full(delay_fs.size, truth.sigma0_nm)
    amp = np.zeros(delay_fs.size)
    for i, delay in enumerate(delay_fs):
        _, w, s2 = ages(truth, float(delay))
        weight = float(np.sum(w))
        if weight <= 1e-12:
            continue
        sigma[i] = math.sqrt(float(np.sum(w * s2)) / weight)
        # peak height of the mixture: each age's spot keeps its population (σ₀²/σ²)
        amp[i] = truth.amplitude * float(np.sum(w * truth.sigma0_nm**2 / s2))
    return sigma, amp


def image(truth: Truth, delay_fs: float, r2_nm2: FloatArray) -> FloatArray:
    """The noise-free ΔT/T image itself: the spots of every age, summed (for checking that
    ``observed`` is what a Gaussian fit of the image finds)."""
    _, w, s2 = ages(truth, delay_fs)
    out = np.zeros_like(r2_nm2)
    for wk, sk in zip(w, s2, strict=True):
        if wk > 1e-9 * float(np.max(w)):
            out += wk * truth.sigma0_nm**2 / sk * np.exp(-r2_nm2 / (2 * sk))
    return truth.amplitude * out


def scan_columns(
    truth: Truth, grid: FloatArray, sweeps: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Per-point columns of a scan of ``truth`` (repeated sweeps, noise drawn per point)."""
    sigma, amp = observed(truth, grid)
    t = np.tile(grid, sweeps)
    sigma, amp = np.tile(sigma, sweeps), np.tile(amp, sweeps)
    with np.errstate(divide="ignore"):
        sigma_err = truth.noise / np.abs(amp)
    amp_err = math.sqrt(2.0) * truth.noise / sigma  # Cramér–Rao with σ and offset free
    amp_meas = amp + amp_err * rng.standard_normal(t.size)
    finite_err = np.where(np.isfinite(sigma_err), sigma_err, 0.0)
    sig_meas = sigma + finite_err * rng.standard_normal(t.size)
    # no spot: the fit latches on to noise and reports some width with a large error
    noise_fit = ~(np.abs(amp) > 0.5 * amp_err)
    sig_meas = np.where(noise_fit, rng.uniform(20.0, 90.0, t.size), sig_meas)
    sigma_err = np.where(noise_fit, rng.uniform(5.0, 30.0, t.size), sigma_err)
    return {
        "delay_fs": t,
        "sigma_nm": sig_meas,
        "sigma_err_nm": sigma_err,
        "amplitude": amp_meas,
        "amplitude_err": amp_err,
    }


QUANTITIES = ("sigma0", "d_peak", "t_peak", "length", "alpha", "d_hop", "auger")


def estimates(columns: dict[str, FloatArray]) -> dict[str, tuple[float, float]]:
    """(value, error) of every calibrated quantity from ``analyse_points`` (NaN: none)."""
    from tamrig.analysis import analyse_points

    nan = (math.nan, math.nan)
    scan = analyse_points(columns)
    if not scan.series:
        return dict.fromkeys(QUANTITIES, nan)
    a = scan.series[0]
    pk = a.peak
    shown = pk.status != "none"
    out = {
        "sigma0": (a.series.sigma0.value_nm, a.series.sigma0.err_nm),
        "d_peak": (pk.d_peak_cm2_s, pk.d_peak_err_cm2_s) if shown else nan,
        "t_peak": (pk.t_peak_fs, pk.t_peak_err_fs) if shown else nan,
        "length": (pk.length_nm, pk.length_err_nm) if shown else nan,
        "alpha": _alpha(a),
        "d_hop": (a.hopping.d_hop_cm2_s, a.hopping.d_hop_err_cm2_s) if a.hopping.ok else nan,
        "auger": (a.auger.growth_nm2, a.auger.growth_err_nm2) if a.auger.ok else nan,
    }
    tz = a.time_zero
    if tz is not None and tz.ok:
        out["t0"] = (tz.t0_fs, tz.t0_err_fs)
        out["irf"] = (tz.irf_fwhm_fs, tz.irf_fwhm_err_fs)
    return out


def _alpha(a: object) -> tuple[float, float]:
    """α of a series analysis (the 20–250 fs power law where no fitted α is reported)."""
    alpha = getattr(a, "alpha", None)
    if alpha is not None:
        return float(alpha.value), float(alpha.err)
    pl = a.early_power_law  # type: ignore[attr-defined]
    return (pl.alpha, pl.alpha_total_err) if pl.ok else (math.nan, math.nan)


@dataclass(frozen=True)
class Calibration:
    """Bias, pull spread and 68 % coverage of one quantity over the draws that reported it."""

    quantity: str
    n: int
    bias: float  # mean(estimate − truth)
    typical_err: float  # median reported error
    mean_pull: float  # mean of (estimate − truth)/error: the bias in units of each error
    pull_sd: float  # standard deviation of (estimate − truth)/error
    pull_mad: float  # its robust spread, 1.4826·MAD (insensitive to a few failed fits)
    coverage: float  # fraction with |estimate − truth| ≤ error

    @property
    def relative_bias(self) -> float:
        """Bias per typical error: the mean pull (the errors differ a lot between draws, so
        the plain mean difference is dominated by the least precise ones)."""
        return self.mean_pull


def summarise(quantity: str, truth: list[float], est: list[tuple[float, float]]) -> Calibration:
    v = np.array([e[0] for e in est])
    err = np.array([e[1] for e in est])
    tv = np.array(truth)
    ok = np.isfinite(v) & np.isfinite(err) & (err > 0)
    diff = v[ok] - tv[ok]
    pulls = diff / err[ok]
    mad = float(np.median(np.abs(pulls - np.median(pulls)))) if pulls.size else math.nan
    return Calibration(
        quantity,
        int(ok.sum()),
        float(np.mean(diff)) if diff.size else math.nan,
        float(np.median(err[ok])) if diff.size else math.nan,
        float(np.mean(pulls)) if pulls.size else math.nan,
        float(np.std(pulls, ddof=1)) if pulls.size > 1 else math.nan,
        1.4826 * mad,
        float(np.mean(np.abs(pulls) <= 1.0)) if pulls.size else math.nan,
    )


def calibrate(
    grid: FloatArray, sweeps: int, draws: int, seed: int
) -> tuple[dict[str, Calibration], int]:
    """Run ``draws`` random truths on ``grid``; returns per-quantity results and the draws."""
    rng = np.random.default_rng(seed)
    truths: dict[str, list[float]] = {q: [] for q in (*QUANTITIES, "t0", "irf")}
    found: dict[str, list[tuple[float, float]]] = {q: [] for q in truths}
    for _ in range(draws):
        truth = draw_truth(rng)
        got = estimates(scan_columns(truth, grid, sweeps, rng))
        values = truth.values()
        for q in truths:
            truths[q].append(values[q])
            found[q].append(got.get(q, (math.nan, math.nan)))
    return {q: summarise(q, truths[q], found[q]) for q in truths}, draws
