"""A power-meter reading to fluence and ⟨N_abs⟩, point after point, for the scan engine.

:meth:`FluenceCalibration.fluence_for_power` and :meth:`~FluenceCalibration.n_abs_for_fluence`
take about ten calls between them, and all but the reading is fixed for a calibration. The
engine checks every point's reading, so :func:`reading_to_fluence` works the fixed part out
once; :class:`ReadingToFluence` repeats the remaining operations in the order
:mod:`tamrig.units` does them, which gives the same numbers to the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tamrig import units
from tamrig.calibration.model import FluenceCalibration


@dataclass(frozen=True, slots=True)
class ReadingToFluence:
    """Power → peak fluence → ⟨N_abs⟩ with a calibration's constants worked out."""

    rep_rate_hz: float
    behind_chopper: bool  # the pulse energy is twice the average power's share
    spot_cm2: float  # 2πσ² of the pump spot, cm²
    cross_section_cm2: float
    photon_energy_j: float  # at the pump wavelength

    def fluence_for_power(self, power_w: float) -> float:
        """Peak fluence (µJ/cm²) from a meter reading (as units.pulse_energy_j, then
        units.peak_fluence_uj_cm2)."""
        energy = power_w / self.rep_rate_hz
        if self.behind_chopper:
            energy = 2.0 * energy
        return energy / self.spot_cm2 * 1e6

    def n_abs_for_fluence(self, fluence_uj_cm2: float) -> float:
        """⟨N_abs⟩ at a peak fluence (as units.n_abs_from_fluence)."""
        return self.cross_section_cm2 * fluence_uj_cm2 * 1e-6 / self.photon_energy_j


def reading_to_fluence(cal: FluenceCalibration) -> ReadingToFluence | FluenceCalibration:
    """``cal``'s conversion with its fixed part worked out; ``cal`` itself while the pump spot
    or the cross-section is unknown (its methods then raise the error that says which)."""
    sigma, cross = cal.pump_sigma_nm, cal.cross_section_cm2
    if sigma is None or cross is None:
        return cal
    sigma_cm = sigma * 1e-7
    return ReadingToFluence(
        rep_rate_hz=cal.rep_rate_hz,
        behind_chopper=cal.power_behind_chopper,
        spot_cm2=2.0 * math.pi * sigma_cm**2,
        cross_section_cm2=cross,
        photon_energy_j=units.photon_energy_j(cal.pump_wavelength_nm),
    )
