"""Delay stage: a linear translation stage in mm. Delay conversion lives in tamrig.delay."""

from __future__ import annotations

import abc
from typing import ClassVar

from tamrig.devices.base import Device

#: Longest travel any delay line here may claim (mm): 10 m of stage, 67 ns of delay.
MAX_TRAVEL_MM = 10_000.0


def check_travel(travel: tuple[float, float] | None) -> tuple[float, float] | None:
    """A rig file's ``travel_mm = [low, high]``: ordered, of positive length, finite."""
    if travel is None:
        return None
    lo, hi = travel
    if not lo < hi:
        raise ValueError(f"[low, high] with low < high (got [{lo:g}, {hi:g}])")
    if max(abs(lo), abs(hi)) > MAX_TRAVEL_MM:
        raise ValueError(f"positions within ±{MAX_TRAVEL_MM:g} mm")
    return travel


class DelayStage(Device):
    """A motorised linear stage; positions in mm, travel limits enforced by the driver."""

    family: ClassVar[str] = "stage"

    @property
    @abc.abstractmethod
    def limits_mm(self) -> tuple[float, float]:
        """Usable travel (software limits) in mm."""

    @abc.abstractmethod
    def position_mm(self) -> float:
        """Current (measured) position."""

    @abc.abstractmethod
    def start_move(self, position_mm: float) -> None:
        """Begin an absolute move and return at once; raises if outside the limits."""

    @abc.abstractmethod
    def is_moving(self) -> bool:
        """True while the stage is in motion."""

    @abc.abstractmethod
    def wait_until_stopped(self, timeout_s: float) -> None:
        """Block until motion ends; raise DeviceTimeout / DeviceStateError on stall or error."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop motion now."""

    def home(self) -> None:
        """Reference the stage if the hardware needs it (default: nothing to do)."""

    def move_to(self, position_mm: float, timeout_s: float = 30.0) -> float:
        """Move and wait; returns the position reached."""
        self.check_in_limits(position_mm)
        self.start_move(position_mm)
        self.wait_until_stopped(timeout_s)
        return self.position_mm()

    def check_in_limits(self, position_mm: float) -> None:
        lo, hi = self.limits_mm
        if not lo <= position_mm <= hi:
            raise self.fault(f"position {position_mm:.6f} mm outside travel [{lo}, {hi}] mm")

    def _safe_state(self) -> None:
        if self.connected and self.is_moving():
            self.stop()
