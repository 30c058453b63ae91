"""Thorlabs SC10 emulator: echo + reply + ``"> "`` prompt, ``ens`` toggle, closed sensor.

The shutter blade follows the enable output after ``blade_s`` seconds (SH05: a few ms), so a
driver must poll ``closed?`` rather than assume. ``interlock`` can be tripped by a test.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from simulators.emulators.base import LineEmulator


class SC10Emulator(LineEmulator):
    terminator = b"\r"

    def __init__(self, blade_s: float = 0.002, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.enabled = False
        self.mode = 1
        self.interlock = False
        self.blade_s = blade_s
        self._changed_at = -1e9
        self.toggles = 0

    @property
    def closed(self) -> bool:
        settled = self.clock() - self._changed_at >= self.blade_s
        return not self.enabled if settled else self.enabled

    def _send(self, echo: str, *lines: str) -> None:
        body = "".join(f"{line}\r" for line in lines)
        self.reply(f"{echo}\r{body}> ".encode())

    def handle(self, line: str) -> None:
        cmd = line.strip()
        if cmd == "id?":
            self._send(cmd, "THORLABS SC10 VERSION 1.07 (emulated)")
        elif cmd == "ens?":
            self._send(cmd, "1" if self.enabled else "0")
        elif cmd == "ens":
            if not self.interlock:
                self.enabled = not self.enabled
                self._changed_at = self.clock()
                self.toggles += 1
            self._send(cmd)
        elif cmd == "closed?":
            self._send(cmd, "1" if self.closed else "0")
        elif cmd == "interlock?":
            self._send(cmd, "1" if self.interlock else "0")
        elif cmd == "mode?":
            self._send(cmd, str(self.mode))
        elif cmd.startswith("mode="):
            arg = cmd[5:]
            if arg in {"1", "2", "3", "4", "5"}:
                self.mode = int(arg)
                self._send(cmd)
            else:
                self._send(cmd, "CMD_ARG_INVALID")
        else:
            self._send(cmd, "CMD_NOT_DEFINED")
