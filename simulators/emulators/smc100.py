"""Newport SMC100CC emulator: state machine, timed motion, latched TE error letter.

Models power-up NOT REFERENCED (0A) → OR → HOMING (1E) → READY (32); PA/PR → MOVING (28) →
READY (33); ST; software limits SL/SR (error G for PA outside them); errors A (unknown
command), C (bad parameter), H (move while NOT REFERENCED), M (OR while moving).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from simulators.emulators.base import LineEmulator, MotionProfile


class SMC100Emulator(LineEmulator):
    terminator = b"\r\n"

    def __init__(
        self,
        address: int = 1,
        *,
        velocity_mm_s: float = 2000.0,
        home_s: float = 0.01,
        limits_mm: tuple[float, float] = (0.0, 300.0),
        start_mm: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.address = address
        self.velocity = velocity_mm_s
        self.home_s = home_s
        self.limits = limits_mm
        self.state = 0x0A
        self.error = "@"
        self.positioner_bits = 0
        self.motion = MotionProfile(start_mm, start_mm, 1.0, clock())
        self.homing_until: float | None = None

    # -- time ------------------------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock()
        if self.state in (0x1E, 0x1F) and self.homing_until is not None:
            if now >= self.homing_until:
                self.motion = MotionProfile(0.0, 0.0, 1.0, now)
                self.state = 0x32
                self.homing_until = None
        elif self.state == 0x28 and self.motion.done(now):
            self.state = 0x33

    @property
    def position(self) -> float:
        return self.motion.position(self.clock())

    # -- protocol --------------------------------------------------------------------------
    def handle(self, line: str) -> None:
        m = re.fullmatch(r"(\d{1,2})([A-Za-z]{2})(\??)(.*)", line.strip())
        if m is None:
            self.error = "A"
            return
        addr, cmd, query, arg = int(m.group(1)), m.group(2).upper(), m.group(3), m.group(4)
        if addr != self.address:
            return  # another controller on the chain
        handler = getattr(self, f"_cmd_{cmd}", None)
        if handler is None:
            self.error = "A"
            return
        handler(query == "?", arg)

    def _answer(self, cmd: str, value: str) -> None:
        self.reply(f"{self.address}{cmd}{value}\r\n".encode())

    def _number(self, arg: str) -> float | None:
        try:
            return float(arg)
        except ValueError:
            self.error = "C"
            return None

    def _cmd_TP(self, query: bool, arg: str) -> None:
        self._answer("TP", f"{self.position:.6f}")

    def _cmd_TS(self, query: bool, arg: str) -> None:
        self._answer("TS", f"{self.positioner_bits:04X}{self.state:02X}")

    def _cmd_TE(self, query: bool, arg: str) -> None:
        self._answer("TE", self.error)
        self.error = "@"

    def _cmd_VE(self, query: bool, arg: str) -> None:
        self._answer("VE", " SMC_CC - Controller-driver version 3.0.0 (emulated)")

    def _cmd_ID(self, query: bool, arg: str) -> None:
        self._answer("ID", "ILS300CC_EMULATED")

    def _cmd_SL(self, query: bool, arg: str) -> None:
        if query:
            self._answer("SL", f"{self.limits[0]:g}")
        elif (value := self._number(arg)) is not None:
            self.limits = (value, self.limits[1])

    def _cmd_SR(self, query: bool, arg: str) -> None:
        if query:
            self._answer("SR", f"{self.limits[1]:g}")
        elif (value := self._number(arg)) is not None:
            self.limits = (self.limits[0], value)

    def _cmd_VA(self, query: bool, arg: str) -> None:
        if query:
            self._answer("VA", f"{self.velocity:g}")
        elif (value := self._number(arg)) is not None:
            if value <= 0:
                self.error = "C"
            else:
                self.velocity = value

    def _cmd_OR(self, query: bool, arg: str) -> None:
        if self.state in (0x1E, 0x1F):
            self.error = "E"
        elif self.state == 0x28:
            self.error = "M"
        elif self.state not in range(0x0A, 0x12):
            self.error = "K"
        else:
            self.state = 0x1E
            self.homing_until = self.clock() + self.home_s

    def _move(self, target: float) -> None:
        if self.state in range(0x0A, 0x12):
            self.error = "H"
        elif self.state in (0x3C, 0x3D, 0x3E):
            self.error = "J"
        elif self.state not in (0x32, 0x33, 0x34, 0x35, 0x28):
            self.error = "D"
        elif not self.limits[0] <= target <= self.limits[1]:
            self.error = "G"
        else:
            now = self.clock()
            self.motion = MotionProfile(self.motion.position(now), target, self.velocity, now)
            self.state = 0x28

    def _cmd_PA(self, query: bool, arg: str) -> None:
        if (value := self._number(arg)) is not None:
            self._move(value)

    def _cmd_PR(self, query: bool, arg: str) -> None:
        if (value := self._number(arg)) is not None:
            self._move(self.position + value)

    def _cmd_ST(self, query: bool, arg: str) -> None:
        now = self.clock()
        if self.state == 0x28:
            here = self.motion.position(now)
            self.motion = MotionProfile(here, here, 1.0, now)
            self.state = 0x33
        elif self.state in (0x1E, 0x1F):
            self.state = 0x0B
            self.homing_until = None

    def _cmd_MM(self, query: bool, arg: str) -> None:
        if arg == "0" and self.state in (0x32, 0x33, 0x34, 0x35):
            self.state = 0x3C
        elif arg == "1" and self.state in (0x3C, 0x3D, 0x3E):
            self.state = 0x34
        elif arg not in ("0", "1"):
            self.error = "C"
        else:
            self.error = "D"

    def _cmd_RS(self, query: bool, arg: str) -> None:
        self.state = 0x0A
        self.positioner_bits = 0
