"""A discrete ND-filter wheel is calibrated as a table of slot powers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import SIM_RIG

from tamrig.calibration import (
    CALIBRATION_DIR_ENV,
    TableLaw,
    apply_fluence,
    calibrate_fluence,
    calibration_path,
    load_calibration,
    save_calibration,
)
from tamrig.devices import Attenuator
from tamrig.errors import InputError
from tamrig.rig import Rig, build_rig

OD = {1: 0.0, 2: 0.3, 3: 0.6, 4: 1.0, 5: 1.3, 6: 2.0}


class NdWheel(Attenuator):
    """Six ND filters; the simulated world asks it for the transmission it imposes."""

    kind: ClassVar[Any] = "discrete"

    def __init__(self) -> None:
        super().__init__("attenuator")
        self.slot = 6

    @property
    def setting_range(self) -> tuple[float, float]:
        return (1.0, 6.0)

    def setting(self) -> float:
        return float(self.slot)

    def set_setting(self, value: float, timeout_s: float = 10.0) -> float:
        self.check_setting(value)
        self.slot = int(value)
        return float(self.slot)

    def transmission(self) -> float:
        return float(10.0 ** -OD[self.slot])

    def _connect(self) -> None:
        pass

    def _disconnect(self) -> None:
        pass

    def _identify(self) -> str:
        return "test ND wheel"

    def _status(self) -> dict[str, Any]:
        return {"slot": self.slot}


@pytest.fixture
def wheel_rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv(CALIBRATION_DIR_ENV, str(tmp_path))
    rig = build_rig(SIM_RIG, overrides={"time_scale": 0.0})
    world = rig.devices["attenuator"].world  # type: ignore[attr-defined]
    wheel = NdWheel()
    rig.devices["attenuator"] = wheel
    world.register("attenuator", wheel)
    rig.connect()
    try:
        yield rig
    finally:
        rig.shutdown()


def test_every_slot_is_measured(wheel_rig: Rig) -> None:
    cal = calibrate_fluence(wheel_rig, pump_sigma_nm=141.0, cross_section_cm2=9.6e-16)
    assert isinstance(cal.law, TableLaw)
    assert [e.setting for e in cal.law.entries] == [1, 2, 3, 4, 5, 6]
    top = cal.law.entries[0].power_w
    for entry in cal.law.entries:
        assert entry.power_w / top == pytest.approx(10.0 ** -OD[entry.setting], rel=0.01)
        assert entry.power_err_w > 0
    assert wheel_rig.attenuator is not None and wheel_rig.attenuator.setting() == 6.0
    # nearest slot for a target within tolerance; the rest is refused before anything moves
    f4 = cal.fluence_for_setting(4)
    assert f4 == pytest.approx(80.0, rel=0.01)  # 800 µJ/cm² open, OD 1
    assert cal.setting_for_fluence(f4 * 1.05) == 4.0
    with pytest.raises(InputError, match="no slot"):
        cal.setting_for_fluence(f4 * 1.4)
    # the nearest slot may overshoot the interlock even when the target does not
    capped = cal.model_copy(update={"max_fluence_uj_cm2": f4 * 0.99})
    with pytest.raises(InputError, match="interlock"):
        capped.setting_for_fluence(f4 * 0.97)
    point = apply_fluence(wheel_rig, cal, fluence_uj_cm2=f4)
    assert point.setting == 4.0 and point.warning is None
    # the saved table reloads; a wheel calibration is refused for a rotating plate
    save_calibration(cal, calibration_path(wheel_rig))
    assert load_calibration(wheel_rig) == cal


def test_table_calibration_is_refused_for_a_continuous_attenuator(
    wheel_rig: Rig, tmp_path: Path
) -> None:
    cal = calibrate_fluence(wheel_rig)
    path = save_calibration(cal, tmp_path / "wheel.json")
    plate_rig = build_rig(SIM_RIG, overrides={"time_scale": 0.0})
    with plate_rig, pytest.raises(InputError, match="discrete attenuator calibration"):
        load_calibration(plate_rig, path)
