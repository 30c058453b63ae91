"""Simulated half-wave plate before a polariser: cos² law with a finite extinction."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from simulators.devices.common import SimulatedDevice
from tamrig.devices import Attenuator, DeviceSettings
from tamrig.errors import DeviceTimeout


class SimulatedHwpSettings(DeviceSettings):
    theta0_deg: float = Field(3.0, description="angle of maximum transmission")
    extinction: float = Field(1e-3, ge=0, lt=1, description="minimum / maximum transmission")
    speed_deg_s: float = Field(90.0, gt=0)
    range_deg: tuple[float, float] = (0.0, 360.0)
    start_deg: float = 45.0


class SimulatedHwpAttenuator(SimulatedDevice, Attenuator):
    Settings = SimulatedHwpSettings
    settings: SimulatedHwpSettings
    kind = "continuous"

    def attach(self, world: Any) -> None:
        super().attach(world)
        self._angle = self.settings.start_deg

    @property
    def setting_range(self) -> tuple[float, float]:
        return self.settings.range_deg

    def transmission(self) -> float:
        """T(θ) = ε + (1 − ε) cos²(2(θ − θ₀)): half-wave plate before a polariser."""
        s = self.settings
        c2 = math.cos(2 * math.radians(self._angle - s.theta0_deg)) ** 2
        return s.extinction + (1 - s.extinction) * c2

    def setting(self) -> float:
        self.maybe_fault("position")
        return self._angle

    def set_setting(self, value: float, timeout_s: float = 10.0) -> float:
        self.check_setting(value)
        spec = self.maybe_fault("move")
        if spec is not None and spec.kind == "stall":
            self._angle += 0.37 * (float(value) - self._angle)  # stuck part-way
            self.world.clock.sleep(timeout_s)
            raise self.fault(
                f"rotation to {value} deg not finished after {timeout_s} s "
                f"(at {self._angle:.3f} deg)",
                DeviceTimeout,
            )
        self.world.clock.sleep(abs(value - self._angle) / self.settings.speed_deg_s)
        self._angle = float(value)
        return self._angle

    def _identify(self) -> str:
        self.check_link()
        return "tamrig simulated HWP rotation mount + polariser"

    def _status(self) -> dict[str, Any]:
        self.check_link()
        return {"angle_deg": round(self._angle, 4), "transmission": round(self.transmission(), 6)}
