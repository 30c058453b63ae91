"""Pump attenuator: what the fluence axis moves (HWP on a rotation mount, or an ND wheel).

The attenuator knows only its own coordinate (angle in degrees, or a wheel slot); the
mapping to power and fluence is the fluence calibration's job (tamrig.calibration).
"""

from __future__ import annotations

import abc
from typing import ClassVar, Literal

from tamrig.devices.base import Device

AttenuatorKind = Literal["continuous", "discrete"]


class Attenuator(Device):
    family: ClassVar[str] = "attenuator"

    #: "continuous" (angle in deg) or "discrete" (slot numbers).
    kind: ClassVar[AttenuatorKind] = "continuous"

    @property
    @abc.abstractmethod
    def setting_range(self) -> tuple[float, float]:
        """Reachable settings: angle range in deg, or (first, last) slot."""

    @abc.abstractmethod
    def setting(self) -> float:
        """Current angle (deg) or slot."""

    @abc.abstractmethod
    def set_setting(self, value: float, timeout_s: float = 10.0) -> float:
        """Move to ``value`` and wait; returns the setting reached."""

    def check_setting(self, value: float) -> None:
        lo, hi = self.setting_range
        if not lo <= value <= hi:
            raise self.fault(f"setting {value} outside [{lo}, {hi}]")
        if self.kind == "discrete" and value != int(value):
            raise self.fault(f"slot {value} is not an integer")
