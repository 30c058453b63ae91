"""One gate per device for every call the GUI makes, so two threads never talk to one
instrument at once — and a slow instrument (a power meter averaging for 0.3 s) holds up only
its own panel, never the camera stream.

Workers take the lock of the device they use (:meth:`RigAccess.call` with ``roles``); actions
on the whole rig take every lock, in a fixed order. While a scan runs the engine owns the rig:
:meth:`RigAccess.claim_for_scan` marks it busy and the workers leave the devices alone until
:meth:`release_from_scan`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from tamrig.errors import DeviceStateError
from tamrig.rig import Rig

T = TypeVar("T")


class RigBusy(DeviceStateError):
    """A manual command was refused because a scan owns the rig."""


class RigAccess:
    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.locks = {role: threading.RLock() for role in rig.devices}
        self._scan = threading.Event()

    @property
    def scan_active(self) -> bool:
        return self._scan.is_set()

    @contextmanager
    def holding(self, roles: Iterable[str] | None = None) -> Iterator[None]:
        """Hold the locks of ``roles`` (None: every device), always in the same order."""
        wanted = self.locks if roles is None else set(roles)
        with ExitStack() as stack:
            for role in sorted(r for r in wanted if r in self.locks):
                stack.enter_context(self.locks[role])
            yield

    def claim_for_scan(self) -> None:
        with self.holding(None):  # waits for any manual command in flight
            self._scan.set()

    def release_from_scan(self) -> None:
        self._scan.clear()

    def call(
        self,
        action: Callable[[Rig], T],
        *,
        roles: Iterable[str] | None = None,
        what: str = "command",
    ) -> T:
        """Run ``action(rig)`` holding the devices' locks; refused while a scan owns the rig."""
        with self.holding(roles):
            if self._scan.is_set():
                raise RigBusy("rig", f"{what} refused: a scan is running")
            return action(self.rig)
