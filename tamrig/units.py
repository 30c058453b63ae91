"""Deterministic physical conversions used across the rig.

Units: delay in fs, stage position in mm, lengths in nm, D in cm²/s, fluence in µJ/cm².
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

C_NM_PER_FS = 299.792458  # speed of light
H_J_S = 6.62607015e-34
C_M_S = 299_792_458.0
K_B_EV_PER_K = 8.617333262e-5
NM2_PER_FS_PER_CM2_S = 0.1  # 1 cm²/s = 0.1 nm²/fs

FloatOrArray = float | npt.NDArray[np.float64]


def stage_mm_per_fs(passes: int) -> float:
    """Stage travel that adds 1 fs of delay for a beam crossing the delay line ``passes`` times."""
    return C_NM_PER_FS / passes * 1e-6


def delay_fs_to_stage_mm(delay_fs: FloatOrArray, time_zero_mm: float, passes: int) -> FloatOrArray:
    """Stage position giving ``delay_fs`` (positive = probe after pump, stage moved outward)."""
    return time_zero_mm + np.asarray(delay_fs, dtype=float) * stage_mm_per_fs(passes)


def stage_mm_to_delay_fs(
    position_mm: FloatOrArray, time_zero_mm: float, passes: int
) -> FloatOrArray:
    """Delay produced by a stage position, inverse of :func:`delay_fs_to_stage_mm`."""
    return (np.asarray(position_mm, dtype=float) - time_zero_mm) / stage_mm_per_fs(passes)


def cm2_s_to_nm2_fs(d_cm2_s: FloatOrArray) -> FloatOrArray:
    return np.asarray(d_cm2_s, dtype=float) * NM2_PER_FS_PER_CM2_S


def thermal_voltage_v(temperature_k: float) -> float:
    """k_B T / e in volts (25.852 mV at 300 K)."""
    return K_B_EV_PER_K * temperature_k


def einstein_mobility_cm2_vs(d_cm2_s: float, temperature_k: float = 300.0) -> float:
    """Equivalent mobility μ = D / (k_B T / e)."""
    return d_cm2_s / thermal_voltage_v(temperature_k)


def photon_energy_j(wavelength_nm: float) -> float:
    return H_J_S * C_M_S / (wavelength_nm * 1e-9)


def pulse_energy_j(power_w: float, rep_rate_hz: float, behind_chopper: bool = False) -> float:
    """Pulse energy from average power; a running 50 % chopper halves the average power."""
    energy = power_w / rep_rate_hz
    return 2.0 * energy if behind_chopper else energy


def peak_fluence_uj_cm2(pulse_energy: float, spot_sigma_nm: float) -> float:
    """Peak fluence F₀ = E/(2πσ²) of a Gaussian spot of standard deviation σ."""
    sigma_cm = spot_sigma_nm * 1e-7
    return pulse_energy / (2.0 * math.pi * sigma_cm**2) * 1e6


def n_abs_from_fluence(
    fluence_uj_cm2: float, wavelength_nm: float, cross_section_cm2: float
) -> float:
    """⟨N_abs⟩ = σ_abs · j₀ with j₀ the photon fluence."""
    return cross_section_cm2 * fluence_uj_cm2 * 1e-6 / photon_energy_j(wavelength_nm)


def fluence_from_n_abs(n_abs: float, wavelength_nm: float, cross_section_cm2: float) -> float:
    """Peak fluence in µJ/cm² that gives ⟨N_abs⟩ (inverse of :func:`n_abs_from_fluence`)."""
    return n_abs / cross_section_cm2 * photon_energy_j(wavelength_nm) * 1e6


def photon_fluence_cm2(fluence_uj_cm2: float, wavelength_nm: float) -> float:
    """Photon fluence j = F/(hc/λ) in photons/cm² for a fluence in µJ/cm²."""
    return fluence_uj_cm2 * 1e-6 / photon_energy_j(wavelength_nm)


def mean_fluence_uj_cm2(pulse_energy: float, spot_sigma_nm: float) -> float:
    """Mean fluence E/(π w₀²) with w₀ = 2σ the 1/e² radius: exactly half the peak fluence.

    It is also the excitation-weighted mean ∫F² dA / ∫F dA of the Gaussian spot.
    """
    return 0.5 * peak_fluence_uj_cm2(pulse_energy, spot_sigma_nm)


def pulse_energy_for_peak_fluence(fluence_uj_cm2: float, spot_sigma_nm: float) -> float:
    """Pulse energy in J giving the peak fluence (inverse of :func:`peak_fluence_uj_cm2`)."""
    sigma_cm = spot_sigma_nm * 1e-7
    return fluence_uj_cm2 * 1e-6 * 2.0 * math.pi * sigma_cm**2


def power_for_pulse_energy(
    pulse_energy: float, rep_rate_hz: float, behind_chopper: bool = False
) -> float:
    """Average power a meter reads for ``pulse_energy`` (inverse of :func:`pulse_energy_j`)."""
    power = pulse_energy * rep_rate_hz
    return 0.5 * power if behind_chopper else power
