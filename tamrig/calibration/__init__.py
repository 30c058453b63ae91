"""Fluence calibration: attenuator law, power → pulse energy → fluence → ⟨N_abs⟩.

Public API (CONTRACTS §4): :class:`FluenceCalibration`, :func:`calibrate_fluence`,
:func:`load_calibration`, :func:`nominal_calibration`; for the scan engine
:func:`apply_fluence` and :func:`check_drift`.
"""

from __future__ import annotations

from tamrig.calibration.laws import AttenuatorLaw, HwpLaw, TableEntry, TableLaw
from tamrig.calibration.model import FluenceCalibration, SweepPoint
from tamrig.calibration.nominal import nominal_calibration
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
    "SweepOptions",
    "SweepPoint",
    "TableEntry",
    "TableLaw",
    "apply_fluence",
    "calibrate_fluence",
    "calibration_path",
    "check_drift",
    "load_calibration",
    "load_calibration_file",
    "nominal_calibration",
    "save_calibration",
]
