"""Simulated shutter; its state gates the pump or probe beam in the simulated images."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from simulators.devices.common import SimulatedDevice
from tamrig.devices import DeviceSettings, Shutter


class SimulatedShutterSettings(DeviceSettings):
    transit_s: float = Field(0.005, ge=0, description="opening/closing time")


class SimulatedShutter(SimulatedDevice, Shutter):
    Settings = SimulatedShutterSettings
    settings: SimulatedShutterSettings

    def attach(self, world: Any) -> None:
        super().attach(world)
        self._open = False

    def true_open(self) -> bool:
        return self._open

    def open(self) -> None:
        self.maybe_fault("open")
        self.world.clock.sleep(self.settings.transit_s)
        self._open = True

    def close(self) -> None:
        self.maybe_fault("close")
        self.world.clock.sleep(self.settings.transit_s)
        self._open = False

    def is_open(self) -> bool:
        self.maybe_fault("state")
        return self._open

    def _identify(self) -> str:
        return f"tamrig simulated shutter ({self.name})"

    def _status(self) -> dict[str, Any]:
        return {"open": self._open}
