"""One display clock for the whole window: events only mark views dirty, this draws them.

A camera at 200 fps or a scan finishing a point every 50 ms would otherwise redraw a view
per event and stall the event loop. Each view registers a ``draw`` callable that returns at
once when nothing changed; the clock calls them all at the display rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtCore import QObject, Qt, QTimer

Draw = Callable[[], None]

#: redraws per second: more than the eye follows in a live image, few enough to stay idle
DISPLAY_HZ = 25.0


class DisplayClock(QObject):
    def __init__(self, rate_hz: float = DISPLAY_HZ, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._draws: list[Draw] = []
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.CoarseTimer)
        self.timer.setInterval(max(1, round(1000.0 / rate_hz)))
        self.timer.timeout.connect(self.tick)
        self.ticks = 0
        self.busy_s = 0.0  # time spent drawing, for the benchmark
        self.max_s = 0.0  # longest tick

    def register(self, draw: Draw) -> None:
        self._draws.append(draw)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def tick(self) -> None:
        """Draw every dirty view once (also called directly by tests: no waiting)."""
        t0 = time.perf_counter()
        for draw in self._draws:
            draw()
        spent = time.perf_counter() - t0
        self.ticks += 1
        self.busy_s += spent
        self.max_s = max(self.max_s, spent)
