"""Fluence calibration on the simulated rig: law recovery, ⟨N_abs⟩ targets, drift, storage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SIM_RIG, write_variant
from pydantic import ValidationError

from tamrig.calibration import (
    CALIBRATION_DIR_ENV,
    FluenceCalibration,
    HwpLaw,
    SampleAbsorption,
    SweepOptions,
    apply_fluence,
    calibrate_fluence,
    calibration_path,
    check_drift,
    load_calibration,
    load_calibration_file,
    nominal_calibration,
    pump_sigma_nm,
    save_calibration,
)
from tamrig.calibration.fit import fit_hwp, hwp_power
from tamrig.errors import ConfigError, DeviceFault, DeviceStateError, InputError
from tamrig.rig import Rig, build_rig

SIGMA_NM = 141.0  # the simulated sample's σ₀ = the simulated pump spot
CROSS_SECTION = 9.6e-16


@pytest.fixture(autouse=True)
def calibration_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never write calibrations next to the repository's rig files."""
    folder = tmp_path / "calibrations"
    monkeypatch.setenv(CALIBRATION_DIR_ENV, str(folder))
    return folder


def connected(path: Path = SIM_RIG, **overrides: Any) -> Rig:
    rig = build_rig(path, overrides={"time_scale": 0.0, **overrides})
    rig.connect()
    return rig


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = connected()
    try:
        yield r
    finally:
        r.shutdown()


@pytest.fixture(scope="module")
def sim_calibration() -> FluenceCalibration:
    r = connected()
    try:
        return calibrate_fluence(r, pump_sigma_nm=SIGMA_NM, cross_section_cm2=CROSS_SECTION)
    finally:
        r.shutdown()


def world(rig: Rig) -> Any:
    return rig.devices["attenuator"].world  # type: ignore[attr-defined]


# -- recovering the simulated law ----------------------------------------------------------------
def test_sweep_recovers_the_simulated_hwp_law(sim_calibration: FluenceCalibration) -> None:
    law = sim_calibration.law
    assert isinstance(law, HwpLaw)
    # rig file: theta0_deg = 3.0, extinction = 1e-3; meter behind the chopper reads P/2
    assert law.theta0_err_deg < 0.01
    assert abs(law.theta0_deg - 3.0) < 4 * law.theta0_err_deg
    assert law.extinction_err < 5e-5
    assert abs(law.extinction - 1e-3) < 4 * law.extinction_err
    assert abs(law.p_max_w - 0.5e-6) < 4 * law.p_max_err_w
    assert sim_calibration.reduced_chi2 is not None and 0.5 < sim_calibration.reduced_chi2 < 2.0
    # the read-back through the fitted inverse lands on its targets
    assert len(sim_calibration.verification) == 3
    for check in sim_calibration.verification:
        assert abs(check.deviation) < 0.01
        assert abs(check.measured_power_w - check.target_power_w) < 5 * max(
            check.measured_err_w, 1e-11
        )
    # the branch starts at a maximum and avoids both flat ends by the margin
    assert law.branch_start_deg == pytest.approx(law.theta0_deg)
    assert law.setting_limits() == pytest.approx((law.theta0_deg + 2, law.theta0_deg + 43))


def test_sweep_recovers_another_law_from_another_rig_file(tmp_path: Path) -> None:
    path = write_variant(
        tmp_path, "theta0_deg = 3.0\nextinction = 1.0e-3", "theta0_deg = -17.5\nextinction = 5.0e-3"
    )
    r = connected(path)
    try:
        cal = calibrate_fluence(r, SweepOptions(points=20, repeats=4))
        law = cal.law
        assert isinstance(law, HwpLaw)
        assert abs(law.theta0_deg + 17.5) < 4 * law.theta0_err_deg
        assert abs(law.extinction - 5e-3) < 4 * law.extinction_err
        lo, hi = law.setting_limits()
        assert 0.0 <= lo < hi <= 360.0  # a branch inside the rotator's range
        # the attenuator was left at the lowest power of the branch
        assert r.attenuator is not None
        assert r.attenuator.setting() == pytest.approx(law.lowest_power_setting())
    finally:
        r.shutdown()


def test_fit_errors_are_honest_on_synthetic_sweeps() -> None:
    """Pull distribution of θ0 and P_min over many noisy sweeps has unit width."""
    rng = np.random.default_rng(7)
    theta = np.concatenate([np.linspace(0, 90, 12, endpoint=False), np.linspace(7, 48, 25)])
    truth = (2e-9, 1e-6, 5.0)
    clean = hwp_power(theta, *truth)
    sigma = np.sqrt((2e-3 * clean) ** 2 + 5e-11**2)
    pulls = []
    for _ in range(300):
        fit = fit_hwp(theta, clean + rng.normal(0, sigma), sigma)
        err = fit.errors
        pulls.append([(fit.p_min_w - truth[0]) / err[0], (fit.theta0_deg - truth[2]) / err[2]])
    spread = np.std(np.array(pulls), axis=0)
    assert np.all((spread > 0.85) & (spread < 1.15)), spread


# -- inverse mapping and targets -----------------------------------------------------------------
def test_inverse_mapping_round_trips_on_the_branch(sim_calibration: FluenceCalibration) -> None:
    lo, hi = sim_calibration.reachable_fluence()
    assert hi == sim_calibration.max_fluence_uj_cm2  # capped by the rig's interlock (200)
    law = sim_calibration.law
    assert isinstance(law, HwpLaw)
    a, b = law.setting_limits()
    for f in np.geomspace(lo, hi, 9):
        setting = sim_calibration.setting_for_fluence(float(f))
        assert a - 1e-9 <= setting <= b + 1e-9
        assert sim_calibration.fluence_for_setting(setting) == pytest.approx(f, rel=1e-9)
    n = sim_calibration.n_abs_for_fluence(16.1)
    assert sim_calibration.setting_for_n_abs(n) == pytest.approx(
        sim_calibration.setting_for_fluence(16.1), abs=1e-9
    )


def test_n_abs_targets_are_met_on_the_simulated_rig(
    rig: Rig, sim_calibration: FluenceCalibration
) -> None:
    for target in (0.045, 0.09, 0.18, 0.3):
        point = apply_fluence(rig, sim_calibration, n_abs=target)
        assert point.measured_n_abs is not None
        assert point.measured_n_abs == pytest.approx(target, rel=0.02)
        # the sample really receives it (the simulator's own ⟨N_abs⟩, chopper-free)
        assert world(rig).n_abs() == pytest.approx(target, rel=0.02)
        assert point.warning is None
        assert point.measured_power_w == pytest.approx(point.expected_power_w, rel=0.02)


def test_fluence_target_uses_the_measured_meter_reading_once(
    rig: Rig, sim_calibration: FluenceCalibration
) -> None:
    point = apply_fluence(rig, sim_calibration, fluence_uj_cm2=16.1)
    assert point.measured_fluence_uj_cm2 == pytest.approx(16.1, rel=0.02)
    assert world(rig).peak_fluence_uj_cm2() == pytest.approx(16.1, rel=0.02)
    # the meter reads half the power the sample gets (running chopper)
    assert point.measured_power_w == pytest.approx(world(rig).pump_power_w() / 2, rel=0.02)


def test_drift_beyond_tolerance_warns(rig: Rig, sim_calibration: FluenceCalibration) -> None:
    target = 30.0
    power = sim_calibration.power_for_fluence(target)
    assert check_drift(sim_calibration, target, power * 1.03, tolerance=0.05) is None
    message = check_drift(sim_calibration, target, power * 0.9, tolerance=0.05)
    assert message is not None and "-10.0%" in message and "N_abs" in message
    assert check_drift(sim_calibration, target, float("nan")) == (
        "pump power reading is not a number (nan); fluence unknown"
    )
    with pytest.raises(InputError):
        check_drift(sim_calibration, target, power, tolerance=0.0)
    # the laser loses 15 % after the calibration: the next point warns
    w = world(rig)
    w.settings = w.settings.model_copy(update={"pump_power_max_w": 0.85e-6})
    point = apply_fluence(rig, sim_calibration, n_abs=0.09)
    assert point.warning is not None and "drift" in point.warning
    assert point.measured_n_abs == pytest.approx(0.09 * 0.85, rel=0.03)


# -- bad input -----------------------------------------------------------------------------------
def test_unreachable_targets_are_input_errors(sim_calibration: FluenceCalibration) -> None:
    lo, _ = sim_calibration.reachable_fluence()
    with pytest.raises(InputError, match="cannot be reached") as info:
        sim_calibration.setting_for_fluence(lo / 2)
    assert info.value.exit_code == 2
    with pytest.raises(InputError, match="interlock"):
        sim_calibration.setting_for_fluence(250.0)
    with pytest.raises(InputError, match="positive"):
        sim_calibration.setting_for_n_abs(-0.1)
    bare = sim_calibration.model_copy(update={"cross_section_cm2": None, "pump_sigma_nm": None})
    with pytest.raises(InputError, match="cross_section_cm2"):
        bare.with_sample(pump_sigma_nm=141.0).setting_for_n_abs(0.045)
    with pytest.raises(InputError, match="pump_sigma_nm"):
        bare.setting_for_fluence(16.1)


def test_rig_without_power_meter_is_a_config_error(tmp_path: Path) -> None:
    text = SIM_RIG.read_text()
    start = text.index("[devices.power_meter]")
    end = text.index("[devices.attenuator]")
    path = tmp_path / "no-meter.toml"
    path.write_text(text[:start] + text[end:])
    r = connected(path)
    try:
        with pytest.raises(ConfigError) as info:
            calibrate_fluence(r)
        assert "devices.power_meter" in str(info.value) and str(path) in str(info.value)
        assert info.value.exit_code == 2
    finally:
        r.shutdown()


def test_bad_sweep_options_are_input_errors(rig: Rig) -> None:
    for options in (
        SweepOptions(points=2),
        SweepOptions(repeats=0),
        SweepOptions(margin_deg=30.0),
        SweepOptions(coarse_points=3),
        SweepOptions(sweep_deg=(-10.0, 40.0)),
    ):
        with pytest.raises(InputError):
            calibrate_fluence(rig, options)


# -- device faults -------------------------------------------------------------------------------
def test_meter_fault_propagates_with_the_pump_shutter_closed(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    meter = rig.power_meter
    assert meter is not None
    calls = {"n": 0}
    original = meter.read_power_w

    def flaky() -> float:
        calls["n"] += 1
        if calls["n"] > 10:
            raise DeviceStateError(meter.name, "sensor saturated")
        return original()

    monkeypatch.setattr(meter, "read_power_w", flaky)
    with pytest.raises(DeviceFault, match="saturated") as info:
        calibrate_fluence(rig)
    assert info.value.exit_code == 1
    assert not rig.pump_shutter.is_open()


def test_attenuator_without_effect_is_a_device_fault(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "extinction = 1.0e-3", "extinction = 0.9")
    r = connected(path)
    try:
        with pytest.raises(DeviceFault, match="hardly changes"):
            calibrate_fluence(r)
    finally:
        r.shutdown()


# -- the pump shutter during the sweep ------------------------------------------------------------
def _record_shutter(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    meter = rig.power_meter
    assert meter is not None
    seen: list[bool] = []
    original = meter.read_power_w

    def reading() -> float:
        seen.append(rig.pump_shutter.is_open())
        return original()

    monkeypatch.setattr(meter, "read_power_w", reading)
    return seen


def test_pump_shutter_stays_closed_for_a_pick_off_meter(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _record_shutter(rig, monkeypatch)
    calibration = calibrate_fluence(rig, SweepOptions(points=8, repeats=2))
    assert seen and not any(seen)
    assert calibration.pump_shutter_open is False


def test_meter_behind_the_shutter_opens_it_only_for_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_variant(
        tmp_path,
        "power_behind_chopper = true",
        "power_behind_chopper = true\npower_meter_behind_shutter = true",
    )
    r = connected(path)
    try:
        seen = _record_shutter(r, monkeypatch)
        calibration = calibrate_fluence(r, SweepOptions(points=8, repeats=2))
        assert seen and all(seen)
        assert calibration.pump_shutter_open is True
        assert not r.pump_shutter.is_open()
    finally:
        r.shutdown()


def test_meter_wavelength_correction_is_set_to_the_pump(rig: Rig) -> None:
    meter = rig.power_meter
    assert meter is not None
    meter.wavelength_nm = 905.0
    calibration = calibrate_fluence(rig, SweepOptions(points=8, averaging=30))
    assert meter.wavelength_nm == 580.0 == calibration.meter_wavelength_nm
    assert meter.averaging == 30 == calibration.meter_averaging


# -- storage -------------------------------------------------------------------------------------
def test_json_file_and_dict_round_trip(
    rig: Rig, sim_calibration: FluenceCalibration, calibration_dir: Path
) -> None:
    path = save_calibration(sim_calibration, calibration_path(rig))
    assert path == calibration_dir / "simulated-tam-rig.json"
    loaded = load_calibration(rig)
    assert loaded == sim_calibration
    # the dict stored in every scan file survives JSON and validates back
    as_dict = json.loads(json.dumps(sim_calibration.model_dump(mode="json"), allow_nan=False))
    assert FluenceCalibration.model_validate(as_dict) == sim_calibration
    assert FluenceCalibration.model_validate(sim_calibration.model_dump()) == sim_calibration


def test_load_calibration_without_file_is_none(rig: Rig) -> None:
    assert load_calibration(rig) is None


def test_bad_calibration_files_name_file_and_field(
    rig: Rig, sim_calibration: FluenceCalibration, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(InputError, match="not JSON") as info:
        load_calibration_file(garbage)
    assert str(garbage) in str(info.value) and info.value.exit_code == 2

    data = sim_calibration.model_dump(mode="json")
    data["law"]["theta0_deg"] = "three"
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"law\.hwp\.theta0_deg|law\.theta0_deg"):
        load_calibration_file(wrong)

    other = sim_calibration.model_copy(update={"pump_wavelength_nm": 620.0})
    stale = save_calibration(other, tmp_path / "stale.json")
    with pytest.raises(InputError, match="pump_wavelength_nm"):
        load_calibration(rig, stale)
    with pytest.raises(InputError, match="not found"):
        load_calibration(rig, tmp_path / "missing.json")


def test_nominal_calibration_prefers_the_saved_file(
    rig: Rig, sim_calibration: FluenceCalibration, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = nominal_calibration(rig, pump_sigma_nm=SIGMA_NM, cross_section_cm2=CROSS_SECTION)
    assert isinstance(quick.law, HwpLaw) and abs(quick.law.theta0_deg - 3.0) < 0.05
    assert quick.setting_for_n_abs(0.045) == pytest.approx(
        sim_calibration.setting_for_n_abs(0.045), abs=0.05
    )
    save_calibration(sim_calibration, calibration_path(rig))
    saved = nominal_calibration(rig)
    assert saved.created == sim_calibration.created
    monkeypatch.delenv(CALIBRATION_DIR_ENV)
    monkeypatch.setenv(CALIBRATION_DIR_ENV, str(Path(calibration_path(rig)).parent / "empty"))
    monkeypatch.setattr("tamrig.calibration.nominal.is_simulated", lambda rig: False)
    with pytest.raises(InputError, match="no fluence calibration"):
        nominal_calibration(rig)


def test_meter_behind_the_shutter_is_zeroed_with_the_shutter_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_variant(
        tmp_path,
        "power_behind_chopper = true",
        "power_behind_chopper = true\npower_meter_behind_shutter = true",
    )
    r = connected(path)
    try:
        meter = r.power_meter
        assert meter is not None
        zeroed: list[bool] = []
        monkeypatch.setattr(meter, "zero", lambda: zeroed.append(r.pump_shutter.is_open()))
        calibration = calibrate_fluence(r, SweepOptions(points=8, repeats=2))
        assert zeroed == [False]
        assert calibration.meter_zeroed
    finally:
        r.shutdown()


# -- sample settings ---------------------------------------------------------------------------
def test_sample_absorption_from_cross_section_or_pbs_size() -> None:
    direct = SampleAbsorption(cross_section_cm2=9.6e-16)
    assert direct.cross_section_at(580.0) == 9.6e-16
    by_size = SampleAbsorption(pbs_diameter_nm=3.0, absorbance_ratio=0.4)
    assert by_size.cross_section_at(580.0) == pytest.approx(9.6e-16, rel=0.01)
    exciton = sizing_exciton_nm(3.0)
    by_peak = SampleAbsorption(pbs_exciton_nm=exciton, absorbance_ratio=0.4)
    assert by_peak.cross_section_at(580.0) == pytest.approx(by_size.cross_section_at(580.0))
    for bad in (
        {},
        {"cross_section_cm2": 1e-15, "pbs_diameter_nm": 3.0},
        {"cross_section_cm2": 1e-15, "absorbance_ratio": 0.4},
        {"cross_section_cm2": -1.0},
    ):
        with pytest.raises(ValidationError):
            SampleAbsorption.model_validate(bad)
    with pytest.raises(InputError, match="absorbance_ratio"):
        SampleAbsorption(pbs_diameter_nm=3.0).cross_section_at(580.0)


def sizing_exciton_nm(diameter_nm: float) -> float:
    from tamrig.calibration.sizing import HC_EV_NM, pbs_band_gap_ev

    return HC_EV_NM / pbs_band_gap_ev(diameter_nm)


def test_pump_sigma_from_rig_setting_or_measured_sigma0(tmp_path: Path) -> None:
    plain = build_rig(SIM_RIG).settings
    assert plain.pump_sigma_nm is None
    assert pump_sigma_nm(plain, 139.5) == 139.5
    with pytest.raises(InputError, match=r"rig\.pump_sigma_nm"):
        pump_sigma_nm(plain)
    path = write_variant(
        tmp_path, "pixel_size_nm = 50.0", "pixel_size_nm = 50.0\npump_sigma_nm = 133.0"
    )
    fixed = build_rig(path).settings
    assert pump_sigma_nm(fixed, 139.5) == 133.0  # the rig's measured focus wins


def test_dark_meter_is_a_device_fault() -> None:
    r = connected(pump_power_max_w=1e-15)  # only the meter's noise floor is left
    try:
        with pytest.raises(DeviceFault, match="no pump power above its noise") as info:
            calibrate_fluence(r)
        assert info.value.exit_code == 1
        assert not r.pump_shutter.is_open()
    finally:
        r.shutdown()


def test_explicit_branch_sweep_with_single_readings(rig: Rig) -> None:
    """No coarse pass, one reading per angle: errors come from the residual scatter."""
    cal = calibrate_fluence(rig, SweepOptions(sweep_deg=(5.0, 46.0), points=30, repeats=1))
    law = cal.law
    assert isinstance(law, HwpLaw)
    assert len(cal.points) == 30 and cal.reduced_chi2 is None
    assert 0 < law.theta0_err_deg < 0.02
    assert abs(law.theta0_deg - 3.0) < 4 * law.theta0_err_deg
    assert abs(law.extinction - 1e-3) < 4 * law.extinction_err
    assert cal.rms_residual_w is not None
    assert cal.points[0].power_err_w == pytest.approx(cal.rms_residual_w, rel=0.2)
