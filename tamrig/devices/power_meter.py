"""Power meter: average optical power in W with wavelength correction."""

from __future__ import annotations

import abc
from typing import ClassVar

from tamrig.devices.base import Device


class PowerMeter(Device):
    family: ClassVar[str] = "power_meter"

    @property
    @abc.abstractmethod
    def wavelength_nm(self) -> float:
        """Wavelength the responsivity correction is set to."""

    @wavelength_nm.setter
    @abc.abstractmethod
    def wavelength_nm(self, value: float) -> None: ...

    @property
    @abc.abstractmethod
    def averaging(self) -> int:
        """Number of samples averaged per reading."""

    @averaging.setter
    @abc.abstractmethod
    def averaging(self, count: int) -> None: ...

    @abc.abstractmethod
    def read_power_w(self) -> float:
        """One (averaged) power reading in W; raises DeviceStateError when out of range."""

    def zero(self) -> None:
        """Dark-zero the sensor (beam blocked); default: not supported, nothing to do."""
