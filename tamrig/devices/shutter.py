"""Shutter: pump and probe beams; the pump shutter closed is the rig's safe state."""

from __future__ import annotations

import abc
from typing import ClassVar

from tamrig.devices.base import Device


class Shutter(Device):
    family: ClassVar[str] = "shutter"

    @abc.abstractmethod
    def open(self) -> None:
        """Open and confirm open (raises if the shutter does not report open)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close and confirm closed."""

    @abc.abstractmethod
    def is_open(self) -> bool:
        """State as read back from the hardware (sensor or controller), not as remembered."""

    def _safe_state(self) -> None:
        self.close()
