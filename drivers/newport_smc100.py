"""Newport SMC100CC / SMC100PP motion controller (also CONEX-CC): ASCII over RS-232.

Framing ``<addr><CMD>[value]\\r\\n``; replies echo address and command (``1TP12.5``); set
commands get no reply, so every set is followed by ``TE`` (latched error letter). ``TS``
returns four hex digits of positioner error bits and two of controller state. One
:class:`SMC100Axis` channel per RS-485 address.
"""

from __future__ import annotations

import re
import time
from typing import Any

from pydantic import Field, model_validator
from pymeasure.instruments import Channel, Instrument
from pymeasure.instruments.validators import strict_range

from drivers.common import (
    DeadlinePassed,
    InstrumentDevice,
    InstrumentLock,
    ReplyError,
    VendorError,
    controlled,
    device_errors,
    exchange,
    measured,
    number_reply,
    poll_until,
)
from drivers.transport import SerialSettings, serial_adapter
from tamrig.devices import DelayStage
from tamrig.errors import DeviceStateError, DeviceTimeout

#: TE error letters (SMC100 manual, "TE - Get command error string").
ERROR_LETTERS = {
    "@": "no error",
    "A": "unknown message code or floating point controller address",
    "B": "controller address not correct",
    "C": "parameter missing or out of range",
    "D": "command not allowed",
    "E": "home sequence already started",
    "F": "ESP stage name unknown",
    "G": "displacement out of limits",
    "H": "command not allowed in NOT REFERENCED state",
    "I": "command not allowed in CONFIGURATION state",
    "J": "command not allowed in DISABLE state",
    "K": "command not allowed in READY state",
    "L": "command not allowed in HOMING state",
    "M": "command not allowed in MOVING state",
    "N": "current position out of software limit",
    "S": "communication time out",
    "U": "error during EEPROM access",
    "V": "error during command execution",
    "W": "command not allowed for PP version",
    "X": "command not allowed for CC version",
}

#: TS positioner error bits (first four hex digits).
POSITIONER_ERRORS = {
    0x0200: "80 W output power exceeded",
    0x0100: "DC voltage too low",
    0x0080: "wrong ESP stage",
    0x0040: "homing time out",
    0x0020: "following error",
    0x0010: "short circuit detection",
    0x0008: "RMS current limit",
    0x0004: "peak current limit",
    0x0002: "positive end of run",
    0x0001: "negative end of run",
}

NOT_REFERENCED = frozenset(range(0x0A, 0x12))
CONFIGURATION = frozenset({0x14})
HOMING = frozenset({0x1E, 0x1F})
MOVING = frozenset({0x28})
READY = frozenset({0x32, 0x33, 0x34, 0x35})
DISABLE = frozenset({0x3C, 0x3D, 0x3E})
JOGGING = frozenset({0x46, 0x47})


def state_name(state: int) -> str:
    for name, group in (
        ("NOT REFERENCED", NOT_REFERENCED),
        ("CONFIGURATION", CONFIGURATION),
        ("HOMING", HOMING),
        ("MOVING", MOVING),
        ("READY", READY),
        ("DISABLE", DISABLE),
        ("JOGGING", JOGGING),
    ):
        if state in group:
            return name
    return f"unknown state 0x{state:02X}"


def decode_positioner_errors(bits: int) -> list[str]:
    return [text for bit, text in POSITIONER_ERRORS.items() if bits & bit]


def _state_reply(text: str) -> tuple[int, int]:
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", text):
        raise ReplyError(f"TS reply {text!r} (expected 6 hex digits)")
    return int(text[:4], 16), int(text[4:], 16)


def _error_letter(text: str) -> str:
    if re.fullmatch(r"[@A-Z]", text) is None:
        raise ReplyError(f"TE reply {text!r} (expected '@' or one letter A-Z)")
    return text


class SMC100Axis(Channel):
    """One controller on the RS-485 chain; commands are prefixed with its address.

    Queries and settings are declared (pymeasure ``measurement`` / ``control``); every
    setting is followed by the latched error letter (``TE``) through ``check_set_errors``.
    """

    #: the last command sent, with its address: the context of a latched error
    last_command = ""

    def insert_id(self, command: str) -> str:
        return f"{self.id}{command}"

    @property
    def lock(self) -> Any:
        """The controller chain's lock: one exchange at a time on the shared port."""
        return self.parent.lock

    def write(self, command: str, **kwargs: Any) -> None:
        self.last_command = self.insert_id(command)
        super().write(command, **kwargs)

    @exchange
    def ask(self, command: str, query_delay: float | None = None) -> str:
        """Query ``command`` and strip the echoed ``<addr><CMD>`` prefix from the reply."""
        reply = str(super().ask(command, query_delay)).strip()
        code = command.rstrip("?")
        match = re.fullmatch(rf"{self.id}{re.escape(code)}\s*(.*)", reply)
        if match is None:
            raise ReplyError(f"{reply!r} to {self.id}{command} (expected '{self.id}{code}...')")
        return match.group(1)

    def check_set_errors(self) -> list[str]:
        """Raise VendorError if the latched error letter is not '@'."""
        context = self.last_command
        letter = self.error_letter
        if letter != "@":
            raise VendorError(letter, ERROR_LETTERS.get(letter, "undocumented"), context)
        return []

    # -- declared queries and settings -----------------------------------------------------
    position = measured("TP", "Current position in mm (TP).", number_reply("TP"))
    state = measured("TS", "(positioner error bits, controller state) from TS.", _state_reply)
    error_letter = measured(
        "TE", "Latched command error letter, '@' for none (TE; reading clears it).", _error_letter
    )
    negative_limit = measured("SL?", "Negative software limit in mm (SL).", number_reply("SL?"))
    positive_limit = measured("SR?", "Positive software limit in mm (SR).", number_reply("SR?"))
    stage_id = measured("ID?", "Stage model (ID).", str)
    firmware = measured("VE", "Controller firmware (VE).", str)
    velocity = controlled(
        "VA?",
        "VA%g",
        "Velocity in mm/s (VA).",
        number_reply("VA?"),
        validator=strict_range,
        values=(1e-6, 1e12),
    )
    target_position = controlled(
        None, "PA%.6f", "Start an absolute move to this position in mm (PA)."
    )

    # -- actions (each followed by TE) -----------------------------------------------------
    @exchange
    def _act(self, command: str) -> None:
        self.write(command)
        self.check_set_errors()

    def home(self) -> None:
        """Start the home search (OR); the controller allows it only when NOT REFERENCED."""
        self._act("OR")

    def enable(self) -> None:
        """Leave DISABLE for READY (MM1)."""
        self._act("MM1")

    def stop(self) -> None:
        self._act("ST")

    def limits(self) -> tuple[float, float]:
        return self.negative_limit, self.positive_limit

    def wait_state(self, wanted: frozenset[int], timeout_s: float, poll_s: float, what: str) -> int:
        """Poll TS until the state is in ``wanted``; raise on positioner errors or a fall-back
        to NOT REFERENCED / DISABLE, and DeadlinePassed at the deadline."""

        def check() -> int | None:
            bits, state = self.state
            if bits:
                raise VendorError(f"TS {bits:04X}", ", ".join(decode_positioner_errors(bits)), what)
            if state in wanted:
                return state
            if state in NOT_REFERENCED | DISABLE | CONFIGURATION:
                raise VendorError(f"state {state:02X}", state_name(state), what)
            return None

        return poll_until(check, timeout_s, poll_s, what)

    def wait_busy_over(self, timeout_s: float, poll_s: float) -> int:
        """Poll TS until the controller is neither HOMING nor MOVING; return that state."""

        def check() -> int | None:
            bits, state = self.state
            if bits:
                what = f"{state_name(state)} left by an earlier session"
                raise VendorError(f"TS {bits:04X}", ", ".join(decode_positioner_errors(bits)), what)
            return None if state in HOMING | MOVING else state

        return poll_until(check, timeout_s, poll_s, "end of an earlier HOMING / MOVING")


class SMC100(InstrumentLock, Instrument):
    """An SMC100 chain; ``axis`` is the controller at ``address``."""

    def __init__(
        self, adapter: Any, name: str = "Newport SMC100", address: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(adapter, name, includeSCPI=False, **kwargs)
        self.axis: SMC100Axis = self.add_child(SMC100Axis, address, collection="axes")


class SMC100Settings(SerialSettings):
    address: int = Field(1, ge=1, le=31, description="controller address on the RS-485 chain")
    baudrate: int = 57600
    travel_mm: tuple[float, float] | None = Field(
        None, description="usable travel in mm; intersected with the controller's SL/SR"
    )
    velocity_mm_s: float | None = Field(None, gt=0)
    home_on_connect: bool = Field(True, description="home (OR) when NOT REFERENCED")
    home_timeout_s: float = Field(60.0, gt=0)
    poll_interval_s: float = Field(0.02, ge=0, description="TS polling period while moving")

    @model_validator(mode="after")
    def _ordered(self) -> SMC100Settings:
        if self.travel_mm is not None and self.travel_mm[0] >= self.travel_mm[1]:
            raise ValueError("travel_mm as [low, high] with low < high")
        return self


class SMC100Stage(InstrumentDevice[SMC100], DelayStage):
    """Delay stage on an SMC100: homes when needed, software limits, TS-polled moves."""

    Settings = SMC100Settings
    settings: SMC100Settings

    def __init__(self, name: str, settings: SMC100Settings, instrument: SMC100 | None = None):
        super().__init__(name, settings, instrument)
        self._limits: tuple[float, float] = settings.travel_mm or (0.0, 0.0)
        self._target: float | None = None

    @property
    def axis(self) -> SMC100Axis:
        return self.inst.axis

    def _open_instrument(self) -> SMC100:
        adapter = serial_adapter(
            self.settings, write_termination="\r\n", read_termination="\r\n", xonxoff=True
        )
        return SMC100(adapter, address=self.settings.address)

    def _connect(self) -> None:
        s = self.settings
        with device_errors(self):
            axis = self._open().axis
            _, state = axis.state
            if state in HOMING | MOVING:  # left so by a session that was killed mid-way
                state = self._wait_out_busy(state)
            if state in DISABLE:
                axis.enable()
            elif state in NOT_REFERENCED:
                if not s.home_on_connect:
                    raise self.fault("stage is NOT REFERENCED and home_on_connect is false")
                axis.home()
                axis.wait_state(READY, s.home_timeout_s, s.poll_interval_s, "homing")
            lo, hi = axis.limits()
            if s.travel_mm is not None:
                lo, hi = max(lo, s.travel_mm[0]), min(hi, s.travel_mm[1])
            if lo >= hi:
                raise self.fault(f"empty travel: controller limits and travel_mm give [{lo}, {hi}]")
            self._limits = (lo, hi)
            if s.velocity_mm_s is not None:
                axis.velocity = s.velocity_mm_s

    def _wait_out_busy(self, state: int) -> int:
        """Wait (at most home_timeout_s) for a HOMING or MOVING state to end by itself."""
        s = self.settings
        try:
            return self.axis.wait_busy_over(s.home_timeout_s, s.poll_interval_s)
        except DeadlinePassed:
            raise self.fault(
                f"controller still {state_name(self.axis.state[1])} {s.home_timeout_s} s after "
                f"connecting (found {state_name(state)}, left by an earlier session?)",
                DeviceStateError,
            ) from None

    def _identify(self) -> str:
        with device_errors(self):
            return f"Newport {self.axis.firmware}, stage {self.axis.stage_id}"

    def _status(self) -> dict[str, Any]:
        with device_errors(self):
            bits, state = self.axis.state
            return {
                "position_mm": self.axis.position,
                "state": state_name(state),
                "errors": decode_positioner_errors(bits),
                "limits_mm": list(self._limits),
            }

    @property
    def limits_mm(self) -> tuple[float, float]:
        return self._limits

    def position_mm(self) -> float:
        with device_errors(self):
            return float(self.axis.position)

    def start_move(self, position_mm: float) -> None:
        self.check_in_limits(position_mm)
        with device_errors(self):
            self._target = position_mm
            self.axis.target_position = position_mm

    def is_moving(self) -> bool:
        with device_errors(self):
            _, state = self.axis.state
        return state in MOVING | HOMING

    def wait_until_stopped(self, timeout_s: float) -> None:
        with device_errors(self):
            try:
                self.axis.wait_state(READY, timeout_s, self.settings.poll_interval_s, "move")
            except DeadlinePassed:
                _, state = self.axis.state
                here = self.axis.position
                self.axis.stop()
                target = "" if self._target is None else f" {self._target:g} mm"
                raise self.fault(
                    f"controller replied but position{target} not reached within {timeout_s} s "
                    f"(state {state_name(state)}, at {here:g} mm; stopped)",
                    DeviceTimeout,
                ) from None

    def stop(self) -> None:
        with device_errors(self):
            self.axis.stop()

    def home(self) -> None:
        """Reference the stage if it is not referenced; a referenced stage is left as it is
        (the controller refuses OR outside NOT REFERENCED)."""
        s = self.settings
        with device_errors(self):
            _, state = self.axis.state
            if state in HOMING | MOVING:
                state = self._wait_out_busy(state)
            if state in NOT_REFERENCED:
                self.axis.home()
                self.axis.wait_state(READY, s.home_timeout_s, s.poll_interval_s, "homing")
            elif state in DISABLE:
                self.axis.enable()

    def _safe_state(self) -> None:
        if self._inst is not None and self.is_moving():
            self.stop()
            deadline = time.monotonic() + self.settings.timeout_s * 5
            while self.is_moving() and time.monotonic() < deadline:
                time.sleep(self.settings.poll_interval_s)
