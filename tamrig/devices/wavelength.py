"""Probe-wavelength selector: bandpass filter wheel or monochromator."""

from __future__ import annotations

import abc
from typing import ClassVar

from tamrig.devices.base import Device


class WavelengthSelector(Device):
    family: ClassVar[str] = "wavelength_selector"

    @abc.abstractmethod
    def available_nm(self) -> list[float]:
        """Centre wavelengths that can be selected (for a monochromator: a sampled range)."""

    @abc.abstractmethod
    def wavelength_nm(self) -> float:
        """Current centre wavelength."""

    @abc.abstractmethod
    def bandwidth_nm(self) -> float:
        """Current bandwidth (FWHM)."""

    @abc.abstractmethod
    def set_wavelength_nm(self, wavelength_nm: float, timeout_s: float = 10.0) -> float:
        """Select the wavelength (nearest exact match required for a wheel); returns it."""

    def check_available(self, wavelength_nm: float, tolerance_nm: float = 0.5) -> None:
        if not any(abs(w - wavelength_nm) <= tolerance_nm for w in self.available_nm()):
            raise self.fault(
                f"{wavelength_nm} nm not available (have {sorted(self.available_nm())})"
            )
