"""Serial transports for the text and binary drivers.

pymeasure's ``SerialAdapter`` returns whatever arrived when a read times out (often ``''``)
and ignores terminator keyword arguments given to the Instrument when an adapter object is
passed. :class:`StrictSerialAdapter` fixes the first (a missing terminator or short read
raises :class:`TimeoutError`), :func:`make_adapter` the second (terminators are set on the
adapter itself). Ports may be device paths or pyserial URLs: ``socket://127.0.0.1:PORT`` and
``emu://NAME`` (the in-process protocol emulators of the ``simulators`` package) included.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import serial
from pydantic import Field
from pymeasure.adapters import SerialAdapter

from tamrig.devices import DeviceSettings

# ``emu://`` URLs resolve to simulators/emulators/protocol_emu.py when that package exists;
# the name is only a lookup path for pyserial, drivers never import the emulators.
if "simulators.emulators" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("simulators.emulators")


class PortOpenError(serial.SerialException):
    """The port does not exist, is busy, or the URL is malformed."""


class StrictSerialAdapter(SerialAdapter):
    """A SerialAdapter whose reads raise TimeoutError instead of returning a partial reply."""

    def _read(self, **kwargs: Any) -> str:
        raw = self._read_bytes(-1, break_on_termchar=True, **kwargs)
        text = raw.decode("ascii", errors="replace")
        if not self.read_termination:
            return text
        return text[: -len(self.read_termination)]

    def _read_bytes(self, count: int, break_on_termchar: bool, **kwargs: Any) -> bytes:
        conn = self.connection
        if break_on_termchar and self.read_termination:
            term = self.read_termination.encode()
            data = bytes(conn.read_until(term, count if count > 0 else None))
            if not data.endswith(term):
                raise TimeoutError(
                    f"no {self.read_termination!r} terminator within {conn.timeout} s "
                    f"(received {data!r})"
                )
            return data
        if count >= 0:
            data = bytes(conn.read(count))
            if len(data) < count:
                raise TimeoutError(
                    f"expected {count} bytes within {conn.timeout} s, received {data!r}"
                )
            return data
        return bytes(self._read_bytes_until_timeout())

    @contextlib.contextmanager
    def timeout(self, seconds: float) -> Iterator[None]:
        """Temporarily change the read timeout (slow commands such as a wheel move)."""
        old = self.connection.timeout
        self.connection.timeout = seconds
        try:
            yield
        finally:
            self.connection.timeout = old

    def close(self) -> None:
        self.connection.close()


def open_port(
    port: str,
    *,
    baudrate: int,
    timeout_s: float,
    xonxoff: bool = False,
    rtscts: bool = False,
) -> serial.SerialBase:
    """Open a device path or pyserial URL with the vendor's line settings."""
    try:
        conn = serial.serial_for_url(
            port,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=timeout_s,
            write_timeout=timeout_s,
            xonxoff=xonxoff,
            rtscts=rtscts,
        )
    except (serial.SerialException, ValueError) as exc:
        raise PortOpenError(f"cannot open port {port!r}: {exc}") from exc
    sock = getattr(conn, "_socket", None)  # socket:// (terminal servers, emulators)
    if isinstance(sock, socket.socket):
        # A set command followed at once by its error query is two small writes; with
        # Nagle's algorithm the second waits for the peer's delayed ACK (~40 ms).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def make_adapter(
    port: str | serial.SerialBase,
    *,
    baudrate: int,
    timeout_s: float,
    write_termination: str = "",
    read_termination: str = "",
    xonxoff: bool = False,
    rtscts: bool = False,
) -> StrictSerialAdapter:
    """A strict adapter on ``port`` with the terminators set where pymeasure honours them."""
    conn = (
        port
        if isinstance(port, serial.SerialBase)
        else open_port(port, baudrate=baudrate, timeout_s=timeout_s, xonxoff=xonxoff, rtscts=rtscts)
    )
    adapter = StrictSerialAdapter(
        conn, write_termination=write_termination, read_termination=read_termination
    )
    conn.reset_input_buffer()
    return adapter


@contextlib.contextmanager
def adapter_timeout(adapter: Any, seconds: float) -> Iterator[None]:
    """A longer read timeout for a slow command (a move that replies when done); adapters
    without a serial port (protocol transcripts) do not wait at all."""
    if isinstance(adapter, StrictSerialAdapter):
        with adapter.timeout(seconds):
            yield
    else:
        yield


class SerialSettings(DeviceSettings):
    """The link every serial instrument's rig-file table has (drivers set their defaults)."""

    port: str = Field(description="serial device or pyserial URL")
    baudrate: int = 9600
    timeout_s: float = Field(1.0, gt=0, description="per-reply timeout")


def serial_adapter(settings: SerialSettings, **framing: Any) -> StrictSerialAdapter:
    """A strict adapter on the settings' port, with the driver's framing (terminators, flow
    control) passed on to :func:`make_adapter`."""
    return make_adapter(
        settings.port, baudrate=settings.baudrate, timeout_s=settings.timeout_s, **framing
    )
