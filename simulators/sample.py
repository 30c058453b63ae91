"""The virtual sample: carrier transport and the ΔT/T signal it produces (docs/simulator.md).

MSD(t) = M_SD + M_AA + M_hop (per axis, nm²), σ²(t) = σ₀² + MSD(t); the signal is a
population-conserving Gaussian convolved with a Gaussian instrument response.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.optimize import minimize_scalar
from scipy.special import gamma, gammainc

from tamrig.units import cm2_s_to_nm2_fs

Preset = Literal["cqd", "qdip40", "qdip90", "custom"]

#: Spectral bands of ΔT/T: (centre nm, FWHM nm, relative amplitude, scales with φ). The PbS
#: excitonic bleach (~905 nm) is positive, the photo-induced absorption (~670 nm, still
#: strong at the paper's 690 nm) negative; the perovskite bleach (565 nm) grows with φ.
SPECTRAL_BANDS: tuple[tuple[float, float, float, bool], ...] = (
    (905.0, 90.0, 1.0, False),
    (670.0, 60.0, -0.6, False),
    (565.0, 25.0, 0.5, True),
)

#: Super-diffusive parameters of the paper's samples (τ_s fs, D_s cm²/s, perovskite fraction).
PRESETS: dict[str, dict[str, float]] = {
    "cqd": {"tau_s_fs": 387.0, "d_s_cm2_s": 132.8, "perovskite_fraction": 0.0},
    "qdip40": {"tau_s_fs": 492.8, "d_s_cm2_s": 138.0, "perovskite_fraction": 0.4},
    "qdip90": {"tau_s_fs": 492.8, "d_s_cm2_s": 138.0, "perovskite_fraction": 0.9},
}


def superdiffusive_parameters(fraction: float) -> tuple[float, float]:
    """(τ_s fs, D_s cm²/s) at perovskite fraction φ: linear between the CQD and QDiP 40 films
    on 0–0.4, held at the QDiP 40 values above (where the term fades out instead)."""
    cqd, q40 = PRESETS["cqd"], PRESETS["qdip40"]
    w = min(max(fraction, 0.0), 0.4) / 0.4
    tau = cqd["tau_s_fs"] + w * (q40["tau_s_fs"] - cqd["tau_s_fs"])
    d_s = cqd["d_s_cm2_s"] + w * (q40["d_s_cm2_s"] - cqd["d_s_cm2_s"])
    return tau, d_s


def superdiffusive_scale(fraction: float) -> float:
    """Weight of M_SD at perovskite fraction φ: 1 up to 0.4, clip((0.9 − φ)/0.5, 0, 1) above."""
    return float(np.clip((0.9 - fraction) / 0.5, 0.0, 1.0)) if fraction > 0.4 else 1.0


class SampleSettings(BaseModel):
    """``[simulation.sample]``: a preset plus any parameter overridden."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    preset: Preset = "cqd"
    alpha: float = Field(1.2, gt=0)
    n: float = Field(6.0, gt=0, description="sharpness of the localisation cut-off")
    tau_s_fs: float | None = Field(None, gt=0)
    d_s_cm2_s: float | None = Field(None, ge=0, description="D_s at N_abs = 0.045")
    kappa: float = Field(
        0.05,
        ge=0,
        lt=1,
        description="fluence dependence of D_s: D_s / (1 + κ (N_abs/0.045 − 1)); 0 turns it off",
    )
    perovskite_fraction: float | None = Field(None, ge=0, le=1)
    auger_l2_nm2: float = Field(1600.0, ge=0, description="L_A² at N_abs = 0.045")
    auger_p: float = 1.0
    auger_tau_fs: float = Field(20_000.0, gt=0)
    d_hop_cm2_s: float = Field(0.020, ge=0)
    sigma0_nm: float = Field(141.0, gt=0)
    amplitude: float = Field(1.0e-3, description="A₀ at the bleach maximum, N_abs = 0.045")
    auger_b: float = 0.3
    tau_cool_fs: float = Field(200.0, gt=0)
    tau_pop_fs: float = Field(2.0e6, gt=0)
    irf_fwhm_fs: float = Field(40.0, gt=0)
    cross_section_cm2: float = Field(9.6e-16, gt=0, description="σ_abs at the pump wavelength")

    @model_validator(mode="after")
    def _fill_from_preset(self) -> SampleSettings:
        """The preset fixes φ; τ_s and D_s follow φ (docs/simulator.md) unless given explicitly."""
        if self.perovskite_fraction is None:
            base = PRESETS.get(self.preset, PRESETS["cqd"])
            object.__setattr__(self, "perovskite_fraction", base["perovskite_fraction"])
        tau, d_s = superdiffusive_parameters(float(self.perovskite_fraction or 0.0))
        if self.tau_s_fs is None:
            object.__setattr__(self, "tau_s_fs", tau)
        if self.d_s_cm2_s is None:
            object.__setattr__(self, "d_s_cm2_s", d_s)
        return self


@dataclass(frozen=True)
class PeakTruth:
    """The simulator's true super-diffusive peak at one fluence."""

    n_abs: float
    t_peak_fs: float
    d_peak_cm2_s: float
    length_nm: float


class VirtualSample:
    def __init__(self, settings: SampleSettings) -> None:
        self.settings = settings

    # -- transport -------------------------------------------------------------------------
    def superdiffusive_scale(self) -> float:
        return superdiffusive_scale(float(self.settings.perovskite_fraction or 0.0))

    def d_s_cm2_s(self, n_abs: float = 0.045) -> float:
        """D_s at ⟨N_abs⟩: carrier–carrier scattering lowers it at high fluence,
        D_s / (1 + κ (N/0.045 − 1)); τ_s does not change."""
        s = self.settings
        return float(s.d_s_cm2_s or 0.0) / (1.0 + s.kappa * (n_abs / 0.045 - 1.0))

    def msd_nm2(self, t_fs: npt.ArrayLike, n_abs: float = 0.045) -> npt.NDArray[np.float64]:
        """Per-axis mean squared displacement at delay ``t_fs`` (0 for t ≤ 0)."""
        s = self.settings
        t = np.clip(np.asarray(t_fs, dtype=float), 0.0, None)
        tau = float(s.tau_s_fs or 1.0)
        d_s = float(cm2_s_to_nm2_fs(self.d_s_cm2_s(n_abs)))
        a_n = s.alpha / s.n
        m_sd = 2 * d_s * tau / s.n * gamma(a_n) * gammainc(a_n, (t / tau) ** s.n)
        m_sd = m_sd * self.superdiffusive_scale()
        m_aa = s.auger_l2_nm2 * (n_abs / 0.045) ** s.auger_p * (1 - np.exp(-t / s.auger_tau_fs))
        m_hop = 2 * float(cm2_s_to_nm2_fs(s.d_hop_cm2_s)) * t
        return np.asarray(m_sd + m_aa + m_hop, dtype=float)

    def sigma2_nm2(self, t_fs: npt.ArrayLike, n_abs: float = 0.045) -> npt.NDArray[np.float64]:
        return self.settings.sigma0_nm**2 + self.msd_nm2(t_fs, n_abs)

    def diffusivity_cm2_s(
        self, t_fs: npt.ArrayLike, n_abs: float = 0.045
    ) -> npt.NDArray[np.float64]:
        """Apparent D(t) = MSD/2t, the quantity the pipeline recovers."""
        t = np.asarray(t_fs, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self.msd_nm2(t, n_abs) / (2 * t)
        return np.asarray(d / 0.1, dtype=float)

    def peak_transport(
        self, n_abs: float = 0.045, t_range_fs: tuple[float, float] = (50.0, 1000.0)
    ) -> PeakTruth:
        """The true super-diffusive peak of D(t) = MSD/2t at ⟨N_abs⟩ (what the analysis
        should recover): its time, D and L = √MSD there, NaN when D(t) has no interior
        maximum in ``t_range_fs``."""
        lo, hi = t_range_fs
        t = np.linspace(lo, hi, int(hi - lo) + 1)
        d = self.diffusivity_cm2_s(t, n_abs)
        i = int(np.argmax(d))
        if i == 0 or i == t.size - 1:
            return PeakTruth(n_abs, math.nan, math.nan, math.nan)
        best = minimize_scalar(
            lambda x: -float(self.diffusivity_cm2_s(x, n_abs)),
            bounds=(float(t[i - 1]), float(t[i + 1])),
            method="bounded",
            options={"xatol": 1e-3},
        )
        t_peak = float(best.x)
        d_peak = float(self.diffusivity_cm2_s(t_peak, n_abs))
        return PeakTruth(n_abs, t_peak, d_peak, math.sqrt(float(self.msd_nm2(t_peak, n_abs))))

    # -- signal ----------------------------------------------------------------------------
    def spectral_factor(self, probe_nm: float, bandwidth_nm: float = 0.0) -> float:
        """Sign and relative size of ΔT/T at a probe wavelength (bleach > 0, PIA < 0).

        The probe band (Gaussian, FWHM ``bandwidth_nm``) averages each Gaussian band: widths
        add in quadrature and the peak drops by the same ratio.
        """
        phi = float(self.settings.perovskite_fraction or 0.0)
        value = 0.0
        for centre, fwhm, amp, perovskite in SPECTRAL_BANDS:
            size = amp * (phi if perovskite else 1.0)
            width = math.hypot(fwhm, bandwidth_nm)
            size *= fwhm / width
            value += size * math.exp(-4 * math.log(2) * ((probe_nm - centre) / width) ** 2)
        return value

    def amplitude(
        self, t_fs: npt.ArrayLike, n_abs: float, probe_nm: float, bandwidth_nm: float = 0.0
    ) -> npt.NDArray[np.float64]:
        """A(t) = A₀ (N/0.045)(1 − b e^(−t/τ_cool)) e^(−t/τ_pop) × the spectral factor."""
        s = self.settings
        t = np.asarray(t_fs, dtype=float)
        kinetics = (1 - s.auger_b * np.exp(-np.clip(t, 0, None) / s.tau_cool_fs)) * np.exp(
            -np.clip(t, 0, None) / s.tau_pop_fs
        )
        a = s.amplitude * (n_abs / 0.045) * self.spectral_factor(probe_nm, bandwidth_nm) * kinetics
        return np.where(t >= 0, a, 0.0)

    def irf_ages(self, delay_fs: float, n_irf: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """Carrier ages u and weights for the IRF-weighted signal at ``delay_fs``.

        Carriers born at t' (Gaussian IRF, ``irf_fwhm_fs`` FWHM) have age u = delay − t' ≥ 0
        at the probe. Gauss–Legendre nodes on the ages that exist (u ≥ 0, within ±5 sd of the
        delay) integrate the step at time zero exactly; the weights sum to the IRF fraction
        already arrived, Φ(delay/sd).
        """
        sd = self.settings.irf_fwhm_fs / (2 * math.sqrt(2 * math.log(2)))
        lo, hi = max(0.0, delay_fs - 5 * sd), delay_fs + 5 * sd
        if hi <= 0:
            return np.zeros(0), np.zeros(0)
        x, w = gauss_legendre(n_irf)
        ages = lo + (x + 1) * (hi - lo) / 2
        pdf = np.exp(-0.5 * ((delay_fs - ages) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
        return ages, w * (hi - lo) / 2 * pdf

    def dtt_image(
        self,
        delay_fs: float,
        n_abs: float,
        probe_nm: float,
        r2_nm2: npt.NDArray[np.float64],
        n_irf: int = 16,
        bandwidth_nm: float = 0.0,
    ) -> npt.NDArray[np.float64]:
        """ΔT/T at squared distances ``r2_nm2`` (any shape) from the pump centre:
        Σ_IRF A(u) σ₀²/σ²(u) exp(−r²/2σ²(u)) over carrier ages u (see :meth:`irf_ages`)."""
        ages, weights = self.irf_ages(delay_fs, n_irf)
        amps = self.amplitude(ages, n_abs, probe_nm, bandwidth_nm)
        sig2 = self.sigma2_nm2(ages, n_abs)
        s0 = self.settings.sigma0_nm**2
        image = np.zeros_like(r2_nm2, dtype=float)
        term = np.empty_like(image)  # one buffer for every age (the camera asks per block)
        for w, a, s2 in zip(weights, amps, sig2, strict=True):
            if w * a != 0.0:
                np.divide(r2_nm2, -2 * s2, out=term)  # −r²/2σ², the same bits
                np.exp(term, out=term)
                term *= w * a * (s0 / s2)
                image += term
        return image


@cache
def gauss_legendre(n: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Gauss–Legendre nodes and weights on [−1, 1], read-only: solving for them (~0.2 ms)
    is most of a ΔT/T image's cost, and the simulated camera asks for one every block."""
    x, w = np.polynomial.legendre.leggauss(n)
    x.flags.writeable = w.flags.writeable = False
    return x, w


def peak_truths(settings: SampleSettings, n_abs: Iterable[float]) -> list[PeakTruth]:
    """The true super-diffusive peak (t, D, L) at each ⟨N_abs⟩, for comparing an analysis
    of a simulated scan with the sample it was taken on."""
    sample = VirtualSample(settings)
    return [sample.peak_transport(float(n)) for n in n_abs]
