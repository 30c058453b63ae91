"""Thorlabs PM100D / PM100USB optical power meter over VISA (USB-TMC), SCPI.

Extends pymeasure's ``ThorlabsPM100USB`` (sensor flags, range-clamped wavelength, power)
with averaging, auto range, dark zero and SYST:ERR? checking after every setting.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

from pydantic import Field
from pymeasure.instruments.thorlabs import ThorlabsPM100USB
from pymeasure.instruments.validators import strict_discrete_set

from drivers.common import (
    DeadlinePassed,
    InstrumentDevice,
    InstrumentLock,
    ReplyError,
    VendorError,
    controlled,
    device_errors,
    exchange,
    flag_reply,
    integer_reply,
    measured,
    number_reply,
    poll_until,
    whole_number,
)
from tamrig.devices import DeviceSettings, PowerMeter
from tamrig.errors import DeviceStateError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OVERRANGE_W = 9.0e37  # SCPI "not a number" marker the console returns when out of range


class PM100(InstrumentLock, ThorlabsPM100USB):
    """A PM100D/PM100USB with the settings tamrig needs."""

    def __init__(self, adapter: Any, name: str = "Thorlabs PM100", **kwargs: Any) -> None:
        kwargs.setdefault("read_termination", "\n")
        kwargs.setdefault("write_termination", "\n")
        with warnings.catch_warnings():
            # pymeasure warns that it does not know whether the PM100 speaks SCPI; it does.
            warnings.filterwarnings("ignore", "It is not known whether", FutureWarning)
            super().__init__(adapter, name, **kwargs)

    #: the last command sent: the context of an error read from the queue
    last_command = ""

    def write(self, command: str, **kwargs: Any) -> None:
        self.last_command = command
        super().write(command, **kwargs)

    @exchange
    def ask(self, command: str, query_delay: float | None = None) -> str:
        return str(super().ask(command, query_delay))

    def pop_error(self) -> tuple[int, str]:
        reply = self.ask("SYST:ERR?").strip()
        # SCPI error numbers are 16-bit; more digits is noise (and int() refuses > 4300).
        m = re.fullmatch(r'([+-]?[0-9]{1,5})\s*,\s*"?(.*?)"?', reply)
        if m is None:
            raise ReplyError(f'{reply!r} to SYST:ERR? (expected <code>,"<message>")')
        return int(m.group(1)), m.group(2)

    def check_error_queue(self, context: str) -> None:
        """Raise the first queued SCPI error (code and the console's text), draining the queue."""
        first: tuple[int, str] | None = None
        for _ in range(32):
            code, text = self.pop_error()
            if code == 0:
                break
            first = first or (code, text)
        if first is not None:
            raise VendorError(str(first[0]), first[1], context)

    def check_set_errors(self) -> list[str]:
        self.check_error_queue(self.last_command)
        return []

    identity = measured("*IDN?", "Console identity (*IDN?).", str.strip)
    averaging = controlled(
        "SENS:AVER:COUN?",
        "SENS:AVER:COUN %d",
        "Samples averaged per reading, each ≈3 ms (SENS:AVER:COUN).",
        integer_reply("SENS:AVER:COUN?"),
        validator=whole_number,
    )
    auto_range = controlled(
        "SENS:POW:RANG:AUTO?",
        "SENS:POW:RANG:AUTO %d",
        "Automatic power range (SENS:POW:RANG:AUTO).",
        flag_reply("SENS:POW:RANG:AUTO?"),
        validator=strict_discrete_set,
        values=(False, True),
        set_process=int,
    )
    wavelength_nm = measured(
        "SENSE:CORR:WAV?", "Correction wavelength in nm.", number_reply("SENSE:CORR:WAV?")
    )
    zeroing = measured(
        "SENS:CORR:COLL:ZERO:STAT?",
        "A dark zero is running.",
        flag_reply("SENS:CORR:COLL:ZERO:STAT?"),
    )
    power_w = measured(
        "MEAS:POW?", "One power reading in W (MEAS:POW?).", number_reply("MEAS:POW?")
    )

    @exchange
    def _act(self, command: str) -> None:
        self.write(command)
        self.check_set_errors()

    def set_wavelength(self, nm: float) -> float:
        """Set the correction wavelength (clamped to the sensor's range) and read it back."""
        with self.lock:
            self.wavelength = nm
            self.check_error_queue(f"SENSE:CORR:WAV {nm}")
        return float(self.wavelength_nm)

    def start_zero(self) -> None:
        self._act("SENS:CORR:COLL:ZERO:INIT")


def resolve_visa_library(spec: str) -> str:
    """``file.yaml@sim`` with a relative path is taken relative to the project root, so a
    rig file can name the shipped simulator description wherever tamrig is run from."""
    path, sep, backend = spec.rpartition("@")
    if sep and path and backend == "sim" and not Path(path).is_absolute():
        candidate = PROJECT_ROOT / path
        if candidate.exists():
            return f"{candidate}@sim"
    return spec


class PM100Settings(DeviceSettings):
    resource: str = Field(description="VISA resource, e.g. USB0::0x1313::0x8078::SERIAL::INSTR")
    visa_library: str = Field(
        "@py", description="'@py' (pyvisa-py), '' (system VISA) or 'file.yaml@sim'"
    )
    timeout_ms: int = Field(3000, gt=0)
    wavelength_nm: float = Field(580.0, gt=0)
    averaging: int = Field(100, ge=1, description="samples per reading (≈3 ms each)")
    auto_range: bool = True
    zero_timeout_s: float = Field(10.0, gt=0)
    poll_interval_s: float = Field(0.05, ge=0)


class PM100PowerMeter(InstrumentDevice[PM100], PowerMeter):
    Settings = PM100Settings
    settings: PM100Settings

    def _open_instrument(self) -> PM100:
        s = self.settings
        try:
            return PM100(
                s.resource, visa_library=resolve_visa_library(s.visa_library), timeout=s.timeout_ms
            )
        except OSError as exc:  # "No sensor connected." from the base class
            raise self.fault(str(exc), DeviceStateError) from exc

    def _connect(self) -> None:
        s = self.settings
        with device_errors(self):
            inst = self._open()
            if not inst.is_power_sensor:
                raise self.fault(f"sensor {inst.sensor_name} is not a power sensor")
            inst.check_error_queue("connect")
            inst.set_wavelength(s.wavelength_nm)
            inst.averaging = s.averaging
            inst.auto_range = s.auto_range

    def _identify(self) -> str:
        with device_errors(self):
            serial = str(self.inst.sensor_sn).removesuffix(".0")  # pymeasure parsed it as float
            return f"{self.inst.identity}, sensor {self.inst.sensor_name} {serial}"

    def _status(self) -> dict[str, Any]:
        with device_errors(self):
            return {
                "wavelength_nm": self.inst.wavelength_nm,
                "averaging": self.inst.averaging,
                "auto_range": self.inst.auto_range,
            }

    @property
    def wavelength_nm(self) -> float:
        with device_errors(self):
            return float(self.inst.wavelength_nm)

    @wavelength_nm.setter
    def wavelength_nm(self, value: float) -> None:
        with device_errors(self):
            got = self.inst.set_wavelength(value)
        if abs(got - value) > 0.5:
            raise self.fault(f"wavelength {value} nm outside the sensor's range (set {got} nm)")

    @property
    def averaging(self) -> int:
        with device_errors(self):
            return int(self.inst.averaging)

    @averaging.setter
    def averaging(self, count: int) -> None:
        with device_errors(self):
            self.inst.averaging = count

    def read_power_w(self) -> float:
        with device_errors(self):
            watts = float(self.inst.power_w)
        if not math.isfinite(watts) or abs(watts) >= OVERRANGE_W:
            raise self.fault(f"power reading {watts} W is out of range", DeviceStateError)
        return watts

    def zero(self) -> None:
        s = self.settings
        with device_errors(self):
            self.inst.start_zero()
            try:
                poll_until(
                    lambda: True if not self.inst.zeroing else None,
                    s.zero_timeout_s,
                    s.poll_interval_s,
                    "dark zero",
                )
            except DeadlinePassed:
                raise self.fault(
                    f"dark zero not finished within {s.zero_timeout_s} s", DeviceStateError
                ) from None
            self.inst.check_error_queue("zero")
