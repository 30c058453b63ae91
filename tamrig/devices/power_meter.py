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

    def fit_averaging(self, seconds: float) -> None:
        """Average as many samples as fit in ``seconds`` (at most the configured count), so a
        reading started with the camera's integration ends with it. Default: unchanged (a
        driver that knows its sample time overrides it)."""

    def start_reading(self) -> None:
        """Begin one averaged reading and return at once (e.g. SCPI ``INIT``), so the meter
        averages while the camera integrates; :meth:`fetch_power_w` collects it. Default:
        nothing here, the whole reading happens in :meth:`fetch_power_w`."""

    def fetch_power_w(self) -> float:
        """The reading begun by :meth:`start_reading`, waiting for it if needed (e.g. SCPI
        ``FETCH?``). Default: a full :meth:`read_power_w`."""
        return self.read_power_w()

    def zero(self) -> None:
        """Dark-zero the sensor (beam blocked); default: not supported, nothing to do."""
