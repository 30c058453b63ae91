"""What every driver shares: the instrument's life cycle, declared queries and settings,
vendor errors, error translation, polling with a deadline."""

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
from pymeasure.instruments import Instrument

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

    def _open_instrument(self) -> InstrumentT:
        """Open the port the settings name and build the instrument on it."""
        raise NotImplementedError(f"{type(self).__name__} cannot open its own port")

    def _open(self) -> InstrumentT:
        """The instrument, opened now unless it is already (or was injected ready-made)."""
        if self._inst is None:
            self._inst = self._open_instrument()
        return self._inst

    def _release(self, inst: InstrumentT) -> None:
        """Leave the instrument tidy before its port closes (e.g. stop a status stream)."""

    def _disconnect(self) -> None:
        """Forget the instrument and close its port, after :meth:`_release`, whatever fails."""
        inst, self._inst = self._inst, None
        if inst is None:
            return
        try:
            self._release(inst)
        finally:
            adapter = getattr(inst, "adapter", None)
            if adapter is not None:
                adapter.close()


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


class DeadlinePassed(TimeoutError):
    """The instrument kept answering but a polled condition was not reached in time
    (unlike a TimeoutError from the port, where no reply came at all)."""


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
    if isinstance(exc, DeadlinePassed):
        return device.fault(f"instrument replied but {exc}", DeviceTimeout)
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


def number_reply(command: str) -> Callable[[str], float]:
    """Parser of a reply that must be one finite decimal number."""

    def parse(reply: str) -> float:
        value = finite_number(reply)
        if value is None:
            raise ReplyError(f"{reply!r} to {command} (expected one finite number)")
        return value

    return parse


def integer_reply(command: str) -> Callable[[str], int]:
    """Parser of a reply that must be one decimal integer."""

    def parse(reply: str) -> int:
        text = reply.strip()
        try:  # int() alone would also take '1_0' and non-ASCII digits
            if re.fullmatch(r"[+-]?[0-9]+", text) is None:
                raise ValueError(text)
            return int(text)
        except ValueError:  # also the digit-count limit of very long numbers
            raise ReplyError(f"{reply!r} to {command} (expected an integer)") from None

    return parse


def flag_reply(command: str) -> Callable[[str], bool]:
    """Parser of a reply that must be 0 or 1."""

    def parse(reply: str) -> bool:
        text = reply.strip()
        if text not in ("0", "1"):
            raise ReplyError(f"{reply!r} to {command} (expected 0 or 1)")
        return text == "1"

    return parse


def finite_value(value: Any, values: Any = None) -> float:
    """pymeasure validator: a finite number (a NaN or infinity never reaches a controller)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def whole_number(value: Any, values: Any = None) -> int:
    """pymeasure validator: an integer value (1.0 passes, 1.5 and NaN do not)."""
    number = finite_value(value)
    if number != int(number):
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def measured(command: str, docs: str, parse: Callable[[str], Any]) -> Any:
    """``Instrument.measurement`` whose whole reply goes to ``parse``.

    pymeasure would split the reply at commas and keep text that does not cast as a string;
    here ``parse`` sees the reply as one piece and raises :class:`ReplyError` on junk.
    """
    return Instrument.measurement(command, docs, cast=str, maxsplit=0, get_process=parse)


def controlled(
    get_command: str | None,
    set_command: str,
    docs: str,
    parse: Callable[[str], Any] | None = None,
    *,
    validator: Callable[[Any, Any], Any] = finite_value,
    values: Any = (),
    set_process: Callable[[Any], Any] = lambda v: v,
) -> Any:
    """``Instrument.control`` (or ``setting``, without ``get_command``) followed by the
    instrument's error query (``check_set_errors``), command and error query as one exchange
    on the instrument's lock, so no other thread's query slips in between."""
    checked: dict[str, Any] = dict(
        validator=validator, values=values, set_process=set_process, check_set_errors=True
    )
    if get_command is None:
        prop = Instrument.setting(set_command, docs, **checked)
    else:
        prop = Instrument.control(
            get_command,
            set_command,
            docs,
            cast=str,
            maxsplit=0,
            get_process=parse or str,
            **checked,
        )
    return prop.setter(exchange(prop.fset))


def poll_until(
    condition: Callable[[], T | None],
    timeout_s: float,
    interval_s: float,
    what: str,
) -> T:
    """Call ``condition`` until it returns something other than None, or raise DeadlinePassed."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise DeadlinePassed(f"{what} not reached within {timeout_s} s")
        if interval_s > 0:
            time.sleep(interval_s)
