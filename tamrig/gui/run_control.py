"""Start / pause / resume / abort, with progress, ETA and the point being measured."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

#: which buttons are enabled in each run state
BUTTONS = {
    "idle": {"start"},
    "starting": {"abort"},
    "running": {"pause", "abort"},
    "pausing": {"abort"},
    "paused": {"resume", "abort"},
    "stopping": set(),
}


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_delay(fs: float) -> str:
    """``464159`` -> ``"464 ps"``: delays in the unit an operator reads them in."""
    for unit, scale in (("ns", 1e6), ("ps", 1e3)):
        if abs(fs) >= scale:
            return f"{fs / scale:.3g} {unit}"
    return f"{fs:g} fs"


class RunControl(QGroupBox):
    start_clicked = pyqtSignal()
    pause_clicked = pyqtSignal()
    resume_clicked = pyqtSignal()
    abort_clicked = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run", parent)
        self.output = QLineEdit()
        self.output.setPlaceholderText("data file (.h5)")
        self.browse = QPushButton("…")
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(self.browse)
        style = self.style()
        assert style is not None
        icons = {
            "start": QStyle.StandardPixmap.SP_MediaPlay,
            "pause": QStyle.StandardPixmap.SP_MediaPause,
            "resume": QStyle.StandardPixmap.SP_MediaSeekForward,
            "abort": QStyle.StandardPixmap.SP_MediaStop,
        }
        self.buttons = {
            name: QPushButton(style.standardIcon(icon), name) for name, icon in icons.items()
        }
        self.buttons["abort"].setStyleSheet("color: #b01c1c; font-weight: bold")
        for name, signal in (
            ("start", self.start_clicked),
            ("pause", self.pause_clicked),
            ("resume", self.resume_clicked),
            ("abort", self.abort_clicked),
        ):
            self.buttons[name].clicked.connect(signal.emit)
        row = QHBoxLayout()
        for button in self.buttons.values():
            row.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.state_label = QLabel("idle")
        self.state_label.setWordWrap(True)
        self.eta = QLabel("–")
        self.point = QLabel("–")
        self.point.setWordWrap(True)
        form = QFormLayout()
        form.addRow("data file", out_row)
        form.addRow("state", self.state_label)
        form.addRow("progress", self.progress)
        form.addRow("ETA", self.eta)
        form.addRow("point", self.point)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(form)
        self.state = "idle"
        self.set_state("idle")

    def set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        enabled = BUTTONS[state]
        for name, button in self.buttons.items():
            button.setEnabled(name in enabled)
        self.output.setEnabled(state == "idle")
        self.browse.setEnabled(state == "idle")
        self.state_label.setText(f"{state} — {detail}" if detail else state)

    def set_progress(self, fraction: float, eta_s: float | None) -> None:
        self.progress.setValue(round(1000 * max(0.0, min(1.0, fraction))))
        self.progress.setFormat(f"{100 * fraction:.1f} %")
        self.eta.setText(format_duration(eta_s))
