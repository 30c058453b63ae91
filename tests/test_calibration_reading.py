"""The engine's per-point reading conversion gives the calibration's numbers to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_support import fixed_calibration

from tamrig.calibration import FluenceCalibration
from tamrig.calibration.reading import ReadingToFluence, reading_to_fluence
from tamrig.errors import InputError


def _calibration(rng: np.random.Generator, behind_chopper: bool) -> FluenceCalibration:
    """A calibration with random pump wavelength, repetition rate, spot and cross-section."""
    return fixed_calibration(
        behind_chopper,
        pump_wavelength_nm=float(rng.uniform(400, 1200)),
        rep_rate_hz=float(10 ** rng.uniform(3, 8)),
        pump_sigma_nm=float(rng.uniform(50, 2000)),
        cross_section_cm2=float(10 ** rng.uniform(-17, -14)),
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
