"""FluenceCalibration: attenuator setting ↔ measured power ↔ pulse energy ↔ fluence ↔ ⟨N_abs⟩.

Conventions: "fluence" is the peak fluence F₀ = E_p/(2πσ²) in µJ/cm² of a
Gaussian pump spot of standard deviation σ; ⟨N_abs⟩ = σ_abs·F₀/(hc/λ_pump). The pulse
energy is E_p = P/f_rep, doubled when the meter reads behind the running 50 % chopper; that
factor is applied here and only here.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tamrig import units
from tamrig.calibration.laws import AttenuatorLaw, HwpLaw
from tamrig.errors import InputError

FORMAT: Literal["tamrig.fluence-calibration"] = "tamrig.fluence-calibration"


class SweepPoint(BaseModel):
    """One attenuator setting of the calibration sweep: the mean reading and the fit there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    setting: float
    power_w: float
    power_err_w: float = Field(description="standard error of the mean reading")
    n_readings: int
    model_w: float | None = Field(None, description="fitted law at this setting")

    @property
    def residual_w(self) -> float | None:
        return None if self.model_w is None else self.power_w - self.model_w


class VerificationPoint(BaseModel):
    """A power set through the inverse law after the fit, and what the meter then read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_power_w: float
    setting: float
    measured_power_w: float
    measured_err_w: float

    @property
    def deviation(self) -> float:
        return self.measured_power_w / self.target_power_w - 1.0


class FluenceCalibration(BaseModel):
    """A rig's attenuator calibration plus everything needed to turn power into ⟨N_abs⟩.

    ``pump_sigma_nm`` (rig setting or the measured σ₀) and ``cross_section_cm2`` (a sample
    setting) may be missing when the calibration is taken; :meth:`with_sample` fills them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tamrig.fluence-calibration"] = FORMAT
    version: Literal[1] = 1
    rig_name: str
    rig_file: str = ""
    created: str = Field(description="ISO 8601 UTC time of the sweep")
    attenuator_identity: str = ""
    power_meter_identity: str = ""
    pump_wavelength_nm: float = Field(gt=0)
    meter_wavelength_nm: float = Field(gt=0, description="wavelength correction of the meter")
    meter_averaging: int = Field(ge=1)
    rep_rate_hz: float = Field(gt=0)
    power_behind_chopper: bool
    pump_shutter_open: bool = Field(False, description="pump shutter state during the sweep")
    meter_zeroed: bool = Field(False, description="meter dark-zeroed behind the closed shutter")
    max_fluence_uj_cm2: float = Field(gt=0, description="the rig's fluence interlock")
    pump_sigma_nm: float | None = Field(None, gt=0)
    cross_section_cm2: float | None = Field(None, gt=0)
    law: AttenuatorLaw
    points: list[SweepPoint] = Field(default_factory=list)
    verification: list[VerificationPoint] = Field(default_factory=list)
    reduced_chi2: float | None = None
    rms_residual_w: float | None = None

    # -- sample / spot -------------------------------------------------------------------------
    def with_sample(
        self, *, pump_sigma_nm: float | None = None, cross_section_cm2: float | None = None
    ) -> FluenceCalibration:
        """A copy with the pump spot σ and/or the sample's cross-section set."""
        update: dict[str, float] = {}
        if pump_sigma_nm is not None:
            _positive("pump_sigma_nm", pump_sigma_nm)
            update["pump_sigma_nm"] = float(pump_sigma_nm)
        if cross_section_cm2 is not None:
            _positive("cross_section_cm2", cross_section_cm2)
            update["cross_section_cm2"] = float(cross_section_cm2)
        return self.model_copy(update=update)

    def _sigma(self) -> float:
        if self.pump_sigma_nm is None:
            raise InputError(
                "the pump spot size is unknown",
                field="pump_sigma_nm",
                expected="the rig setting rig.pump_sigma_nm or the measured σ₀ of the scan",
            )
        return self.pump_sigma_nm

    def _cross_section(self) -> float:
        if self.cross_section_cm2 is None:
            raise InputError(
                "the sample's absorption cross-section is unknown",
                field="cross_section_cm2",
                expected="σ_abs at the pump wavelength in cm² (a sample setting; "
                "tamrig.calibration.sizing derives it for PbS dots)",
            )
        return self.cross_section_cm2

    # -- power <-> setting ---------------------------------------------------------------------
    def power_for_setting(self, setting: float) -> float:
        """Meter reading expected at an attenuator setting."""
        return self.law.power(setting)

    def setting_for_power(self, power_w: float) -> float:
        return self.law.setting_for_power(power_w)

    # -- power <-> fluence ---------------------------------------------------------------------
    def pulse_energy_for_power(self, power_w: float) -> float:
        return units.pulse_energy_j(power_w, self.rep_rate_hz, self.power_behind_chopper)

    def fluence_for_power(self, power_w: float) -> float:
        """Peak fluence (µJ/cm²) from a meter reading."""
        return units.peak_fluence_uj_cm2(self.pulse_energy_for_power(power_w), self._sigma())

    def power_for_fluence(self, fluence_uj_cm2: float) -> float:
        energy = units.pulse_energy_for_peak_fluence(fluence_uj_cm2, self._sigma())
        return units.power_for_pulse_energy(energy, self.rep_rate_hz, self.power_behind_chopper)

    # -- fluence <-> N_abs ---------------------------------------------------------------------
    def n_abs_for_fluence(self, fluence_uj_cm2: float) -> float:
        return units.n_abs_from_fluence(
            fluence_uj_cm2, self.pump_wavelength_nm, self._cross_section()
        )

    def fluence_for_n_abs(self, n_abs: float) -> float:
        return units.fluence_from_n_abs(n_abs, self.pump_wavelength_nm, self._cross_section())

    def n_abs_for_power(self, power_w: float) -> float:
        return self.n_abs_for_fluence(self.fluence_for_power(power_w))

    # -- setting <-> fluence (the contract) ------------------------------------------------------
    def fluence_for_setting(self, setting: float) -> float:
        return self.fluence_for_power(self.power_for_setting(setting))

    def reachable_fluence(self) -> tuple[float, float]:
        """(lowest, highest) settable peak fluence, capped by the rig's interlock."""
        lo_p, hi_p = self.law.power_range()
        lo, hi = self.fluence_for_power(lo_p), self.fluence_for_power(hi_p)
        return lo, min(hi, self.max_fluence_uj_cm2)

    def reachable_n_abs(self) -> tuple[float, float]:
        lo, hi = self.reachable_fluence()
        return self.n_abs_for_fluence(lo), self.n_abs_for_fluence(hi)

    def setting_for_fluence(self, fluence_uj_cm2: float) -> float:
        """Attenuator angle (deg, on the monotonic branch) or slot giving the peak fluence."""
        if not (math.isfinite(fluence_uj_cm2) and fluence_uj_cm2 > 0):
            raise InputError(
                f"fluence {fluence_uj_cm2}", field="fluence", expected="a positive µJ/cm²"
            )
        if fluence_uj_cm2 > self.max_fluence_uj_cm2:
            raise InputError(
                f"fluence {fluence_uj_cm2:.4g} µJ/cm² is above the rig's interlock",
                field="fluence",
                expected=f"at most rig.max_fluence_uj_cm2 = {self.max_fluence_uj_cm2:g} µJ/cm²",
            )
        lo, hi = self.reachable_fluence()
        if isinstance(self.law, HwpLaw) and not lo <= fluence_uj_cm2 <= hi:
            raise InputError(
                f"fluence {fluence_uj_cm2:.4g} µJ/cm² cannot be reached",
                field="fluence",
                expected=f"a peak fluence within [{lo:.4g}, {hi:.4g}] µJ/cm² "
                f"(⟨N_abs⟩ {self._n_abs_text(lo, hi)})",
            )
        setting = self.setting_for_power(self.power_for_fluence(fluence_uj_cm2))
        reached = self.fluence_for_setting(setting)
        if reached > self.max_fluence_uj_cm2 * (1.0 + 1e-9):  # a discrete slot can overshoot
            raise InputError(
                f"the nearest setting {setting:g} gives {reached:.4g} µJ/cm², above the interlock",
                field="fluence",
                expected=f"at most rig.max_fluence_uj_cm2 = {self.max_fluence_uj_cm2:g} µJ/cm²",
            )
        return setting

    def setting_for_n_abs(self, n_abs: float) -> float:
        if not (math.isfinite(n_abs) and n_abs > 0):
            raise InputError(f"⟨N_abs⟩ {n_abs}", field="n_abs", expected="a positive number")
        return self.setting_for_fluence(self.fluence_for_n_abs(n_abs))

    def _n_abs_text(self, lo: float, hi: float) -> str:
        if self.cross_section_cm2 is None:
            return "unknown without a cross-section"
        return f"{self.n_abs_for_fluence(lo):.3g} to {self.n_abs_for_fluence(hi):.3g}"


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} = {value}", field=name, expected="a positive number")
