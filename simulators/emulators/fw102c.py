"""Thorlabs FW102C/FW212C emulator: echo + prompt, timed moves along the shortest path.

The prompt after ``pos=n`` comes when the wheel stops (``step_s`` per slot); ``passed``
records every slot the wheel went through, so tests can check boundary-respecting moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from simulators.emulators.base import LineEmulator


class FW102CEmulator(LineEmulator):
    terminator = b"\r"

    def __init__(
        self,
        count: int = 6,
        step_s: float = 0.001,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.count = count
        self.step_s = step_s
        self.pos = 1
        self.speed = 1
        self.sensors = 0
        self.passed: list[int] = [1]
        self._done_at: float | None = None
        self._pending = b""

    def tick(self) -> None:
        if self._done_at is not None and self.clock() >= self._done_at:
            self._done_at = None
            self.reply(self._pending)

    def _send(self, echo: str, *lines: str) -> None:
        self.reply(("".join(f"{x}\r" for x in (echo, *lines)) + "> ").encode())

    def _move(self, target: int) -> int:
        forward = (target - self.pos) % self.count
        backward = (self.pos - target) % self.count
        step, n = (1, forward) if forward <= backward else (-1, backward)
        for _ in range(n):
            self.pos = (self.pos - 1 + step) % self.count + 1
            self.passed.append(self.pos)
        return n

    def handle(self, line: str) -> None:
        cmd = line.strip()
        if self._done_at is not None:
            return  # busy moving: the wheel ignores input
        if cmd == "*idn?":
            self._send(
                cmd,
                f"THORLABS FW{'212' if self.count == 12 else '102'}C/FW212C "
                "Filter Wheel version 1.07 (emulated)",
            )
        elif cmd == "pos?":
            self._send(cmd, str(self.pos))
        elif cmd == "pcount?":
            self._send(cmd, str(self.count))
        elif cmd.startswith("pos="):
            try:
                target = int(cmd[4:])
            except ValueError:
                target = 0
            if not 1 <= target <= self.count:
                self._send(cmd, "Command error CMD_ARG_INVALID")
                return
            steps = self._move(target)
            self._pending = f"{cmd}\r> ".encode()
            self._done_at = self.clock() + steps * self.step_s
        elif cmd.startswith(("speed=", "sensors=")):
            key, _, arg = cmd.partition("=")
            if arg in ("0", "1"):
                setattr(self, key, int(arg))
                self._send(cmd)
            else:
                self._send(cmd, "Command error CMD_ARG_INVALID")
        else:
            self._send(cmd, "Command error CMD_NOT_DEFINED")
