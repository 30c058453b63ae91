"""Simulated shutter; its state gates the pump or probe beam in the simulated images.

Like a real shutter with a position sensor, open/close read the blade back and raise when it
did not move (a ``stuck`` fault), so a stuck pump shutter is noticed, not assumed closed.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from simulators.devices.common import SimulatedDevice
from tamrig.devices import DeviceSettings, Shutter
from tamrig.errors import DeviceStateError


class SimulatedShutterSettings(DeviceSettings):
    transit_s: float = Field(0.005, ge=0, description="opening/closing time")


class SimulatedShutter(SimulatedDevice, Shutter):
    Settings = SimulatedShutterSettings
    settings: SimulatedShutterSettings

    def attach(self, world: Any) -> None:
        super().attach(world)
        self._open = False

    def true_open(self) -> bool:
        """Whether the blade really passes the beam (what the simulated camera sees)."""
        return self._open

    def _move(self, operation: str, want_open: bool) -> None:
        spec = self.maybe_fault(operation)
        self.world.clock.sleep(self.settings.transit_s)
        if spec is not None and spec.kind == "stuck":
            state = "open" if self._open else "closed"
            raise self.fault(
                f"commanded {operation} but the position sensor still reads {state} (blade stuck)",
                DeviceStateError,
            )
        self._open = want_open

    def open(self) -> None:
        self._move("open", True)

    def close(self) -> None:
        self._move("close", False)

    def is_open(self) -> bool:
        self.maybe_fault("state")
        return self._open

    def _identify(self) -> str:
        self.check_link()
        return f"tamrig simulated shutter ({self.name})"

    def _status(self) -> dict[str, Any]:
        self.check_link()
        return {"open": self._open}
