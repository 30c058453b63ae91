"""The safety line: one row, always visible, with what an operator must never guess.

Pump shutter as read back from the device (not as last commanded), the camera interlock
that allows it to open, and the active fault. Fed from the device worker's read-backs,
which continue while a scan runs, and from the scan's fault events.
"""

from __future__ import annotations

import time

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from tamrig.gui.state import DeviceState

GREEN = "background: #1b7d1b; color: white; font-weight: bold; padding: 2px 8px"
AMBER = "background: #d98c00; color: black; font-weight: bold; padding: 2px 8px"
RED = "background: #b01c1c; color: white; font-weight: bold; padding: 2px 8px"
GREY = "background: #777777; color: white; padding: 2px 8px"


def _label() -> QLabel:
    label = QLabel("…")
    # text changes never resize the window: the label takes the room it is given
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return label


class SafetyLine(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pump = _label()
        self.interlock = _label()
        self.fault = _label()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.pump, 3)
        layout.addWidget(self.interlock, 4)
        layout.addWidget(self.fault, 8)
        self.pump_open: bool | None = None
        self.read_at = 0.0
        self.active_fault = ""
        self.set_pump(None, "no read-back yet")
        self.interlock.setText("interlock: –")
        self.interlock.setStyleSheet(GREY)
        self.clear_fault()

    def apply_states(self, states: dict[str, DeviceState]) -> None:
        """Update from one poll of every device (read-backs)."""
        pump = states.get("pump_shutter")
        if pump is not None:
            if pump.read_error or "open" not in pump.values:
                self.set_pump(None, pump.read_error or "not read")
            else:
                self.set_pump(bool(pump.values["open"]))
            self.read_at = pump.timestamp or time.time()
        camera = states.get("camera")
        if camera is not None and "acquiring" in camera.values:
            if camera.values["acquiring"]:
                self.interlock.setText("interlock: camera acquiring, pump may open")
                self.interlock.setStyleSheet(AMBER)
            else:
                self.interlock.setText("interlock: camera idle, pump held")
                self.interlock.setStyleSheet(GREEN)
        errors = [
            f"{role}: {s.read_error or 'disconnected'}"
            for role, s in states.items()
            if s.read_error or not s.connected
        ]
        if errors and not self.active_fault:
            self._show_fault("; ".join(errors))
        elif not errors and not self.active_fault:
            self.clear_fault()

    def set_pump(self, is_open: bool | None, why: str = "") -> None:
        self.pump_open = is_open
        if is_open is None:
            self.pump.setText("PUMP SHUTTER UNKNOWN")
            self.pump.setToolTip(f"the pump shutter could not be read back: {why}")
            self.pump.setStyleSheet(RED)
        elif is_open:
            self.pump.setText("pump shutter OPEN")
            self.pump.setToolTip("read back from the shutter at the last poll")
            self.pump.setStyleSheet(AMBER)
        else:
            self.pump.setText("pump shutter closed")
            self.pump.setToolTip("read back from the shutter at the last poll")
            self.pump.setStyleSheet(GREEN)

    def set_fault(self, text: str) -> None:
        """A fault the operator must act on (stays until :meth:`clear_fault`)."""
        self.active_fault = text
        self._show_fault(text)

    def _show_fault(self, text: str) -> None:
        self.fault.setText(f"FAULT: {text}")
        self.fault.setToolTip(text)
        self.fault.setStyleSheet(RED)

    def clear_fault(self) -> None:
        self.active_fault = ""
        self.fault.setText("no active fault")
        self.fault.setToolTip("")
        self.fault.setStyleSheet(GREEN)
