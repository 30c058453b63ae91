"""Thorlabs Elliptec ELL14 rotation mount carrying the pump half-wave plate.

Protocol: host sends ``<addr><cmd>[data]`` with *no* terminator (addresses ``0``–``F``,
lower-case commands, data as 8 upper-case hex digits, signed 32-bit); replies are
``<addr><CMD>data\\r\\n``. A move (``ma``/``ho``) replies only when it completes, with the
position (``PO``) — or with a status (``GS``) on failure. Angles are converted with the
pulses per revolution the mount reports in ``in``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, field_validator
from pymeasure.instruments import Instrument

from drivers.common import (
    InstrumentDevice,
    InstrumentLock,
    ReplyError,
    VendorError,
    device_errors,
    exchange,
)
from drivers.transport import SerialSettings, adapter_timeout, serial_adapter
from tamrig.devices import Attenuator
from tamrig.devices.attenuator import AttenuatorKind
from tamrig.errors import DeviceStateError

#: GS status codes (Elliptec protocol manual).
STATUS = {
    0: "OK, no error",
    1: "communication time out",
    2: "mechanical time out",
    3: "command error or not supported",
    4: "value out of range",
    5: "module isolated",
    6: "module out of isolation",
    7: "initializing error",
    8: "thermal error",
    9: "busy",
    10: "sensor error",
    11: "motor error",
    12: "out of range",
    13: "over current error",
}
BUSY = 9


def to_hex32(value: int) -> str:
    """Signed 32-bit value as 8 upper-case hex digits (two's complement)."""
    return f"{value & 0xFFFFFFFF:08X}"


def from_hex32(text: str) -> int:
    value = int(text, 16)
    return value - (1 << 32) if value & 0x80000000 else value


@dataclass(frozen=True)
class ElliptecInfo:
    motor_type: int
    serial: str
    year: int
    firmware: str
    hardware: int
    travel: int
    pulses_per_unit: int


class ELL14(InstrumentLock, Instrument):
    """One Elliptec module on the bus, at ``address``."""

    def __init__(
        self, adapter: Any, name: str = "Thorlabs ELL14", address: str = "0", **kwargs: Any
    ) -> None:
        super().__init__(adapter, name, includeSCPI=False, **kwargs)
        self.address = address.upper()

    def _reply(self, sent: str) -> tuple[str, str]:
        text = self.read().strip()
        m = re.fullmatch(r"([0-9A-F])([A-Z]{2})([0-9A-F]*)", text)
        if m is None or m.group(1) != self.address:
            raise ReplyError(f"{text!r} to {sent!r} (expected '{self.address}XX<hex>')")
        return m.group(2), m.group(3)

    @exchange
    def _send(self, cmd: str, data: str = "") -> tuple[str, str]:
        message = f"{self.address}{cmd}{data}"
        self.write(message)
        return self._reply(message)

    @staticmethod
    def _code(data: str, context: str) -> int:
        """The two hex digits of a GS reply."""
        if len(data) != 2:
            raise ReplyError(f"GS{data} to {context!r} (expected GS + 2 hex digits)")
        return int(data, 16)

    @staticmethod
    def _raise_status(code: int, context: str) -> None:
        if code != 0:
            raise VendorError(f"GS{code:02X}", STATUS.get(code, "undocumented"), context)

    def info(self) -> ElliptecInfo:
        kind, data = self._send("in")
        if kind != "IN" or len(data) != 30 or not data[10:14].isdigit():
            raise ReplyError(f"{kind}{data!r} to 'in' (expected IN + 30 hex digits, decimal year)")
        return ElliptecInfo(
            motor_type=int(data[0:2], 16),
            serial=data[2:10],
            year=int(data[10:14]),
            firmware=data[14:16],
            hardware=int(data[16:18], 16) & 0x7F,
            travel=int(data[18:22], 16),
            pulses_per_unit=int(data[22:30], 16),
        )

    def status(self) -> int:
        kind, data = self._send("gs")
        if kind != "GS":
            raise ReplyError(f"{kind}{data} to 'gs' (expected GS)")
        return self._code(data, "gs")

    def position_pulses(self) -> int:
        kind, data = self._send("gp")
        if kind == "GS":
            self._raise_status(self._code(data, "gp"), "gp")
        if kind != "PO" or len(data) != 8:
            raise ReplyError(f"{kind}{data} to 'gp' (expected PO + 8 hex digits)")
        return from_hex32(data)

    def _await_move(self, sent: str) -> int:
        """Read until the move ends: PO = done, GS busy = still going, GS other = failed."""
        while True:
            kind, data = self._reply(sent)
            if kind == "PO" and len(data) == 8:
                return from_hex32(data)
            if kind == "GS":
                code = self._code(data, sent)
                if code == BUSY:
                    continue
                self._raise_status(code, sent)
                continue  # GS00 may precede the position report
            raise ReplyError(f"{kind}{data} to {sent!r} (expected PO or GS)")

    @exchange
    def move_absolute_pulses(self, pulses: int) -> int:
        message = f"{self.address}ma{to_hex32(pulses)}"
        self.write(message)
        return self._await_move(message)

    @exchange
    def home(self, clockwise: bool = True) -> int:
        message = f"{self.address}ho{0 if clockwise else 1}"
        self.write(message)
        return self._await_move(message)


class ELL14Settings(SerialSettings):
    address: str = Field("0", description="bus address 0-F")
    range_deg: tuple[float, float] = Field((0.0, 360.0), description="allowed HWP angles (deg)")
    home_on_connect: bool = True
    tolerance_deg: float = Field(0.05, gt=0, description="reached-angle tolerance")

    @field_validator("address")
    @classmethod
    def _hex_digit(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9A-Fa-f]", value):
            raise ValueError("one hex digit 0-F")
        return value.upper()


class ELL14HwpAttenuator(InstrumentDevice[ELL14], Attenuator):
    """Pump attenuation by a half-wave plate (before a polarizer) on an ELL14."""

    kind: ClassVar[AttenuatorKind] = "continuous"
    Settings = ELL14Settings
    settings: ELL14Settings

    def __init__(self, name: str, settings: ELL14Settings, instrument: ELL14 | None = None):
        super().__init__(name, settings, instrument)
        self._info: ElliptecInfo | None = None

    @property
    def pulses_per_deg(self) -> float:
        if self._info is None:
            raise self.fault("not connected", DeviceStateError)
        return self._info.pulses_per_unit / 360.0

    def _open_instrument(self) -> ELL14:
        adapter = serial_adapter(self.settings, read_termination="\r\n")
        return ELL14(adapter, address=self.settings.address)

    def _connect(self) -> None:
        s = self.settings
        with device_errors(self):
            self._info = self._open().info()
            if self._info.pulses_per_unit <= 0:
                raise self.fault(f"mount reports {self._info.pulses_per_unit} pulses per turn")
            code = self.inst.status()
            if code not in (0, BUSY):
                raise VendorError(f"GS{code:02X}", STATUS.get(code, "undocumented"), "connect")
            if s.home_on_connect:
                self.inst.home()

    def _identify(self) -> str:
        with device_errors(self):
            i = self.inst.info()
        return f"Thorlabs ELL{i.motor_type} serial {i.serial} ({i.year}), firmware {i.firmware}"

    def _status(self) -> dict[str, Any]:
        with device_errors(self):
            code = self.inst.status()
            return {"angle_deg": self.setting(), "status": STATUS.get(code, str(code))}

    @property
    def setting_range(self) -> tuple[float, float]:
        return self.settings.range_deg

    def setting(self) -> float:
        with device_errors(self):
            return self.inst.position_pulses() / self.pulses_per_deg

    def set_setting(self, value: float, timeout_s: float = 10.0) -> float:
        self.check_setting(value)

        def move() -> float:
            with device_errors(self):
                pulses = round(value * self.pulses_per_deg)
                with adapter_timeout(self.inst.adapter, timeout_s):
                    reached = self.inst.move_absolute_pulses(pulses)
            angle = reached / self.pulses_per_deg
            if abs(angle - value) > self.settings.tolerance_deg:
                raise self.fault(
                    f"reached {angle:.3f} deg instead of {value:.3f} deg", DeviceStateError
                )
            return angle

        return self.guard(move)
