"""Polls every device (during scans too) and runs the panels' commands, in a worker thread.

Panels send ``(label, action)`` pairs through :attr:`DeviceWorker.request`; the worker runs
``action(rig)`` under the rig lock, reports failure with the device's message, and re-reads
the states so the panels show the result at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QTimer, pyqtSignal, pyqtSlot

from tamrig.errors import TamrigError
from tamrig.gui.rigaccess import RigAccess
from tamrig.gui.state import DeviceState, read_state
from tamrig.gui.threads import ThreadWorker
from tamrig.rig import Rig

Action = Callable[[Rig], Any]


class DeviceWorker(ThreadWorker):
    #: dict role -> DeviceState, after every poll
    states = pyqtSignal(object)
    #: label, result of a command that succeeded
    command_done = pyqtSignal(str, object)
    #: label, message of a command that failed
    command_failed = pyqtSignal(str, str)
    #: GUI -> worker: (label, action)
    request = pyqtSignal(str, object)

    def __init__(self, access: RigAccess, poll_interval_ms: int = 250) -> None:
        super().__init__()
        self.access = access
        self.poll_interval_ms = poll_interval_ms
        self._timer: QTimer | None = None
        self.request.connect(self.execute)

    @pyqtSlot()
    def setup(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(self.poll_interval_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.poll()

    def stop_work(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    @pyqtSlot()
    def poll(self) -> None:
        """Read every device — during a scan too, so the panels never show a stale state.

        While a scan owns the rig only read-backs run (each one exchange, atomic on the
        instrument's own lock, interleaving with the engine's commands); the power meter,
        whose reading averages for a while, is left to the scan, whose points carry it.
        """
        result: dict[str, DeviceState] = {}
        rig = self.access.rig
        for role in rig.devices:
            with self.access.holding((role,)):  # one device at a time: the camera streams on
                result[role] = read_state(rig, role, skip_slow=self.access.scan_active)
        self.states.emit(result)

    def roles_for(self, role: str) -> tuple[str, ...] | None:
        """Locks a command of ``role`` needs (None: the whole rig)."""
        if role not in self.access.rig.devices:
            return None
        # opening the pump checks the camera's acquisition (interlock): hold both
        return (role, "camera") if role == "pump_shutter" else (role,)

    @pyqtSlot(str, object)
    def execute(self, label: str, action: Action) -> None:
        """Run a command labelled ``"role: what"``; the role's device records its faults."""
        role = label.split(":", 1)[0]

        def guarded(rig: Rig) -> Any:
            device = rig.devices.get(role)
            return action(rig) if device is None else device.guard(lambda: action(rig))

        try:
            value = self.access.call(guarded, roles=self.roles_for(role), what=label)
        except TamrigError as exc:
            self.command_failed.emit(label, str(exc))
        else:
            self.command_done.emit(label, value)
        self.poll()
