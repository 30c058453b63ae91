"""What every driver shares: vendor errors, error translation, polling with a deadline."""

from __future__ import annotations

import contextlib
import functools
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import pyvisa
import serial

from drivers.transport import PortOpenError
from tamrig.devices.base import Device
from tamrig.errors import (
    DeviceDisconnected,
    DeviceFault,
    DeviceProtocolError,
    DeviceStateError,
    DeviceTimeout,
)

T = TypeVar("T")
InstrumentT = TypeVar("InstrumentT")


class InstrumentDevice(Device, Generic[InstrumentT]):
    """A tamrig device wrapping one protocol-level instrument object.

    The instrument is created in ``_connect`` (or injected ready-made, as protocol tests do);
    :attr:`inst` refuses use before that with a clear device fault.
    """

    def __init__(
        self, name: str, settings: Any = None, instrument: InstrumentT | None = None
    ) -> None:
        super().__init__(name, settings)
        self._inst = instrument

    @property
    def inst(self) -> InstrumentT:
        if self._inst is None:
            raise self.fault("not connected", DeviceStateError)
        return self._inst


F = TypeVar("F", bound=Callable[..., Any])


def exchange(method: F) -> F:
    """Make one command/reply exchange atomic on the instrument's ``lock``.

    Scans and GUI panels use the same device from different threads; without this a status
    poll could slip between a command and its reply. Waits release the lock between polls,
    so a stop from another thread is never held up by a move in progress.
    """

    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


class InstrumentLock:
    """Mixin giving an instrument the re-entrant ``lock`` that :func:`exchange` takes."""

    @property
    def lock(self) -> threading.RLock:
        lock = self.__dict__.get("_exchange_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_exchange_lock", threading.RLock())
        return lock


class VendorError(Exception):
    """The instrument reported an error: its own code and the manual's meaning of it."""

    def __init__(self, code: str, meaning: str, context: str = "") -> None:
        self.code = code
        self.meaning = meaning
        self.context = context
        where = f" after {context}" if context else ""
        super().__init__(f"error {code} ({meaning}){where}")


class ReplyError(Exception):
    """A reply that does not parse as the protocol says it should."""


_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def finite_number(text: str) -> float | None:
    """``text`` as a plain decimal number, or None.

    Python's ``float`` also takes ``nan``, ``inf``, ``1_0`` and non-ASCII digits, and turns
    ``1e999`` into infinity; from an instrument all of those are garbage, not readings.
    """
    text = text.strip()
    if _DECIMAL.fullmatch(text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


@contextlib.contextmanager
def device_errors(device: Device) -> Iterator[None]:
    """Translate transport and vendor exceptions into tamrig's DeviceFault family, and
    remember the message as the device's last error (for status displays)."""
    try:
        yield
    except Exception as exc:
        fault = _translate(device, exc)
        if fault is None:
            raise
        device.last_error = fault.detail
        if fault is exc:
            raise
        raise fault from exc


def _translate(device: Device, exc: Exception) -> DeviceFault | None:
    if isinstance(exc, DeviceFault):
        return exc
    if isinstance(exc, VendorError):
        return device.fault(str(exc), DeviceStateError)
    if isinstance(exc, pyvisa.errors.VisaIOError):
        if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
            return device.fault(f"no reply: {exc.description}", DeviceTimeout)
        return device.fault(f"VISA error: {exc.description}", DeviceDisconnected)
    if isinstance(exc, TimeoutError):
        return device.fault(f"no reply: {exc}", DeviceTimeout)
    if isinstance(exc, ReplyError):
        return device.fault(f"unexpected reply: {exc}", DeviceProtocolError)
    if isinstance(exc, UnicodeDecodeError):  # line noise: a byte that is not text
        garbled = bytes(exc.object[max(exc.start - 16, 0) : exc.end + 16])
        return device.fault(f"garbled reply, not text: {garbled!r}", DeviceProtocolError)
    if isinstance(exc, PortOpenError):
        return device.fault(str(exc), DeviceDisconnected)
    if isinstance(exc, serial.SerialException | OSError):
        return device.fault(f"connection lost: {exc}", DeviceDisconnected)
    return None


def poll_until(
    condition: Callable[[], T | None],
    timeout_s: float,
    interval_s: float,
    what: str,
) -> T:
    """Call ``condition`` until it returns something other than None, or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout_s} s")
        if interval_s > 0:
            time.sleep(interval_s)
