"""Simulated time shared by every simulated device of one rig.

Virtual time advances only when a device waits (a move, an exposure, a settling meter).
Each wait also sleeps ``time_scale`` × its duration in real time: 0 in tests (instant and
deterministic), 1 for a demo that looks like the real rig.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    def __init__(self, time_scale: float = 0.0, start_s: float = 0.0) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.time_scale = time_scale
        self._now = start_s
        self._lock = threading.Lock()

    def now(self) -> float:
        """Virtual seconds since the rig was built."""
        with self._lock:
            return self._now

    def sleep(self, duration_s: float) -> None:
        """Let ``duration_s`` of virtual time pass (scaled real sleep)."""
        if duration_s <= 0:
            return
        if self.time_scale > 0:
            time.sleep(duration_s * self.time_scale)
        with self._lock:
            self._now += duration_s

    def advance_to(self, t_s: float) -> None:
        """Wait until virtual time ``t_s`` (no-op when already past)."""
        self.sleep(t_s - self.now())
