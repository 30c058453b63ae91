"""Simulated time shared by every simulated device of one rig.

Test mode (``time_scale = 0``): virtual time advances only when a device waits (a move, an
exposure, a settling meter), by exactly that wait, and nothing sleeps -- instant and
deterministic. Real-time mode (``time_scale > 0``): virtual time follows the wall clock,
``time_scale`` real seconds per virtual second, and every wait sleeps. So, as on a real rig,
software time counts and waits in different threads overlap: a stage moving while the
writer thread stores the last point arrives no later for it.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    def __init__(self, time_scale: float = 0.0, start_s: float = 0.0) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self._lock = threading.Lock()
        self._scale = float(time_scale)
        self._base = start_s  # virtual seconds at real time _t0
        self._t0 = time.perf_counter()

    @property
    def time_scale(self) -> float:
        """Real seconds per virtual second (0: no real time passes)."""
        return self._scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        if value < 0:
            raise ValueError("time_scale must be >= 0")
        with self._lock:
            self._base = self._now()
            self._t0 = time.perf_counter()
            self._scale = float(value)

    def _now(self) -> float:
        if self._scale > 0:
            return self._base + (time.perf_counter() - self._t0) / self._scale
        return self._base

    def now(self) -> float:
        """Virtual seconds since the rig was built."""
        if not self._scale:  # test mode: one float, no reading to make consistent
            return self._base
        with self._lock:
            return self._now()

    def sleep(self, duration_s: float) -> None:
        """Let ``duration_s`` of virtual time pass (a scaled real sleep in real-time mode)."""
        if duration_s <= 0:
            return
        if self._scale > 0:
            time.sleep(duration_s * self._scale)
            return
        with self._lock:
            self._base += duration_s

    def advance_to(self, t_s: float) -> None:
        """Wait until virtual time ``t_s`` (no-op when already past)."""
        self.sleep(t_s - self.now())
