"""The calibration a scan uses when the user has not calibrated explicitly."""

from __future__ import annotations

from tamrig.calibration.model import FluenceCalibration
from tamrig.calibration.store import calibration_path, load_calibration
from tamrig.calibration.sweep import SweepOptions, calibrate_fluence, require_devices
from tamrig.errors import InputError
from tamrig.rig import Rig

#: A short sweep: enough for the simulated law, instant at simulated time scale 0.
QUICK_SWEEP = SweepOptions(points=15, coarse_points=12, repeats=3)


def is_simulated(rig: Rig) -> bool:
    """True when both the attenuator and the power meter are simulated devices."""
    attenuator, meter = require_devices(rig)
    return all(type(d).__module__.startswith("simulators.") for d in (attenuator, meter))


def nominal_calibration(
    rig: Rig,
    *,
    pump_sigma_nm: float | None = None,
    cross_section_cm2: float | None = None,
) -> FluenceCalibration:
    """The saved calibration; on a simulated rig without one, a quick fresh sweep.

    Real hardware without a saved calibration is an input error: fluence points must not
    be set from a guessed attenuator law. The rig must be connected.
    """
    calibration = load_calibration(rig)
    if calibration is None:
        if not is_simulated(rig):
            raise InputError(
                "no fluence calibration for this rig",
                file=calibration_path(rig),
                expected="a calibration file (run `tamrig calibrate fluence --rig ...`)",
            )
        calibration = calibrate_fluence(rig, QUICK_SWEEP)
    return calibration.with_sample(pump_sigma_nm=pump_sigma_nm, cross_section_cm2=cross_section_cm2)
