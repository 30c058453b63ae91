"""One gate for every device call the GUI makes, so two threads never talk to one instrument.

The device worker and the camera worker take :attr:`RigAccess.lock` around each call. While a
scan runs the engine owns the rig: :meth:`RigAccess.claim_for_scan` marks it busy and the
workers leave the devices alone until :meth:`release_from_scan`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from tamrig.errors import DeviceStateError
from tamrig.rig import Rig

T = TypeVar("T")


class RigBusy(DeviceStateError):
    """A manual command was refused because a scan owns the rig."""


class RigAccess:
    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.lock = threading.RLock()
        self._scan = threading.Event()

    @property
    def scan_active(self) -> bool:
        return self._scan.is_set()

    def claim_for_scan(self) -> None:
        with self.lock:  # waits for any manual command in flight
            self._scan.set()

    def release_from_scan(self) -> None:
        self._scan.clear()

    def call(self, action: Callable[[Rig], T], *, what: str = "command") -> T:
        """Run ``action(rig)`` under the lock; refused while a scan owns the rig."""
        with self.lock:
            if self._scan.is_set():
                raise RigBusy("rig", f"{what} refused: a scan is running")
            return action(self.rig)
