"""docs/simulator.md conversions, checked to the digits docs/simulator.md quotes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from calibration_support import SIGMA_580, fixed_calibration

from tamrig import units
from tamrig.calibration import sizing
from tamrig.errors import InputError


def sig(x: float, digits: int) -> float:
    """``x`` rounded to ``digits`` significant digits."""
    return float(f"{x:.{digits - 1}e}")


# -- delay stage -------------------------------------------------------------------------------
def test_double_pass_stage_travel_per_delay() -> None:
    assert sig(units.stage_mm_per_fs(2) * 1e3, 6) == 0.149896  # µm per fs
    assert sig(units.stage_mm_per_fs(2) * 1e3 * 1e3, 4) == 149.9  # µm per ps
    assert sig(units.stage_mm_per_fs(2) * 2e6, 5) == 299.79  # mm per 2 ns
    assert sig(units.stage_mm_per_fs(4) * 1e6, 4) == 74.95  # nm per fs, quad pass


# -- Einstein relation -------------------------------------------------------------------------
def test_thermal_voltage_and_einstein_mobility() -> None:
    assert sig(units.thermal_voltage_v(300.0) * 1e3, 5) == 25.852
    mobility = units.einstein_mobility_cm2_vs(102.0, 300.0)
    assert sig(mobility, 4) == 3946.0
    assert sig(mobility, 3) == 3950.0  # the paper's 3.94e3 is truncated, not rounded
    assert mobility == pytest.approx(3.94e3, rel=2e-3)


# -- fluence and N_abs -------------------------------------------------------------------------
def test_n_abs_0045_is_16_1_uj_cm2_and_4_69e13_photons() -> None:
    fluence = units.fluence_from_n_abs(0.045, 580.0, SIGMA_580)
    assert sig(fluence, 3) == 16.1
    photons = units.photon_fluence_cm2(fluence, 580.0)
    assert sig(photons, 3) == 4.69e13
    assert units.n_abs_from_fluence(fluence, 580.0, SIGMA_580) == pytest.approx(0.045, rel=1e-12)
    assert SIGMA_580 * photons == pytest.approx(0.045, rel=1e-12)


def test_photon_energy_at_580_nm() -> None:
    assert sig(units.photon_energy_j(580.0), 5) == 3.4249e-19


def test_peak_fluence_of_gaussian_spot() -> None:
    # 1 µW at 1 MHz = 1 pJ in σ = 141 nm: F0 = E/(2πσ²)
    energy = units.pulse_energy_j(1e-6, 1e6)
    assert energy == pytest.approx(1e-12, rel=1e-15)
    assert sig(units.peak_fluence_uj_cm2(energy, 141.0), 5) == 800.54


def test_mean_fluence_is_half_peak_and_the_excitation_weighted_mean() -> None:
    energy, sigma = 2.5e-12, 150.0
    peak = units.peak_fluence_uj_cm2(energy, sigma)
    mean = units.mean_fluence_uj_cm2(energy, sigma)
    assert mean == pytest.approx(peak / 2, rel=1e-15)
    # numerically: ∫F² dA / ∫F dA over a Gaussian spot; and ∫F dA = E
    x = np.linspace(-8 * sigma, 8 * sigma, 801)
    xx, yy = np.meshgrid(x, x)
    f = peak * np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    assert float((f**2).sum() / f.sum()) == pytest.approx(mean, rel=1e-9)
    d_area_cm2 = ((x[1] - x[0]) * 1e-7) ** 2
    assert float(f.sum()) * d_area_cm2 * 1e-6 == pytest.approx(energy, rel=1e-9)


def test_inverse_conversions_round_trip() -> None:
    energy = units.pulse_energy_for_peak_fluence(16.1, 141.0)
    assert units.peak_fluence_uj_cm2(energy, 141.0) == pytest.approx(16.1, rel=1e-14)
    for chopper in (False, True):
        power = units.power_for_pulse_energy(energy, 1e6, chopper)
        assert units.pulse_energy_j(power, 1e6, chopper) == pytest.approx(energy, rel=1e-14)


# -- chopper factor: applied exactly once -------------------------------------------------------
def test_power_behind_running_chopper_doubles_the_pulse_energy_once() -> None:
    assert units.pulse_energy_j(0.5e-6, 1e6, behind_chopper=True) == pytest.approx(1e-12)
    behind, direct = fixed_calibration(True), fixed_calibration(False)
    reading = 0.5e-6
    assert behind.pulse_energy_for_power(reading) == pytest.approx(1e-12, rel=1e-15)
    assert direct.pulse_energy_for_power(reading) == pytest.approx(0.5e-12, rel=1e-15)
    ratio = behind.fluence_for_power(reading) / direct.fluence_for_power(reading)
    assert ratio == pytest.approx(2.0, rel=1e-15)
    # and back: the power expected for a fluence is halved behind the chopper, once
    f = 16.1
    assert behind.power_for_fluence(f) == pytest.approx(direct.power_for_fluence(f) / 2, rel=1e-15)
    assert behind.fluence_for_power(behind.power_for_fluence(f)) == pytest.approx(f, rel=1e-14)


def test_n_abs_0045_at_141_nm_needs_this_meter_reading() -> None:
    cal = fixed_calibration(True)
    fluence = cal.fluence_for_n_abs(0.045)
    assert sig(fluence, 3) == 16.1
    # E = F0·2πσ², P_meter = E·f/2 behind the chopper
    expected = 16.1e-6 * 2 * math.pi * (141e-7) ** 2 * 1e6 / 2
    assert cal.power_for_fluence(16.1) == pytest.approx(expected, rel=1e-12)
    assert cal.n_abs_for_power(cal.power_for_fluence(fluence)) == pytest.approx(0.045, rel=1e-12)


# -- Moreels 2009 PbS sizing --------------------------------------------------------------------
def test_pbs_sizing_curve_and_its_inverse() -> None:
    # E0 = 0.41 + 1/(0.0252 d² + 0.283 d)
    assert sig(sizing.pbs_band_gap_ev(3.0), 5) == 1.3395
    assert sig(sizing.pbs_band_gap_ev(5.0), 4) == 0.8990
    for d in (2.0, 3.0, 4.5, 8.0):
        gap = sizing.pbs_band_gap_ev(d)
        assert sizing.pbs_diameter_nm(gap) == pytest.approx(d, rel=1e-12)
    # first exciton at 926 nm ↔ 3.0 nm dots
    assert sizing.pbs_diameter_from_exciton_nm(925.6) == pytest.approx(3.0, abs=0.01)


def test_pbs_cross_section_gives_the_papers_value_at_580_nm() -> None:
    # ε400 = 0.0233 d³ cm⁻¹µM⁻¹ → σ400 = ln10·ε·1000/N_A
    assert sig(sizing.pbs_cross_section_400_cm2(1.0), 4) == 8.909e-17
    assert sig(sizing.pbs_cross_section_400_cm2(3.0), 4) == 2.405e-15
    sigma = sizing.pbs_cross_section_cm2(3.0, 580.0, absorbance_ratio=0.40)
    assert sig(sigma, 2) == 9.6e-16
    assert sigma == pytest.approx(9.6e-16, rel=0.01)
    # volume scaling
    ratio = sizing.pbs_cross_section_400_cm2(6.0) / sizing.pbs_cross_section_400_cm2(3.0)
    assert ratio == pytest.approx(8.0, rel=1e-12)


def test_pbs_sizing_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="bulk gap"):
        sizing.pbs_diameter_nm(0.3)
    with pytest.raises(InputError, match="absorbance_ratio"):
        sizing.pbs_cross_section_cm2(3.0, 580.0)
    with pytest.raises(InputError, match="diameter_nm"):
        sizing.pbs_band_gap_ev(-1.0)
    assert sizing.pbs_cross_section_cm2(3.0, 400.0) == sizing.pbs_cross_section_400_cm2(3.0)
