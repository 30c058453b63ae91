"""Deterministic conversions to the digits of docs/simulator.md, through the simulated rig too."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import write_variant
from test_sim_support import sim_rig

from simulators.world import World
from tamrig import units


def test_double_pass_stage_travel_per_delay() -> None:
    assert units.stage_mm_per_fs(2) * 1e3 == pytest.approx(0.149896, abs=5e-7)  # µm per fs
    assert units.stage_mm_per_fs(2) * 1e3 * 1000 == pytest.approx(149.9, abs=0.05)  # µm per ps
    assert units.delay_fs_to_stage_mm(2e6, 0.0, 2) == pytest.approx(299.79, abs=0.005)


def test_quad_pass_stage_travel_per_delay() -> None:
    assert units.stage_mm_per_fs(4) * 1e6 == pytest.approx(74.95, abs=0.005)  # nm per fs


@pytest.mark.parametrize(("passes", "um_per_fs"), [(2, 0.149896), (4, 0.074948)])
def test_simulated_delay_follows_stage_position_passes_and_time_zero(
    tmp_path: Path, passes: int, um_per_fs: float
) -> None:
    rig_file = write_variant(tmp_path, "passes = 2", f"passes = {passes}")
    with sim_rig(rig_file) as rig:
        world = World.of(rig)
        t0 = rig.settings.time_zero_mm
        assert t0 != 0.0
        assert world.delay_fs() == pytest.approx(0.0, abs=1e-9)  # the stage starts at zero
        rig.stage.move_to(t0 + 1.5)  # 1.5 mm further out
        assert world.delay_fs() == pytest.approx(1500.0 / um_per_fs, rel=2e-6)
        assert rig.set_delay_fs(-1000.0) == pytest.approx(-1000.0, abs=1e-6)
        assert rig.stage.position_mm() == pytest.approx(t0 - 1000 * um_per_fs * 1e-3, abs=5e-7)
        assert world.delay_fs() == pytest.approx(-1000.0, abs=1e-6)


def test_fluence_and_n_abs_digits() -> None:
    f0 = units.fluence_from_n_abs(0.045, 580.0, 9.6e-16)
    assert f0 == pytest.approx(16.1, abs=0.05)
    j0 = f0 * 1e-6 / units.photon_energy_j(580.0)
    assert j0 == pytest.approx(4.69e13, rel=1e-3)
    assert units.n_abs_from_fluence(16.1, 580.0, 9.6e-16) == pytest.approx(0.045, abs=2e-4)


def test_einstein_mobility_digits() -> None:
    assert units.thermal_voltage_v(300.0) * 1e3 == pytest.approx(25.852, abs=5e-4)
    assert units.einstein_mobility_cm2_vs(102.0, 300.0) == pytest.approx(3.946e3, abs=0.5)


def test_world_n_abs_from_rig_settings_and_pump_power() -> None:
    """⟨N_abs⟩ from power: E = P/f_rep, F₀ = E/(2πσ_p²), N = σ_abs F₀/(hc/λ) — no chopper factor."""
    sigma_cm = 141e-7
    energy = 16.1e-6 * 2 * math.pi * sigma_cm**2  # pulse energy of F₀ = 16.1 µJ/cm²
    with sim_rig(pump_power_max_w=energy * 1e6) as rig:
        world = World.of(rig)
        assert rig.attenuator is not None
        rig.attenuator.set_setting(rig.attenuator.settings.theta0_deg)  # type: ignore[attr-defined]
        assert world.pump_transmission() == pytest.approx(1.0)
        assert world.pump_sigma_nm() == 141.0
        assert world.peak_fluence_uj_cm2() == pytest.approx(16.1, rel=1e-9)
        assert world.n_abs() == pytest.approx(0.045, abs=2e-4)


def test_pump_spot_sigma_from_the_rig_file_sets_the_fluence(tmp_path: Path) -> None:
    rig_file = write_variant(tmp_path, "temperature_k = 300.0", "pump_sigma_nm = 282.0")
    with sim_rig() as rig141, sim_rig(rig_file) as rig282:
        n141, n282 = World.of(rig141).n_abs(), World.of(rig282).n_abs()
    assert n141 / n282 == pytest.approx(4.0, rel=1e-9)  # F₀ ∝ 1/σ_p²


def test_time_zero_error_shifts_the_true_delay() -> None:
    with sim_rig(time_zero_error_fs=35.0) as rig:
        rig.set_delay_fs(300.0)
        assert rig.delay_fs() == pytest.approx(300.0)  # what the rig believes
        assert World.of(rig).delay_fs() == pytest.approx(265.0)  # what the sample sees
