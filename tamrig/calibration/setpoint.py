"""Setting a fluence point on the rig and checking the power that really arrives.

The scan engine calls :func:`apply_fluence` for each fluence of a plan (given as a peak
fluence or as ⟨N_abs⟩), stores ``measured_power_w`` with every point and shows
``warning`` (GUI banner / CLI log) when the measured fluence drifts from the target.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from tamrig.calibration.model import FluenceCalibration
from tamrig.errors import InputError
from tamrig.rig import Rig

log = logging.getLogger(__name__)

DEFAULT_DRIFT_TOLERANCE = 0.05  # relative fluence mismatch that triggers a warning


def measured_fluence_deviation(
    calibration: FluenceCalibration, target_fluence_uj_cm2: float, measured_power_w: float
) -> float:
    """Relative deviation F(measured power)/F_target − 1."""
    return calibration.fluence_for_power(measured_power_w) / target_fluence_uj_cm2 - 1.0


def check_drift(
    calibration: FluenceCalibration,
    target_fluence_uj_cm2: float,
    measured_power_w: float,
    tolerance: float = DEFAULT_DRIFT_TOLERANCE,
) -> str | None:
    """A warning text when the measured fluence is off the target by more than ``tolerance``."""
    if not (tolerance > 0 and math.isfinite(tolerance)):
        raise InputError(
            f"tolerance {tolerance}", field="tolerance", expected="a positive fraction"
        )
    if not (target_fluence_uj_cm2 > 0 and math.isfinite(target_fluence_uj_cm2)):
        raise InputError(
            f"target fluence {target_fluence_uj_cm2}", field="fluence", expected="positive µJ/cm²"
        )
    if not math.isfinite(measured_power_w):
        return f"pump power reading is not a number ({measured_power_w}); fluence unknown"
    deviation = measured_fluence_deviation(calibration, target_fluence_uj_cm2, measured_power_w)
    if abs(deviation) <= tolerance:
        return None
    measured = calibration.fluence_for_power(measured_power_w)
    text = (
        f"pump fluence drift: measured {measured:.4g} µJ/cm² vs target "
        f"{target_fluence_uj_cm2:.4g} µJ/cm² ({deviation:+.1%}, tolerance ±{tolerance:.0%})"
    )
    if calibration.cross_section_cm2 is not None:
        text += (
            f"; ⟨N_abs⟩ {calibration.n_abs_for_fluence(measured):.3g} vs "
            f"{calibration.n_abs_for_fluence(target_fluence_uj_cm2):.3g}"
        )
    return text + "; recalibrate with `tamrig calibrate fluence` if it persists"


@dataclass(frozen=True)
class FluenceSetpoint:
    """What :func:`apply_fluence` did and measured."""

    target_fluence_uj_cm2: float
    target_n_abs: float | None
    setting: float
    expected_power_w: float
    measured_power_w: float | None
    measured_fluence_uj_cm2: float | None
    measured_n_abs: float | None
    warning: str | None


def apply_fluence(
    rig: Rig,
    calibration: FluenceCalibration,
    *,
    fluence_uj_cm2: float | None = None,
    n_abs: float | None = None,
    tolerance: float = DEFAULT_DRIFT_TOLERANCE,
    measure: bool = True,
) -> FluenceSetpoint:
    """Move the attenuator to a target peak fluence or ⟨N_abs⟩ and read the power there.

    Raises InputError for an unreachable target (before anything moves); device faults
    propagate. The meter's wavelength correction is set to the calibration's if it differs.
    """
    if (fluence_uj_cm2 is None) == (n_abs is None):
        raise InputError(
            "give either a fluence or an ⟨N_abs⟩", field="fluence", expected="exactly one target"
        )
    if n_abs is not None:
        target = calibration.fluence_for_n_abs(n_abs)
        setting = calibration.setting_for_n_abs(n_abs)
    else:
        assert fluence_uj_cm2 is not None
        target = fluence_uj_cm2
        setting = calibration.setting_for_fluence(fluence_uj_cm2)
    attenuator = rig.attenuator
    if attenuator is None:
        raise InputError(
            "this rig has no attenuator", file=rig.loaded.path, field="devices.attenuator"
        )
    reached = attenuator.set_setting(setting)
    expected = calibration.power_for_setting(reached)
    measured = fluence = n_measured = warning = None
    meter = rig.power_meter
    if measure and meter is not None:
        if abs(meter.wavelength_nm - calibration.meter_wavelength_nm) > 1e-9:
            meter.wavelength_nm = calibration.meter_wavelength_nm
        measured = meter.read_power_w()
        fluence = calibration.fluence_for_power(measured)
        if calibration.cross_section_cm2 is not None:
            n_measured = calibration.n_abs_for_fluence(fluence)
        warning = check_drift(calibration, target, measured, tolerance)
        if warning:
            log.warning(warning)
    return FluenceSetpoint(
        target_fluence_uj_cm2=target,
        target_n_abs=n_abs,
        setting=reached,
        expected_power_w=expected,
        measured_power_w=measured,
        measured_fluence_uj_cm2=fluence,
        measured_n_abs=n_measured,
        warning=warning,
    )
