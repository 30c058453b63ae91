"""Simulated delay stage with finite velocity, so moves take (simulated) time.

A ``stall`` fault leaves the carriage stuck part-way (the move never completes, waiting
times out); a ``stall_error`` fault makes the controller report the stalled motor.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from simulators.devices.common import SimulatedDevice
from tamrig.devices import DelayStage, DeviceSettings
from tamrig.devices.stage import check_travel
from tamrig.errors import DeviceStateError, DeviceTimeout


class SimulatedStageSettings(DeviceSettings):
    travel_mm: tuple[float, float] = (0.0, 300.0)
    velocity_mm_s: float = Field(100.0, ge=1e-3, le=1e4)
    settle_s: float = Field(0.02, ge=0, le=60, description="settling after each move")
    start_mm: float | None = Field(None, description="initial position; default time zero")

    @field_validator("travel_mm")
    @classmethod
    def _ordered_travel(cls, travel: tuple[float, float]) -> tuple[float, float] | None:
        return check_travel(travel)

    @model_validator(mode="after")
    def _start_on_travel(self) -> SimulatedStageSettings:
        lo, hi = self.travel_mm
        if self.start_mm is not None and not lo <= self.start_mm <= hi:
            raise ValueError(f"start_mm within the travel [{lo:g}, {hi:g}] mm")
        return self


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
        self._stall: str | None = None  # None, "stall" or "stall_error" for the current move
        self._stall_mm = self._from

    @property
    def limits_mm(self) -> tuple[float, float]:
        return self.settings.travel_mm

    def true_position_mm(self) -> float:
        """Where the carriage really is (what sets the optical delay)."""
        if self._stall is not None:
            return self._stall_mm
        travel_s = abs(self._to - self._from) / self.settings.velocity_mm_s
        elapsed = self.world.clock.now() - self._t_start
        if travel_s <= 0 or elapsed >= travel_s:
            return self._to  # arrived (maybe still settling)
        return self._from + elapsed / travel_s * (self._to - self._from)

    def position_mm(self) -> float:
        self.maybe_fault("position")
        return self.true_position_mm()

    def start_move(self, position_mm: float) -> None:
        self.check_in_limits(position_mm)
        spec = self.maybe_fault("move")
        here = self.true_position_mm()
        now = self.world.clock.now()
        self._from, self._to = here, float(position_mm)
        self._t_start = now
        self._t_end = (
            now + abs(self._to - here) / self.settings.velocity_mm_s + self.settings.settle_s
        )
        self._stall = spec.kind if spec is not None else None
        self._stall_mm = here + 0.37 * (self._to - here)  # stuck a third of the way

    def is_moving(self) -> bool:
        self.check_link()
        return self._stall == "stall" or self.world.clock.now() < self._t_end

    def wait_until_stopped(self, timeout_s: float) -> None:
        self.maybe_fault("wait")
        if self._stall == "stall_error":
            self.world.clock.advance_to(self._t_start + 0.37 * (self._t_end - self._t_start))
            raise self.fault(
                f"controller reports motor stalled (following error) at {self._stall_mm:.4f} mm "
                f"on the way to {self._to:.4f} mm",
                DeviceStateError,
            )
        remaining = float("inf") if self._stall == "stall" else self._t_end - self.world.clock.now()
        if remaining > timeout_s:
            self.world.clock.sleep(timeout_s)
            raise self.fault(
                f"move to {self._to:.4f} mm not finished after {timeout_s} s "
                f"(position {self.true_position_mm():.4f} mm)",
                DeviceTimeout,
            )
        self.world.clock.sleep(remaining)

    def stop(self) -> None:
        self.check_link()
        here = self.true_position_mm()
        self._from = self._to = here
        self._t_end = self.world.clock.now()
        self._stall = None

    def _identify(self) -> str:
        self.check_link()
        return "tamrig simulated delay stage (SIM-DL300)"

    def _status(self) -> dict[str, Any]:
        self.check_link()
        return {"position_mm": round(self.true_position_mm(), 6), "moving": self.is_moving()}
