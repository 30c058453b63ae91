"""Resolve the plan's fluence axis into attenuator settings through a fluence calibration.

The engine needs, per fluence of the plan, the attenuator setting to move to and the peak
fluence / ⟨N_abs⟩ it stands for. The calibration object is anything with the methods of
:class:`tamrig.calibration.FluenceCalibration` (see :class:`FluenceCalibrationLike`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from tamrig.plan.axes import FluenceAxis


class FluenceCalibrationLike(Protocol):
    def setting_for_fluence(self, fluence_uj_cm2: float) -> float: ...
    def setting_for_n_abs(self, n_abs: float) -> float: ...
    def fluence_for_setting(self, setting: float) -> float: ...
    def n_abs_for_fluence(self, fluence_uj_cm2: float) -> float: ...
    def fluence_for_power(self, power_w: float) -> float: ...
    def reachable_fluence(self) -> tuple[float, float]: ...


@dataclass(frozen=True)
class FluenceStep:
    """One fluence of the plan, resolved: what to set and what it means."""

    label: str
    target: float  # the plan's value in the plan's unit
    unit: str
    setting: float | None  # attenuator setting; None = leave the attenuator alone
    fluence_uj_cm2: float  # NaN when unknown (no calibration)
    n_abs: float  # NaN when unknown


NO_FLUENCE_AXIS = FluenceStep("as-is", math.nan, "none", None, math.nan, math.nan)


def resolve_fluence(
    axis: FluenceAxis, index: int, calibration: FluenceCalibrationLike
) -> FluenceStep:
    """The attenuator setting, fluence and ⟨N_abs⟩ of ``axis.values[index]``."""
    value = axis.values[index]
    if axis.unit == "uJ/cm2":
        setting = calibration.setting_for_fluence(value)
        fluence = value
    elif axis.unit == "n_abs":
        setting = calibration.setting_for_n_abs(value)
        fluence = calibration.fluence_for_setting(setting)
    else:
        setting = value
        fluence = calibration.fluence_for_setting(value)
    n_abs = value if axis.unit == "n_abs" else calibration.n_abs_for_fluence(fluence)
    return FluenceStep(axis.label(value), value, axis.unit, setting, fluence, n_abs)
