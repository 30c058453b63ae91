"""Simulated attenuator, power meter, shutters, stage and wavelength selector agree."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import write_variant
from test_sim_support import sim_rig

from simulators.world import World
from tamrig import units
from tamrig.errors import ConfigError, DeviceFault, DeviceStateError
from tamrig.rig import build_rig


def test_hwp_cos2_law_with_finite_extinction() -> None:
    with sim_rig() as rig:
        att, world = rig.attenuator, World.of(rig)
        assert att is not None
        readings = {}
        for angle in (3.0, 25.5, 48.0):  # θ₀, θ₀ + 22.5°, θ₀ + 45° (crossed)
            att.set_setting(angle)
            readings[angle] = world.pump_transmission()
    assert readings[3.0] == pytest.approx(1.0)
    assert readings[25.5] == pytest.approx(1e-3 + (1 - 1e-3) * 0.5)
    assert readings[48.0] == pytest.approx(1e-3)  # finite extinction, never zero


def test_power_meter_agrees_with_attenuator_and_fluence_chain() -> None:
    """Meter reads P/2 behind the chopper; doubling once recovers the world's ⟨N_abs⟩."""
    with sim_rig() as rig:
        att, meter, world = rig.attenuator, rig.power_meter, World.of(rig)
        assert att is not None and meter is not None
        for angle in (3.0, 20.0, 35.0):
            att.set_setting(angle)
            power = meter.read_power_w()
            energy = units.pulse_energy_j(power, rig.settings.rep_rate_hz, behind_chopper=True)
            fluence = units.peak_fluence_uj_cm2(energy, world.pump_sigma_nm())
            n_abs = units.n_abs_from_fluence(fluence, 580.0, 9.6e-16)
            assert power == pytest.approx(world.pump_power_w() / 2, rel=0.005)
            assert n_abs == pytest.approx(world.n_abs(), rel=0.005)


def test_power_meter_noise_shrinks_with_averaging_and_costs_time() -> None:
    with sim_rig() as rig:
        meter, clock = rig.power_meter, World.of(rig).clock
        assert meter is not None and rig.attenuator is not None
        rig.attenuator.set_setting(3.0)  # full power: far above the noise floor
        spreads = {}
        for n in (1, 100):
            meter.averaging = n
            t0 = clock.now()
            values = np.array([meter.read_power_w() for _ in range(200)])
            assert clock.now() - t0 == pytest.approx(200 * n * 0.003)
            spreads[n] = values.std() / values.mean()
    assert spreads[1] == pytest.approx(0.01, rel=0.15)
    assert spreads[100] == pytest.approx(0.001, rel=0.15)


def test_power_meter_wavelength_correction_and_range() -> None:
    with sim_rig() as rig:
        meter = rig.power_meter
        assert meter is not None
        meter.averaging = 1000
        right = meter.read_power_w()
        meter.wavelength_nm = 800.0  # wrong setting: Si responsivity ∝ λ
        assert meter.read_power_w() == pytest.approx(right * 580 / 800, rel=0.005)
        with pytest.raises(DeviceFault, match="400-1100"):
            meter.wavelength_nm = 1300.0


def test_power_meter_over_range_is_an_error(tmp_path: Path) -> None:
    rig_file = write_variant(tmp_path, 'power_meter"\n', 'power_meter"\nmax_power_w = 1e-7\n')
    with sim_rig(rig_file) as rig:
        assert rig.attenuator is not None and rig.power_meter is not None
        rig.attenuator.set_setting(3.0)
        with pytest.raises(DeviceStateError, match="over range"):
            rig.power_meter.read_power_w()


def test_meter_without_chopper_reads_full_power(tmp_path: Path) -> None:
    rig_file = write_variant(tmp_path, "frame_rate_hz = 200.0", "chopper = false")
    with sim_rig(rig_file) as rig:
        meter, world = rig.power_meter, World.of(rig)
        assert meter is not None
        meter.averaging = 1000
        assert meter.read_power_w() == pytest.approx(world.pump_power_w(), rel=0.005)
        rig.camera.start()
        assert rig.camera.read(4).pump_on is None  # no chopper, no tag
        rig.camera.stop()


def test_stage_moves_take_time_and_delay_follows_position() -> None:
    with sim_rig() as rig:
        world = World.of(rig)
        t0 = world.clock.now()
        rig.stage.start_move(rig.settings.time_zero_mm + 10.0)
        assert rig.stage.is_moving()
        world.clock.sleep(0.05)  # 5 mm of the 10 mm move at 100 mm/s
        assert world.delay_fs() == pytest.approx(5.0 / units.stage_mm_per_fs(2), rel=1e-6)
        rig.stage.wait_until_stopped(5.0)
        assert world.clock.now() - t0 == pytest.approx(0.1 + 0.02)  # travel + settle
        assert not rig.stage.is_moving()


def test_filter_wheel_changes_wavelength_and_band() -> None:
    with sim_rig() as rig:
        wheel, world = rig.wavelength_selector, World.of(rig)
        assert wheel is not None
        assert wheel.set_wavelength_nm(690.0) == 690.0
        assert world.probe_wavelength_nm() == 690.0 and world.probe_bandwidth_nm() == 10.0
        with pytest.raises(DeviceFault, match="not available"):
            wheel.set_wavelength_nm(700.0)


def test_pump_shutter_interlock_and_safe_state() -> None:
    rig = build_rig(overrides={"time_scale": 0.0})
    with rig:
        rig.camera.start()
        rig.open_pump()
        assert World.of(rig).shutter_open("pump_shutter")
    assert not World.of(rig).shutter_open("pump_shutter")  # closed on the way out


def test_faults_table_is_validated_with_field_names(tmp_path: Path) -> None:
    bad = [
        ('device = "stage"\nkind = "stal"', "simulation.faults[0].kind"),
        ('device = "stage"\nkind = "stall"\nbogus = 1', "simulation.faults[0].bogus"),
        ('device = "stage"\nkind = "drop_frames"', "simulation.faults[0]"),
        ('device = "camera"\nkind = "timeout"\noperation = "fly"', "simulation.faults[0]"),
        ('device = "pump_shuter"\nkind = "timeout"', "simulation.faults[0]"),
    ]
    for i, (table, field) in enumerate(bad):
        text = f"[[simulation.faults]]\n{table}\n\n[devices.stage]\n"
        rig_file = write_variant(tmp_path, "[devices.stage]\n", text, f"{i}.toml")
        with pytest.raises(ConfigError) as info:
            build_rig(rig_file)
        assert info.value.field == field, table


def test_time_scale_one_sleeps_for_real() -> None:
    with sim_rig(time_scale=1.0) as rig:
        clock = World.of(rig).clock
        assert clock.time_scale == 1.0
        before = clock.now()
        rig.pump_shutter.close()  # 5 ms transit: virtual time follows the wall clock
        assert clock.now() - before >= 0.005
    assert not math.isnan(before)
