"""A fluence calibration with fixed, simple numbers for tests of the conversions."""

from __future__ import annotations

from typing import Any

from tamrig.calibration import FluenceCalibration, HwpLaw

SIGMA_580 = 9.6e-16  # cm², 3 nm PbS at 580 nm (a sample setting)


def fixed_calibration(behind_chopper: bool, **fields: Any) -> FluenceCalibration:
    """580 nm pump and meter, 1 MHz, σ 141 nm, 3 nm PbS; ``fields`` replace any of them."""
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
    values: dict[str, Any] = {
        "rig_name": "test",
        "created": "2026-01-01T00:00:00+00:00",
        "pump_wavelength_nm": 580.0,
        "meter_wavelength_nm": 580.0,
        "meter_averaging": 1,
        "rep_rate_hz": 1e6,
        "power_behind_chopper": behind_chopper,
        "max_fluence_uj_cm2": 1000.0,
        "pump_sigma_nm": 141.0,
        "cross_section_cm2": SIGMA_580,
        "law": law,
    }
    return FluenceCalibration(**{**values, **fields})  # validated as any calibration
