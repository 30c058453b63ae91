"""Simulated bandpass filter wheel selecting the probe wavelength."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from simulators.devices.common import SimulatedDevice
from tamrig.devices import DeviceSettings, WavelengthSelector
from tamrig.errors import DeviceTimeout


class SimulatedFilterWheelSettings(DeviceSettings):
    filters_nm: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {
            "1": (905.0, 10.0),
            "2": (690.0, 10.0),
            "3": (670.0, 10.0),
            "4": (565.0, 10.0),
            "5": (750.0, 10.0),
            "6": (850.0, 10.0),
        },
        description="slot -> (centre nm, FWHM nm)",
    )
    start_slot: int = 1
    seconds_per_slot: float = Field(0.4, ge=0)


class SimulatedFilterWheel(SimulatedDevice, WavelengthSelector):
    Settings = SimulatedFilterWheelSettings
    settings: SimulatedFilterWheelSettings

    def attach(self, world: Any) -> None:
        super().attach(world)
        self._slot = self.settings.start_slot

    def _filter(self) -> tuple[float, float]:
        return self.settings.filters_nm[str(self._slot)]

    def true_wavelength_nm(self) -> float:
        return self._filter()[0]

    def available_nm(self) -> list[float]:
        return [centre for centre, _ in self.settings.filters_nm.values()]

    def wavelength_nm(self) -> float:
        self.maybe_fault("position")
        return self._filter()[0]

    def bandwidth_nm(self) -> float:
        return self._filter()[1]

    def set_wavelength_nm(self, wavelength_nm: float, timeout_s: float = 10.0) -> float:
        self.check_available(wavelength_nm)
        spec = self.maybe_fault("move")
        if spec is not None and spec.kind == "stall":
            self.world.clock.sleep(timeout_s)
            raise self.fault(
                f"wheel did not reach {wavelength_nm} nm within {timeout_s} s", DeviceTimeout
            )
        slot = min(
            self.settings.filters_nm,
            key=lambda k: abs(self.settings.filters_nm[k][0] - wavelength_nm),
        )
        self.world.clock.sleep(abs(int(slot) - self._slot) * self.settings.seconds_per_slot)
        self._slot = int(slot)
        return self._filter()[0]

    def _identify(self) -> str:
        self.check_link()
        return "tamrig simulated 6-slot bandpass filter wheel"

    def _status(self) -> dict[str, Any]:
        self.check_link()
        centre, fwhm = self._filter()
        return {"slot": self._slot, "wavelength_nm": centre, "bandwidth_nm": fwhm}
