"""Simulated power meter on a pick-off after the attenuator: agrees with the attenuator."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from simulators.devices.common import SimulatedDevice
from tamrig.devices import DeviceSettings, PowerMeter


class SimulatedPowerMeterSettings(DeviceSettings):
    wavelength_nm: float = Field(580.0, gt=0)
    averaging: int = Field(100, ge=1)
    sample_time_s: float = Field(0.003, gt=0, description="time per averaged sample")
    relative_noise: float = Field(0.01, ge=0, description="per-sample relative noise")
    noise_floor_w: float = Field(1e-10, ge=0)
    behind_chopper: bool = Field(True, description="reads behind the running 50 % chopper")


class SimulatedPowerMeter(SimulatedDevice, PowerMeter):
    Settings = SimulatedPowerMeterSettings
    settings: SimulatedPowerMeterSettings

    def attach(self, world: Any) -> None:
        super().attach(world)
        self._wavelength = self.settings.wavelength_nm
        self._averaging = self.settings.averaging
        self._zero_w = 0.0

    @property
    def wavelength_nm(self) -> float:
        return self._wavelength

    @wavelength_nm.setter
    def wavelength_nm(self, value: float) -> None:
        if not 400.0 <= value <= 1100.0:
            raise self.fault(f"wavelength {value} nm outside the sensor's 400-1100 nm")
        self._wavelength = float(value)

    @property
    def averaging(self) -> int:
        return self._averaging

    @averaging.setter
    def averaging(self, count: int) -> None:
        if count < 1:
            raise self.fault(f"averaging {count} < 1")
        self._averaging = int(count)

    def read_power_w(self) -> float:
        self.maybe_fault("read")
        n = self._averaging
        self.world.clock.sleep(n * self.settings.sample_time_s)
        true = self.world.pump_power_w() * (0.5 if self.settings.behind_chopper else 1.0)
        sd = (true * self.settings.relative_noise + self.settings.noise_floor_w) / n**0.5
        return float(true + self.rng.normal(0.0, sd) - self._zero_w)

    def zero(self) -> None:
        self._zero_w = 0.0

    def _identify(self) -> str:
        return "tamrig simulated power meter (SIM-PM, Si sensor 400-1100 nm)"

    def _status(self) -> dict[str, Any]:
        return {"wavelength_nm": self._wavelength, "averaging": self._averaging}
