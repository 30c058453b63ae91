"""Thorlabs SC10 shutter controller (SH05/SH1 shutters), echo + prompt ASCII over RS-232.

``ens`` *toggles* the output, so the driver reads ``ens?`` first and toggles only when the
state differs; the result is confirmed with the ``closed?`` sensor query.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pymeasure.instruments.validators import strict_discrete_set

from drivers.common import (
    DeadlinePassed,
    InstrumentDevice,
    controlled,
    device_errors,
    flag_reply,
    integer_reply,
    measured,
    poll_until,
)
from drivers.thorlabs_prompt import PromptInstrument, prompt_adapter
from drivers.transport import SerialSettings
from tamrig.devices import Shutter
from tamrig.errors import DeviceStateError

MODES = {1: "manual", 2: "auto", 3: "single", 4: "repeat", 5: "external gate"}


class SC10(PromptInstrument):
    def __init__(self, adapter: Any, name: str = "Thorlabs SC10", **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)

    identity = measured("id?", "Model and firmware version (id?).", str)
    enabled = measured("ens?", "Output enabled, i.e. shutter open (ens?).", flag_reply("ens?"))
    closed = measured("closed?", "The blade sensor reads closed (closed?).", flag_reply("closed?"))
    interlock_tripped = measured(
        "interlock?", "The interlock is tripped (interlock?).", flag_reply("interlock?")
    )
    mode = controlled(
        "mode?",
        "mode=%d",
        "Operating mode: 1 manual, 2 auto, 3 single, 4 repeat, 5 external gate (mode).",
        integer_reply("mode?"),
        validator=strict_discrete_set,
        values=tuple(MODES),
    )

    def toggle_enable(self) -> None:
        """``ens`` toggles the output: read :attr:`enabled` first."""
        self.command("ens")


class SC10Settings(SerialSettings):
    confirm_timeout_s: float = Field(0.5, ge=0, description="time for closed? to follow")
    poll_interval_s: float = Field(0.005, ge=0)


class SC10Shutter(InstrumentDevice[SC10], Shutter):
    Settings = SC10Settings
    settings: SC10Settings

    def _open_instrument(self) -> SC10:
        return SC10(prompt_adapter(self.settings))

    def _connect(self) -> None:
        with device_errors(self):
            inst = self._open()
            _ = inst.identity
            if inst.mode != 1:
                inst.mode = 1  # manual: ens opens/closes

    def _identify(self) -> str:
        with device_errors(self):
            return str(self.inst.identity)

    def _status(self) -> dict[str, Any]:
        with device_errors(self):
            mode = self.inst.mode
            return {
                "open": not self.inst.closed,
                "enabled": self.inst.enabled,
                "mode": MODES.get(mode, str(mode)),
                "interlock_tripped": self.inst.interlock_tripped,
            }

    def _set(self, want_open: bool) -> None:
        s = self.settings
        with device_errors(self):
            if want_open and self.inst.interlock_tripped:
                raise self.fault("interlock tripped; refusing to open", DeviceStateError)
            with self.inst.lock:  # read and toggle as one step: ens is not idempotent
                if self.inst.enabled != want_open:
                    self.inst.toggle_enable()
            try:
                poll_until(
                    lambda: True if self.inst.closed != want_open else None,
                    s.confirm_timeout_s,
                    s.poll_interval_s,
                    "open" if want_open else "closed",
                )
            except DeadlinePassed:
                word = "open" if want_open else "closed"
                raise self.fault(
                    f"sensor (closed?) does not report {word} after {s.confirm_timeout_s} s",
                    DeviceStateError,
                ) from None

    def open(self) -> None:
        self.guard(lambda: self._set(True))

    def close(self) -> None:
        self.guard(lambda: self._set(False))

    def is_open(self) -> bool:
        with device_errors(self):
            return not self.inst.closed
