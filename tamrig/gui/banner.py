"""A fault banner across the top of the window: which device, what happened, rig state."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class FaultBanner(QWidget):
    dismissed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("faultBanner")
        self.setStyleSheet(
            "#faultBanner { background: #b01c1c; } QLabel { color: white; font-weight: bold; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # paint the red
        self.text = QLabel("")
        self.text.setWordWrap(True)
        dismiss = QPushButton("dismiss")
        dismiss.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(dismiss)
        self.device = ""
        self.message = ""
        self.hide()

    def show_fault(self, device: str, message: str, safe_state: str) -> None:
        self.device, self.message = device, message
        self.text.setText(f"FAULT — {device}: {message}   ·   {safe_state}")
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
