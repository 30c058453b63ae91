"""Simulated delay stage with finite velocity, so moves take (simulated) time."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from simulators.devices.common import SimulatedDevice
from tamrig.devices import DelayStage, DeviceSettings
from tamrig.errors import DeviceTimeout


class SimulatedStageSettings(DeviceSettings):
    travel_mm: tuple[float, float] = (0.0, 300.0)
    velocity_mm_s: float = Field(100.0, gt=0)
    settle_s: float = Field(0.02, ge=0, description="settling after each move")
    start_mm: float | None = Field(None, description="initial position; default time zero")


class SimulatedStage(SimulatedDevice, DelayStage):
    Settings = SimulatedStageSettings
    settings: SimulatedStageSettings

    def attach(self, world: Any) -> None:
        super().attach(world)
        start = self.settings.start_mm
        self._from = start if start is not None else world.rig.time_zero_mm
        self._to = self._from
        self._t_start = 0.0
        self._t_end = 0.0

    @property
    def limits_mm(self) -> tuple[float, float]:
        return self.settings.travel_mm

    def true_position_mm(self) -> float:
        now = self.world.clock.now()
        if now >= self._t_end or self._t_end <= self._t_start:
            return self._to
        frac = (now - self._t_start) / (self._t_end - self._t_start)
        return self._from + frac * (self._to - self._from)

    def position_mm(self) -> float:
        self.maybe_fault("position")
        return self.true_position_mm()

    def start_move(self, position_mm: float) -> None:
        self.check_in_limits(position_mm)
        self.maybe_fault("move")
        here = self.true_position_mm()
        now = self.world.clock.now()
        self._from, self._to = here, float(position_mm)
        self._t_start = now
        self._t_end = (
            now + abs(self._to - here) / self.settings.velocity_mm_s + self.settings.settle_s
        )

    def is_moving(self) -> bool:
        return self.world.clock.now() < self._t_end

    def wait_until_stopped(self, timeout_s: float) -> None:
        remaining = self._t_end - self.world.clock.now()
        if remaining > timeout_s:
            self.world.clock.sleep(timeout_s)
            raise self.fault(f"move not finished after {timeout_s} s", DeviceTimeout)
        self.world.clock.sleep(remaining)

    def stop(self) -> None:
        here = self.true_position_mm()
        self._from = self._to = here
        self._t_end = self.world.clock.now()

    def _identify(self) -> str:
        return "tamrig simulated delay stage (SIM-DL300)"

    def _status(self) -> dict[str, Any]:
        return {"position_mm": round(self.true_position_mm(), 6), "moving": self.is_moving()}
