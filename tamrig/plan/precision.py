"""Precision a plan will reach, predicted before it runs (``tamrig scan PLAN --check``).

The noise of ΔT/T per pixel follows from the camera: a frame holding S photo-electrons of
probe (K exposures of s electrons each, capped at the full well) has variance S + K·r²
(shot and read noise); ΔT/T = (ΣI_on − ΣI_off)/ΣI_off over P pairs therefore has
σ_N = √(2(S + K r²)/P) / S per pixel. For a Gaussian spot of peak ΔT/T amplitude A on
pixels of size a, the Cramér–Rao bounds are sd(σ) = σ_N·a/(√π·A) and, on each centre
coordinate, 0.80·σ_N·a/A; the fit reaches them.

The super-diffusive peak is judged at the delay nearest the expected peak time: there
D = (σ² − σ₀²)/2t, so with n measurements of σ there and σ₀ from the delays 0…60 fs,
sd(D) = √((2σ·sd σ)²/n + (2σ₀·sd σ₀)²) / 2t. The spot's amplitude falls as it spreads
(population conserved: A·σ₀²/σ²), which is included; the analysis fits many delays at once
and does somewhat better than this one-delay figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tamrig.devices.camera import CameraNoise
from tamrig.plan.preflight import ResolvedPlan
from tamrig.units import NM2_PER_FS_PER_CM2_S, cm2_s_to_nm2_fs

#: Peak |ΔT/T| assumed at ⟨N_abs⟩ = 0.045 when the plan's sample gives none (a PbS bleach).
DEFAULT_DTT = 1.0e-3
#: The super-diffusive peak the plan should resolve (PbS quantum-dot film of the seed paper).
EXPECTED_PEAK_D_CM2_S = 100.0
EXPECTED_PEAK_FS = 300.0
#: Pump spot σ assumed when neither the rig nor the plan gives one (the seed paper's σ₀).
DEFAULT_SIGMA0_NM = 141.0
#: Delays that fix σ₀ (after the rise has begun, before carriers spread far).
SIGMA0_WINDOW_FS = (0.0, 60.0)
#: Peak D counts as resolved when its one-delay error is below this fraction of it.
RESOLVED_FRACTION = 0.2


def dtt_noise_per_pixel(noise: CameraNoise, pairs: int) -> float:
    """σ_N: standard error of ΔT/T per pixel of one point (``pairs`` on/off frame pairs),
    at the probe's peak."""
    k = noise.accumulate
    electrons = min(noise.probe_counts * noise.electrons_per_count, noise.full_well_e)
    signal = k * electrons
    variance = signal + k * noise.read_noise_e**2
    return math.sqrt(2.0 * variance / pairs) / signal


def sigma_precision_nm(sigma_n: float, pixel_size_nm: float, amplitude: float) -> float:
    """Cramér–Rao bound on the spot width: σ_N·a/(√π·|A|)."""
    return sigma_n * pixel_size_nm / (math.sqrt(math.pi) * abs(amplitude))


def centre_precision_nm(sigma_n: float, pixel_size_nm: float, amplitude: float) -> float:
    """Cramér–Rao bound on each centre coordinate: 0.80·σ_N·a/|A|."""
    return 0.80 * sigma_n * pixel_size_nm / abs(amplitude)


@dataclass(frozen=True)
class FluencePrecision:
    """Predicted precision of the points of one fluence."""

    label: str
    n_abs: float
    amplitude: float  # expected peak ΔT/T at the rise
    sigma_err_nm: float  # sd(σ) per point at the rise
    centre_err_nm: float  # sd(x0), sd(y0) per point
    peak_delay_fs: float  # the plan's delay nearest the expected peak (NaN: none)
    peak_d_err_cm2_s: float  # sd(D) there from one delay (NaN: no σ₀ delays)

    @property
    def resolves_peak(self) -> bool:
        return self.peak_d_err_cm2_s < RESOLVED_FRACTION * EXPECTED_PEAK_D_CM2_S


@dataclass(frozen=True)
class PlanPrecision:
    sigma_n: float  # ΔT/T noise per pixel of one point
    sigma0_nm: float
    assumed_amplitude: bool  # the sample gave no expected ΔT/T: DEFAULT_DTT was used
    assumed_sigma0: bool  # no pump spot σ known: DEFAULT_SIGMA0_NM was used
    fluences: tuple[FluencePrecision, ...]

    def lines(self) -> list[str]:
        """What ``--check`` prints."""
        assumed = [
            f"ΔT/T {DEFAULT_DTT:g} at N_abs 0.045, set sample.expected_dtt"
            if self.assumed_amplitude
            else "",
            f"σ₀ = {self.sigma0_nm:g} nm" if self.assumed_sigma0 else "",
        ]
        note = "; ".join(a for a in assumed if a)
        note = f" (assumed: {note})" if note else ""
        out = [
            f"  precision (Cramér–Rao, camera noise model): ΔT/T noise {self.sigma_n:.2g} per "
            f"pixel per point{note}"
        ]
        for f in self.fluences:
            peak = "no delay near the expected peak"
            if math.isfinite(f.peak_delay_fs):
                verdict = "resolved" if f.resolves_peak else "NOT resolved"
                peak = (
                    f"peak D ≈ {EXPECTED_PEAK_D_CM2_S:g} ± {f.peak_d_err_cm2_s:.2g} cm²/s at "
                    f"{f.peak_delay_fs:g} fs ({verdict})"
                )
            out.append(
                f"    {f.label}: ΔT/T ≈ {f.amplitude:.2g} -> sd(σ) {f.sigma_err_nm:.2g} nm, "
                f"sd(centre) {f.centre_err_nm:.2g} nm per point; {peak}"
            )
        return out


def predict_precision(
    resolved: ResolvedPlan,
    noise: CameraNoise,
    pixel_size_nm: float,
    sigma0_nm: float | None = None,
    expected_dtt: float | None = None,
) -> PlanPrecision:
    """Per fluence of the plan: the predicted sd(σ), sd(centre) and one-delay sd(peak D).

    ``sigma0_nm``: the pump spot σ (None: :data:`DEFAULT_SIGMA0_NM`); ``expected_dtt``: peak
    |ΔT/T| at ⟨N_abs⟩ 0.045 (None: :data:`DEFAULT_DTT`)."""
    plan = resolved.plan
    assumed_sigma0 = sigma0_nm is None
    sigma0_nm = DEFAULT_SIGMA0_NM if sigma0_nm is None else sigma0_nm
    sigma_n = dtt_noise_per_pixel(noise, plan.acquisition.pairs_per_point)
    base = expected_dtt if expected_dtt is not None else DEFAULT_DTT
    d_peak_nm2_fs = float(cm2_s_to_nm2_fs(EXPECTED_PEAK_D_CM2_S))
    sigma2_peak = sigma0_nm**2 + 2 * d_peak_nm2_fs * EXPECTED_PEAK_FS
    results = []
    for fi, step in enumerate(resolved.fluences):
        scale = step.n_abs / 0.045 if math.isfinite(step.n_abs) else 1.0
        amplitude = base * scale
        sd_sigma = sigma_precision_nm(sigma_n, pixel_size_nm, amplitude)
        delays = [p.delay_fs for p in resolved.points if p.fluence_index == fi]
        lo, hi = SIGMA0_WINDOW_FS
        n0 = sum(lo <= d <= hi for d in delays)
        peak_delay, sd_d = math.nan, math.nan
        after = [d for d in set(delays) if d > 0]
        if after:
            peak_delay = min(after, key=lambda d: abs(d - EXPECTED_PEAK_FS))
            n_peak = sum(d == peak_delay for d in delays)
            # the spot has spread: its peak ΔT/T is lower by σ₀²/σ², the width error higher
            sd_peak = sd_sigma * sigma2_peak / sigma0_nm**2
            var = (2 * math.sqrt(sigma2_peak) * sd_peak) ** 2 / n_peak
            var += (2 * sigma0_nm * sd_sigma) ** 2 / n0 if n0 else math.inf
            sd_d = math.sqrt(var) / (2 * peak_delay) / NM2_PER_FS_PER_CM2_S
        results.append(
            FluencePrecision(
                label=step.label,
                n_abs=step.n_abs,
                amplitude=amplitude,
                sigma_err_nm=sd_sigma,
                centre_err_nm=centre_precision_nm(sigma_n, pixel_size_nm, amplitude),
                peak_delay_fs=peak_delay,
                peak_d_err_cm2_s=sd_d,
            )
        )
    return PlanPrecision(sigma_n, sigma0_nm, expected_dtt is None, assumed_sigma0, tuple(results))
