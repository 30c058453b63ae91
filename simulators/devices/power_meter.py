"""Simulated power meter on a pick-off after the attenuator: agrees with the attenuator.

It reads the average pump power (half of it behind a running 50 % chopper), corrected for
the wavelength it is set to as a silicon photodiode meter would be: the responsivity is
roughly ∝ λ, so a wrong wavelength setting scales the reading by λ_true / λ_set. Each reading
averages ``averaging`` samples (noise ∝ 1/√n, time ∝ n: 100 × 3 ms by default); above
``max_power_w`` the head is over range and the meter says so. ``start_reading`` /
``fetch_power_w`` split a reading as a meter's trigger-then-fetch commands do, so it can
average while the camera integrates.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from simulators.devices.common import SimulatedDevice
from simulators.faults import FaultSpec
from tamrig.devices import DeviceSettings, PowerMeter
from tamrig.errors import DeviceStateError


class SimulatedPowerMeterSettings(DeviceSettings):
    wavelength_nm: float = Field(580.0, gt=0)
    wavelength_range_nm: tuple[float, float] = Field(
        (400.0, 1100.0), description="wavelengths the sensor is calibrated for"
    )
    averaging: int = Field(100, ge=1)
    sample_time_s: float = Field(0.003, gt=0, description="time per averaged sample")
    relative_noise: float = Field(0.01, ge=0, description="per-sample relative noise")
    noise_floor_w: float = Field(1e-10, ge=0)
    max_power_w: float = Field(5.0e-5, gt=0, description="top of the measurement range")
    behind_chopper: bool | None = Field(
        None, description="reads behind the running chopper; None = the rig's setting"
    )

    @model_validator(mode="after")
    def _wavelength_in_range(self) -> SimulatedPowerMeterSettings:
        lo, hi = self.wavelength_range_nm
        if not lo <= self.wavelength_nm <= hi:
            raise ValueError(f"wavelength_nm within wavelength_range_nm [{lo}, {hi}]")
        return self


class SimulatedPowerMeter(SimulatedDevice, PowerMeter):
    Settings = SimulatedPowerMeterSettings
    settings: SimulatedPowerMeterSettings

    def attach(self, world: Any) -> None:
        super().attach(world)
        self._wavelength = self.settings.wavelength_nm
        self._averaging = self.settings.averaging
        self._zero_w = 0.0
        self._pending: tuple[float, FaultSpec | None] | None = None

    @property
    def wavelength_nm(self) -> float:
        return self._wavelength

    @wavelength_nm.setter
    def wavelength_nm(self, value: float) -> None:
        self.maybe_fault("configure")
        lo, hi = self.settings.wavelength_range_nm
        if not lo <= value <= hi:
            raise self.fault(f"wavelength {value} nm outside the sensor's {lo:g}-{hi:g} nm")
        self._wavelength = float(value)

    @property
    def averaging(self) -> int:
        return self._averaging

    @averaging.setter
    def averaging(self, count: int) -> None:
        self.maybe_fault("configure")
        if count < 1:
            raise self.fault(f"averaging {count} < 1")
        self._averaging = int(count)

    def behind_chopper(self) -> bool:
        flag = self.settings.behind_chopper
        behind = self.world.rig.power_behind_chopper if flag is None else flag
        return behind and self.world.chopper_running()

    def true_power_w(self) -> float:
        """What reaches the head, wavelength correction as set (no noise)."""
        power = self.world.pump_power_w() * (0.5 if self.behind_chopper() else 1.0)
        return power * self.world.rig.pump_wavelength_nm / self._wavelength

    def fit_averaging(self, seconds: float) -> None:
        """At most the configured sample count, and no more than fit in ``seconds``."""
        fits = int(seconds / self.settings.sample_time_s)
        self.averaging = max(1, min(self.settings.averaging, fits))

    def averaging_s(self) -> float:
        """How long one reading averages."""
        return self._averaging * self.settings.sample_time_s

    def read_power_w(self) -> float:
        spec = self.maybe_fault("read")
        self.world.clock.sleep(self.averaging_s())
        return self._result(spec)

    def start_reading(self) -> None:
        """The meter starts averaging now; the caller goes on (the camera integrates)."""
        self._pending = (self.world.clock.now(), self.maybe_fault("read"))

    def fetch_power_w(self) -> float:
        """The reading started last: waits only for what is left of its averaging."""
        pending, self._pending = self._pending, None
        if pending is None:
            return self.read_power_w()
        started, spec = pending
        self.check_link()
        self.world.clock.advance_to(started + self.averaging_s())
        return self._result(spec)

    def _result(self, spec: FaultSpec | None) -> float:
        """The averaged value (or the over-range error) of a finished reading."""
        n = self._averaging
        true = self.true_power_w()
        if true > self.settings.max_power_w or (spec is not None and spec.kind == "out_of_range"):
            raise self.fault(
                f"reading over range (> {self.settings.max_power_w:g} W); attenuate the beam",
                DeviceStateError,
            )
        sd = (true * self.settings.relative_noise + self.settings.noise_floor_w) / n**0.5
        return float(true + self.rng.normal(0.0, sd) - self._zero_w)

    def zero(self) -> None:
        """Dark zero with the beam blocked: the simulated head has no offset to remove."""
        self._zero_w = 0.0

    def _identify(self) -> str:
        self.check_link()
        lo, hi = self.settings.wavelength_range_nm
        return f"tamrig simulated power meter (SIM-PM, Si sensor {lo:g}-{hi:g} nm)"

    def _status(self) -> dict[str, Any]:
        self.check_link()
        return {"wavelength_nm": self._wavelength, "averaging": self._averaging}
