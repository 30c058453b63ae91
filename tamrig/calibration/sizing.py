"""PbS quantum-dot sizing and absorption cross-section (Moreels et al. 2009).

Source: I. Moreels, K. Lambert, D. Smeets, D. De Muynck, T. Nollet, J. C. Martins,
F. Vanhaecke, A. Vantomme, C. Delerue, G. Allan, Z. Hens, "Size-dependent optical
properties of colloidal PbS quantum dots", ACS Nano 3, 3023-3030 (2009).

Formulas used (d = dot diameter in nm):

* Sizing curve, band gap (first exciton) energy:  E₀ = 0.41 + 1/(0.0252 d² + 0.283 d) eV.
* Molar extinction coefficient at 400 nm, where the absorption is bulk-like and scales with
  the dot volume:  ε₄₀₀ = 0.0233 d³ cm⁻¹ µM⁻¹.
* Cross-section from ε:  σ = ln(10)·ε/N_A  (ε in M⁻¹cm⁻¹ times 1000 cm³/L), so
  σ₄₀₀ = 8.909×10⁻¹⁷ d³ cm².
* At another pump wavelength λ the cross-section scales with the sample's own absorbance
  spectrum:  σ(λ) = σ₄₀₀ · A(λ)/A(400 nm).  For ~3 nm dots pumped at 580 nm the spectrum
  ratio A(580)/A(400) ≈ 0.40 gives σ(580 nm) ≈ 9.6×10⁻¹⁶ cm², the value of the seed paper.

The cross-section is a sample setting: these helpers derive it, they do not replace a
measured spectrum.
"""

from __future__ import annotations

import math

from tamrig.errors import InputError

AVOGADRO = 6.02214076e23
HC_EV_NM = 1239.841984  # h·c in eV·nm
BULK_GAP_EV = 0.41  # PbS bulk band gap at room temperature (the sizing curve's limit)
SIZING_A = 0.0252  # eV⁻¹ nm⁻², coefficients of the sizing curve
SIZING_B = 0.283  # eV⁻¹ nm⁻¹
EPSILON_400_PER_NM3 = 0.0233  # cm⁻¹ µM⁻¹ nm⁻³
REFERENCE_WAVELENGTH_NM = 400.0


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"{name} = {value}", field=name, expected="a positive number")


def pbs_band_gap_ev(diameter_nm: float) -> float:
    """First-exciton energy of PbS dots of ``diameter_nm`` (Moreels sizing curve)."""
    _positive("diameter_nm", diameter_nm)
    return BULK_GAP_EV + 1.0 / (SIZING_A * diameter_nm**2 + SIZING_B * diameter_nm)


def pbs_diameter_nm(band_gap_ev: float) -> float:
    """Diameter of PbS dots whose first exciton sits at ``band_gap_ev`` (inverse curve)."""
    if not band_gap_ev > BULK_GAP_EV:
        raise InputError(
            f"band gap {band_gap_ev} eV",
            field="band_gap_ev",
            expected=f"more than the PbS bulk gap {BULK_GAP_EV} eV",
        )
    # SIZING_A d² + SIZING_B d − 1/(E − Eg) = 0, positive root
    c = 1.0 / (band_gap_ev - BULK_GAP_EV)
    return (-SIZING_B + math.sqrt(SIZING_B**2 + 4.0 * SIZING_A * c)) / (2.0 * SIZING_A)


def pbs_diameter_from_exciton_nm(exciton_wavelength_nm: float) -> float:
    """Diameter from the first-exciton absorption peak wavelength."""
    _positive("exciton_wavelength_nm", exciton_wavelength_nm)
    return pbs_diameter_nm(HC_EV_NM / exciton_wavelength_nm)


def pbs_extinction_400_m_cm(diameter_nm: float) -> float:
    """Molar extinction coefficient at 400 nm in M⁻¹ cm⁻¹."""
    _positive("diameter_nm", diameter_nm)
    return EPSILON_400_PER_NM3 * 1e6 * diameter_nm**3


def cross_section_from_extinction_cm2(epsilon_m_cm: float) -> float:
    """Absorption cross-section σ = ln(10)·ε·1000/N_A in cm² from ε in M⁻¹ cm⁻¹."""
    return math.log(10.0) * epsilon_m_cm * 1e3 / AVOGADRO


def pbs_cross_section_400_cm2(diameter_nm: float) -> float:
    """σ_abs at 400 nm, proportional to the dot volume."""
    return cross_section_from_extinction_cm2(pbs_extinction_400_m_cm(diameter_nm))


def pbs_cross_section_cm2(
    diameter_nm: float, wavelength_nm: float, absorbance_ratio: float | None = None
) -> float:
    """σ_abs at ``wavelength_nm``: σ₄₀₀ scaled by the spectrum ratio A(λ)/A(400 nm).

    ``absorbance_ratio`` is read off the sample's absorbance spectrum; it may be omitted only
    at 400 nm itself (the calibration wavelength of the volume scaling).
    """
    _positive("wavelength_nm", wavelength_nm)
    if absorbance_ratio is None:
        if abs(wavelength_nm - REFERENCE_WAVELENGTH_NM) > 1e-9:
            raise InputError(
                f"no absorbance ratio given for the pump wavelength {wavelength_nm} nm",
                field="absorbance_ratio",
                expected="A(λ_pump)/A(400 nm) from the sample's absorbance spectrum",
            )
        absorbance_ratio = 1.0
    _positive("absorbance_ratio", absorbance_ratio)
    return pbs_cross_section_400_cm2(diameter_nm) * absorbance_ratio
