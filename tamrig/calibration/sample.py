"""What the fluence → ⟨N_abs⟩ conversion needs besides the attenuator: spot and absorber.

* The pump spot σ: the rig setting ``rig.pump_sigma_nm`` (a knife-edge or camera
  measurement of the focus) when given, otherwise the σ₀ measured at zero delay in the scan
  (for linear excitation the initial carrier distribution is the pump spot).
* The absorption cross-section at the pump wavelength: a sample setting, given directly or
  derived for PbS dots from their size with Moreels' scaling (:mod:`tamrig.calibration.sizing`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tamrig.calibration import sizing
from tamrig.errors import InputError
from tamrig.rigconfig import RigSettings


class SampleAbsorption(BaseModel):
    """A sample's absorption at the pump, as a plan or GUI states it.

    Either ``cross_section_cm2``, or PbS dots by ``pbs_diameter_nm`` or by their
    ``pbs_exciton_nm`` (first-exciton peak) together with ``absorbance_ratio`` =
    A(λ_pump)/A(400 nm) read off the sample's absorbance spectrum.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cross_section_cm2: float | None = Field(None, gt=0, description="σ_abs at the pump")
    pbs_diameter_nm: float | None = Field(None, gt=0)
    pbs_exciton_nm: float | None = Field(None, gt=0, description="first-exciton peak")
    absorbance_ratio: float | None = Field(None, gt=0, description="A(λ_pump)/A(400 nm)")

    @model_validator(mode="after")
    def _one_source(self) -> SampleAbsorption:
        given = [
            name
            for name in ("cross_section_cm2", "pbs_diameter_nm", "pbs_exciton_nm")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "exactly one of cross_section_cm2, pbs_diameter_nm, pbs_exciton_nm"
                + (f" (got {given})" if given else "")
            )
        if self.cross_section_cm2 is not None and self.absorbance_ratio is not None:
            raise ValueError("absorbance_ratio only together with a PbS size")
        return self

    def diameter_nm(self) -> float | None:
        if self.pbs_diameter_nm is not None:
            return self.pbs_diameter_nm
        if self.pbs_exciton_nm is not None:
            return sizing.pbs_diameter_from_exciton_nm(self.pbs_exciton_nm)
        return None

    def cross_section_at(self, pump_wavelength_nm: float) -> float:
        """σ_abs in cm² at the pump wavelength."""
        if self.cross_section_cm2 is not None:
            return self.cross_section_cm2
        diameter = self.diameter_nm()
        assert diameter is not None
        return sizing.pbs_cross_section_cm2(diameter, pump_wavelength_nm, self.absorbance_ratio)


def pump_sigma_nm(rig_settings: RigSettings, measured_sigma0_nm: float | None = None) -> float:
    """The pump spot σ used for fluence: the rig setting, else the measured σ₀."""
    if rig_settings.pump_sigma_nm is not None:
        return rig_settings.pump_sigma_nm
    if measured_sigma0_nm is not None and measured_sigma0_nm > 0:
        return measured_sigma0_nm
    raise InputError(
        "the pump spot size is unknown",
        field="rig.pump_sigma_nm",
        expected="the rig setting pump_sigma_nm, or a measured σ₀ at zero delay",
    )
