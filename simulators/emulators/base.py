"""Byte-level instrument emulators: bytes in, bytes out, state advanced by a clock.

An emulator never blocks: :meth:`Emulator.write` consumes host bytes (and may queue a reply),
:meth:`Emulator.read_available` first advances time-driven state (moves finishing,
unsolicited messages) and then hands over whatever output is pending. The transports in
``protocol_emu`` (pyserial URL handler, in-process) and ``server`` (socket://) only move bytes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Emulator:
    """Base: an output buffer, a lock and a clock (seconds, monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._out = bytearray()
        self._lock = threading.Lock()
        self.log: list[bytes] = []  # every complete host message, for tests

    def write(self, data: bytes) -> None:
        with self._lock:
            self.receive(bytes(data))

    def read_available(self) -> bytes:
        with self._lock:
            self.tick()
            out = bytes(self._out)
            self._out.clear()
            return out

    def reply(self, data: bytes) -> None:
        self._out += data

    # -- for subclasses --------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        raise NotImplementedError

    def tick(self) -> None:
        """Advance time-driven state (default: nothing is time-driven)."""


class LineEmulator(Emulator):
    """Host messages end with ``terminator``; :meth:`handle` answers each one."""

    terminator: bytes = b"\r"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self._inbuf = bytearray()

    def receive(self, data: bytes) -> None:
        self._inbuf += data
        while True:
            end = self._inbuf.find(self.terminator)
            if end < 0:
                return
            line = bytes(self._inbuf[:end])
            del self._inbuf[: end + len(self.terminator)]
            self.log.append(line)
            self.tick()
            self.handle(line.decode("ascii", errors="replace"))

    def handle(self, line: str) -> None:
        raise NotImplementedError


class MotionProfile:
    """A constant-velocity move from ``start`` to ``target`` beginning at ``t0``."""

    def __init__(self, start: float, target: float, speed: float, t0: float) -> None:
        self.start, self.target, self.speed, self.t0 = start, target, speed, t0
        self.duration = abs(target - start) / speed if speed > 0 else 0.0

    def position(self, now: float) -> float:
        if self.duration <= 0 or now - self.t0 >= self.duration:
            return self.target
        frac = (now - self.t0) / self.duration
        return self.start + (self.target - self.start) * frac

    def done(self, now: float) -> bool:
        return now - self.t0 >= self.duration
