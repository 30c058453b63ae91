"""Thorlabs Elliptec ELL14 emulator: un-terminated addressed hex commands, timed rotation.

Commands are framed by length (``ma`` + 8 hex digits, ``ho`` + 1 digit, queries bare); a CR
resets the parser as on the device. Move replies (``PO``) are sent when the move ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from simulators.emulators.base import Emulator, MotionProfile

PULSES_PER_REV = 143360
DATA_LEN = {"ma": 8, "mr": 8, "sj": 8, "so": 8, "ho": 1, "ca": 1}
QUERIES = {"in", "gs", "gp", "gj", "go", "us", "fw", "bw", "st"}


def _hex32(value: int) -> str:
    return f"{value & 0xFFFFFFFF:08X}"


class ELL14Emulator(Emulator):
    def __init__(
        self,
        address: str = "0",
        deg_per_s: float = 36000.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.address = address.upper()
        self.speed = deg_per_s * PULSES_PER_REV / 360.0
        self.motion = MotionProfile(0.0, 0.0, 1.0, clock())
        self.jog = PULSES_PER_REV // 360
        self.offset = 0
        self._buf = ""
        self._pending_done = False

    def _send(self, text: str) -> None:
        self.reply(f"{self.address}{text}\r\n".encode())

    @property
    def pulses(self) -> int:
        return round(self.motion.position(self.clock()))

    def tick(self) -> None:
        if self._pending_done and self.motion.done(self.clock()):
            self._pending_done = False
            self._send(f"PO{_hex32(self.pulses)}")

    def receive(self, data: bytes) -> None:
        for ch in data.decode("ascii", errors="replace"):
            if ch in "\r\n":
                self._buf = ""
                continue
            self._buf += ch
            self._parse()

    def _parse(self) -> None:
        if len(self._buf) < 3:
            return
        addr, cmd = self._buf[0].upper(), self._buf[1:3]
        need = DATA_LEN.get(cmd, 0)
        if cmd not in DATA_LEN and cmd not in QUERIES:
            self._buf = ""
            if addr == self.address:
                self._send("GS03")
            return
        if len(self._buf) < 3 + need:
            return
        data, self._buf = self._buf[3 : 3 + need], ""
        self.log.append(f"{addr}{cmd}{data}".encode())
        if addr != self.address:
            return
        self.tick()
        self._execute(cmd, data)

    def _start(self, target: int) -> None:
        now = self.clock()
        self.motion = MotionProfile(self.motion.position(now), float(target), self.speed, now)
        self._pending_done = True
        self.tick()

    def _execute(self, cmd: str, data: str) -> None:
        if self._pending_done and cmd not in ("gs", "st"):
            self._send("GS09")
            return
        if cmd == "in":
            self._send(f"IN0E1140051720231701{360:04X}{PULSES_PER_REV:08X}")
        elif cmd == "gs":
            self._send("GS09" if self._pending_done else "GS00")
        elif cmd == "gp":
            self._send(f"PO{_hex32(self.pulses)}")
        elif cmd in ("ma", "mr"):
            try:
                value = int(data, 16)
            except ValueError:
                self._send("GS03")
                return
            value = value - (1 << 32) if value & 0x80000000 else value
            target = value if cmd == "ma" else self.pulses + value
            if not -PULSES_PER_REV <= target <= 2 * PULSES_PER_REV:
                self._send("GS04")
                return
            self._start(target)
        elif cmd == "ho":
            self._start(0)
        elif cmd == "gj":
            self._send(f"GJ{_hex32(self.jog)}")
        elif cmd == "go":
            self._send(f"HO{_hex32(self.offset)}")
        else:
            self._send("GS00")
