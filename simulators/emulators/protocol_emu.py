"""pyserial URL handler ``emu://KIND[?option=value&...]`` for the in-process emulators.

``serial.serial_for_url("emu://smc100?address=2")`` returns a serial port wired to a fresh
emulator; ``emu://@NAME`` attaches to an emulator registered with
:func:`simulators.emulators.register` (tests that inspect the emulator's state). Reads wait
up to the port's timeout for output, so timeouts behave as on a real port.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import serial
from serial.serialutil import PortNotOpenError, SerialBase

from simulators.emulators import create, lookup
from simulators.emulators.base import Emulator


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


class Serial(SerialBase):
    """A SerialBase whose far end is an :class:`Emulator` in this process."""

    emulator: Emulator

    def open(self) -> None:
        if self._port is None:
            raise serial.SerialException("port must be configured before it can be used")
        url = urllib.parse.urlsplit(self._port)
        if url.scheme != "emu":
            raise serial.SerialException(f"expected an emu:// URL, got {self._port!r}")
        name = url.netloc + url.path
        if name.startswith("@"):
            self.emulator = lookup(name[1:])
        else:
            options = {k: _parse_value(v) for k, v in urllib.parse.parse_qsl(url.query)}
            self.emulator = create(name, **options)
        self._rx = bytearray()
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    def _reconfigure_port(self, force_update: bool = False) -> None:
        """Line settings mean nothing in process."""

    def _pull(self) -> None:
        self._rx += self.emulator.read_available()

    @property
    def in_waiting(self) -> int:
        self._pull()
        return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            self._pull()
            if len(self._rx) >= size:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.0005)
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        self.emulator.write(bytes(data))
        return len(data)

    def reset_input_buffer(self) -> None:
        self._pull()
        self._rx.clear()

    def reset_output_buffer(self) -> None:
        """Writes are delivered at once; nothing to discard."""

    def flush(self) -> None:
        """Writes are delivered at once."""
