"""A persistent, filterable log of what happened: device faults, scan events, commands.

Entries are kept in a bounded list (the newest ``capacity``); the view shows those that
match the level and the text filter. Python ``logging`` records of the ``tamrig``,
``drivers`` and ``simulators`` loggers (warnings and up) arrive through :class:`QtLogHandler`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QTextCursor
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

LEVELS = ("info", "warning", "error")
COLOURS = {"info": "#202020", "warning": "#9a6400", "error": "#b01c1c"}


@dataclass(frozen=True)
class LogEntry:
    time_s: float
    level: str
    source: str
    text: str

    def line(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.time_s))
        return f"{stamp}  {self.level:<7}  {self.source:<12}  {self.text}"


class LogPanel(QWidget):
    def __init__(self, capacity: int = 5000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: deque[LogEntry] = deque(maxlen=capacity)
        self.level = QComboBox()
        self.level.addItems(["all", "warnings and errors", "errors only"])
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter (device, word…)")
        self.filter.setClearButtonEnabled(True)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(capacity)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        row = QHBoxLayout()
        row.addWidget(self.level)
        row.addWidget(self.filter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self.level.currentIndexChanged.connect(self.refilter)
        self.filter.textChanged.connect(self.refilter)

    def add(self, level: str, source: str, text: str) -> None:
        entry = LogEntry(time.time(), level if level in LEVELS else "info", source, text)
        self.entries.append(entry)
        if self.matches(entry):
            self._append(entry)

    def matches(self, entry: LogEntry) -> bool:
        if LEVELS.index(entry.level) < self.level.currentIndex():
            return False
        needle = self.filter.text().strip().lower()
        return not needle or needle in f"{entry.source} {entry.text}".lower()

    def visible_lines(self) -> list[str]:
        return [e.line() for e in self.entries if self.matches(e)]

    def refilter(self) -> None:
        self.view.clear()
        for entry in self.entries:
            if self.matches(entry):
                self._append(entry)

    def _append(self, entry: LogEntry) -> None:
        colour = COLOURS[entry.level]
        text = entry.line().replace("&", "&amp;").replace("<", "&lt;")
        self.view.appendHtml(f'<span style="color:{colour}; white-space:pre">{text}</span>')
        self.view.moveCursor(QTextCursor.MoveOperation.End)


class QtLogHandler(logging.Handler):
    """Forwards log records to the GUI thread (records may come from any thread)."""

    class _Relay(QObject):
        record = pyqtSignal(str, str, str)

    def __init__(self, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.relay = self._Relay()

    def emit(self, record: logging.LogRecord) -> None:
        level = "error" if record.levelno >= logging.ERROR else "warning"
        if record.levelno < logging.WARNING:
            level = "info"
        try:
            self.relay.record.emit(level, record.name.split(".")[-1], record.getMessage())
        except RuntimeError:  # the relay was deleted with the window
            pass
