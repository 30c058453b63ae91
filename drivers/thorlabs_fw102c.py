"""Thorlabs FW102C / FW212C filter wheel (6 or 12 slots), echo + prompt ASCII over USB-serial.

Two devices use it: :class:`FW102CFilterSelector` (probe bandpass filters; a filter table in
the rig file maps slot → centre wavelength and bandwidth) and :class:`FW102CNdAttenuator`
(pump ND filters; discrete slots). Moves never cross the last→first slot boundary when
``respect_bound`` is set, so an ND wheel never passes through a weaker filter on the way.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drivers.common import (
    DeadlinePassed,
    InstrumentDevice,
    ReplyError,
    device_errors,
    integer_reply,
    measured,
    poll_until,
)
from drivers.thorlabs_prompt import PromptInstrument, prompt_adapter
from drivers.transport import SerialSettings
from tamrig.devices import Attenuator, WavelengthSelector
from tamrig.devices.attenuator import AttenuatorKind
from tamrig.errors import DeviceStateError

SLOT_COUNTS = (6, 12)  # FW102C and FW212C


class FW102C(PromptInstrument):
    def __init__(self, adapter: Any, name: str = "Thorlabs FW102C", **kwargs: Any) -> None:
        super().__init__(adapter, name, **kwargs)

    identity = measured("*idn?", "Model and firmware version (*idn?).", str)
    position = measured("pos?", "Current slot, from 1 (pos?).", integer_reply("pos?"))
    slot_count = measured("pcount?", "Slots: 6 or 12 (pcount?).", integer_reply("pcount?"))

    def set_position(self, slot: int, timeout_s: float) -> None:
        """``pos=n``; the prompt may come only when the wheel has stopped."""
        with self.slow(timeout_s):
            self.command(f"pos={slot}")


def move_path(start: int, target: int, count: int, respect_bound: bool) -> list[int]:
    """Slots to command in turn. With ``respect_bound`` each hop is shorter than half a
    turn in the non-wrapping direction, so the wheel's shortest-path motion never crosses
    slot ``count`` → 1."""
    if not respect_bound or start == target:
        return [target]
    step = max(1, (count - 1) // 2)
    path: list[int] = []
    here = start
    while here != target:
        delta = max(-step, min(step, target - here))
        here += delta
        path.append(here)
    return path


class WheelSettings(SerialSettings):
    baudrate: int = 115200
    move_timeout_s: float = Field(10.0, gt=0, description="pos= may take a few seconds")
    poll_interval_s: float = Field(0.01, ge=0)
    respect_bound: bool = Field(False, description="never move across the last→first slot")


class _Wheel(InstrumentDevice[FW102C]):
    """Connection, identity and confirmed moves shared by both wheel devices."""

    settings: WheelSettings

    def __init__(self, name: str, settings: WheelSettings, instrument: FW102C | None = None):
        super().__init__(name, settings, instrument)
        self._count = 6

    def _open_instrument(self) -> FW102C:
        return FW102C(prompt_adapter(self.settings))

    def _connect(self) -> None:
        with device_errors(self):
            count = self._open().slot_count
            if count not in SLOT_COUNTS:
                raise ReplyError(f"pcount? reply {count} (expected one of {SLOT_COUNTS})")
            self._count = count
        self._check_table()

    def _check_table(self) -> None:
        """Subclasses check their filter table against the wheel."""

    def _identify(self) -> str:
        with device_errors(self):
            return str(self.inst.identity)

    def _slot(self) -> int:
        with device_errors(self):
            slot = self.inst.position
            if not 1 <= slot <= self._count:
                raise ReplyError(f"pos? reply {slot} (expected a slot 1..{self._count})")
            return slot

    def _goto(self, slot: int, timeout_s: float) -> int:
        if not 1 <= slot <= self._count:
            raise self.fault(f"slot {slot} outside 1..{self._count}")
        s = self.settings
        with device_errors(self), self.inst.lock:  # one move sequence at a time
            here = self.inst.position
            for hop in move_path(here, slot, self._count, s.respect_bound):
                self.inst.set_position(hop, timeout_s)
                try:
                    self._confirm(hop, timeout_s)
                except DeadlinePassed:
                    raise self.fault(
                        f"wheel did not reach slot {hop} within {timeout_s} s "
                        f"(pos? = {self.inst.position})",
                        DeviceStateError,
                    ) from None
        return slot

    def _confirm(self, slot: int, timeout_s: float) -> None:
        """Poll pos? until the wheel reports ``slot``."""

        def there() -> bool | None:
            return True if self.inst.position == slot else None

        poll_until(there, timeout_s, self.settings.poll_interval_s, f"slot {slot}")


class BandpassFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    centre_nm: float = Field(gt=0)
    bandwidth_nm: float = Field(gt=0)


class FilterSelectorSettings(WheelSettings):
    filters: dict[int, BandpassFilter] = Field(
        description="slot number -> bandpass filter; empty slots are not listed"
    )

    @field_validator("filters")
    @classmethod
    def _slots(cls, value: dict[int, BandpassFilter]) -> dict[int, BandpassFilter]:
        if not value:
            raise ValueError("at least one filter")
        bad = [k for k in value if not 1 <= k <= 12]
        if bad:
            raise ValueError(f"slot numbers 1..12, got {bad}")
        return value


class FW102CFilterSelector(_Wheel, WavelengthSelector):
    """Probe wavelength from a wheel of bandpass filters."""

    Settings = FilterSelectorSettings
    settings: FilterSelectorSettings

    def _check_table(self) -> None:
        beyond = [k for k in self.settings.filters if k > self._count]
        if beyond:
            raise self.fault(f"filter table lists slots {beyond} but the wheel has {self._count}")

    def _current(self) -> BandpassFilter:
        slot = self._slot()
        try:
            return self.settings.filters[slot]
        except KeyError:
            raise self.fault(f"wheel is at slot {slot}, which has no filter in the table") from None

    def available_nm(self) -> list[float]:
        return [f.centre_nm for f in self.settings.filters.values()]

    def wavelength_nm(self) -> float:
        return self._current().centre_nm

    def bandwidth_nm(self) -> float:
        return self._current().bandwidth_nm

    def set_wavelength_nm(self, wavelength_nm: float, timeout_s: float = 10.0) -> float:
        self.check_available(wavelength_nm)
        slot = min(
            self.settings.filters,
            key=lambda k: abs(self.settings.filters[k].centre_nm - wavelength_nm),
        )
        self.guard(lambda: self._goto(slot, max(timeout_s, self.settings.move_timeout_s)))
        return self.settings.filters[slot].centre_nm

    def _status(self) -> dict[str, Any]:
        slot = self._slot()
        f = self.settings.filters.get(slot)
        return {
            "slot": slot,
            "centre_nm": f.centre_nm if f else None,
            "bandwidth_nm": f.bandwidth_nm if f else None,
        }


class NdAttenuatorSettings(WheelSettings):
    optical_density: dict[int, float] = Field(
        default_factory=dict, description="slot -> nominal OD (for the data file)"
    )
    respect_bound: bool = True


class FW102CNdAttenuator(_Wheel, Attenuator):
    """Pump attenuation by ND filters: the setting is the wheel slot."""

    kind: ClassVar[AttenuatorKind] = "discrete"
    Settings = NdAttenuatorSettings
    settings: NdAttenuatorSettings

    @property
    def setting_range(self) -> tuple[float, float]:
        return (1.0, float(self._count))

    def setting(self) -> float:
        return float(self._slot())

    def set_setting(self, value: float, timeout_s: float = 10.0) -> float:
        self.check_setting(value)
        self.guard(lambda: self._goto(int(value), max(timeout_s, self.settings.move_timeout_s)))
        return float(int(value))

    def _status(self) -> dict[str, Any]:
        slot = self._slot()
        return {"slot": slot, "optical_density": self.settings.optical_density.get(slot)}
