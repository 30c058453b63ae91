"""The engine's per-point reading conversion gives the calibration's numbers to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from tamrig.calibration import FluenceCalibration, HwpLaw
from tamrig.calibration.reading import ReadingToFluence, reading_to_fluence
from tamrig.errors import InputError


def _calibration(rng: np.random.Generator, behind_chopper: bool) -> FluenceCalibration:
    law = HwpLaw(
        theta0_deg=0.0,
        theta0_err_deg=0.0,
        p_min_w=1e-10,
        p_min_err_w=0.0,
        p_max_w=5e-7,
        p_max_err_w=0.0,
        covariance=[[0.0] * 3 for _ in range(3)],
        branch_start_deg=0.0,
        branch_end_deg=45.0,
    )
    return FluenceCalibration(
        rig_name="test",
        created="2026-01-01T00:00:00+00:00",
        pump_wavelength_nm=float(rng.uniform(400, 1200)),
        meter_wavelength_nm=580.0,
        meter_averaging=1,
        rep_rate_hz=float(10 ** rng.uniform(3, 8)),
        power_behind_chopper=behind_chopper,
        max_fluence_uj_cm2=1000.0,
        pump_sigma_nm=float(rng.uniform(50, 2000)),
        cross_section_cm2=float(10 ** rng.uniform(-17, -14)),
        law=law,
    )


@pytest.mark.parametrize("behind_chopper", [False, True])
def test_same_fluence_and_n_abs_as_the_calibration_to_the_bit(behind_chopper: bool) -> None:
    rng = np.random.default_rng(17 + behind_chopper)
    for _ in range(50):
        cal = _calibration(rng, behind_chopper)
        fast = reading_to_fluence(cal)
        assert isinstance(fast, ReadingToFluence)
        for power in 10 ** rng.uniform(-9, -2, size=20):
            fluence = fast.fluence_for_power(float(power))
            assert fluence == cal.fluence_for_power(float(power))
            assert fast.n_abs_for_fluence(fluence) == cal.n_abs_for_fluence(fluence)


def test_unknown_spot_or_cross_section_keeps_the_calibration_and_its_error() -> None:
    cal = _calibration(np.random.default_rng(1), False)
    for missing in ("pump_sigma_nm", "cross_section_cm2"):
        partial = cal.model_copy(update={missing: None})
        assert reading_to_fluence(partial) is partial
    no_spot = cal.model_copy(update={"pump_sigma_nm": None})
    with pytest.raises(InputError, match="pump spot size"):
        reading_to_fluence(no_spot).fluence_for_power(1e-6)
