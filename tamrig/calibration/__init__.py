"""Fluence calibration: attenuator law, power → pulse energy → fluence → ⟨N_abs⟩.

Public API: :class:`FluenceCalibration`, :func:`calibrate_fluence`,
:func:`load_calibration`, :func:`nominal_calibration`; for the scan engine
:func:`apply_fluence` and :func:`check_drift`; for plans :class:`SampleAbsorption` (σ_abs,
directly or from a PbS size) and :func:`pump_sigma_nm` (rig setting or measured σ₀).

Typical use by a scan::

    calibration = nominal_calibration(rig).with_sample(
        pump_sigma_nm=pump_sigma_nm(rig.settings, measured_sigma0),
        cross_section_cm2=plan.sample.cross_section_at(rig.settings.pump_wavelength_nm),
    )
    point = apply_fluence(rig, calibration, n_abs=0.045)   # .measured_power_w, .warning
"""

from __future__ import annotations

from tamrig.calibration.laws import AttenuatorLaw, HwpLaw, TableEntry, TableLaw
from tamrig.calibration.model import FluenceCalibration, SweepPoint, VerificationPoint
from tamrig.calibration.nominal import nominal_calibration
from tamrig.calibration.sample import SampleAbsorption, pump_sigma_nm
from tamrig.calibration.setpoint import (
    DEFAULT_DRIFT_TOLERANCE,
    FluenceSetpoint,
    apply_fluence,
    check_drift,
)
from tamrig.calibration.store import (
    CALIBRATION_DIR_ENV,
    calibration_path,
    load_calibration,
    load_calibration_file,
    save_calibration,
)
from tamrig.calibration.sweep import SweepOptions, calibrate_fluence

__all__ = [
    "CALIBRATION_DIR_ENV",
    "DEFAULT_DRIFT_TOLERANCE",
    "AttenuatorLaw",
    "FluenceCalibration",
    "FluenceSetpoint",
    "HwpLaw",
    "SampleAbsorption",
    "SweepOptions",
    "SweepPoint",
    "TableEntry",
    "TableLaw",
    "VerificationPoint",
    "apply_fluence",
    "calibrate_fluence",
    "calibration_path",
    "check_drift",
    "load_calibration",
    "load_calibration_file",
    "nominal_calibration",
    "pump_sigma_nm",
    "save_calibration",
]
