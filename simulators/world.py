"""The simulated rig's shared state: clock, random numbers, virtual sample and optics.

Every simulated device of a rig holds the same :class:`World`, so moving the simulated
stage changes the delay the simulated camera images, closing the simulated pump shutter
removes the pump from its frames, and the simulated attenuator and power meter agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simulators.clock import SimClock
from simulators.faults import FaultInjector, FaultSpec
from simulators.sample import SampleSettings, VirtualSample
from tamrig import units
from tamrig.errors import ConfigError
from tamrig.rigconfig import RigSettings
from tamrig.validation import validate_model


class SimulationSettings(BaseModel):
    """The rig file's ``[simulation]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    time_scale: float = Field(
        0.0, ge=0, le=10, description="0 = instantaneous, 1 = real time (at most 10x slower)"
    )
    seed: int = Field(20260101, ge=0, lt=2**63)
    pump_power_max_w: float = Field(
        1.0e-6,
        gt=0,
        description="average pump power at the sample, attenuator open, chopper not counted",
    )
    time_zero_error_fs: float = Field(
        0.0,
        ge=-1e4,
        le=1e4,
        description="true zero delay lies this far after the rig file's time_zero_mm",
    )
    camera_accumulate: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="overrides every simulated camera's `accumulate` (fast, honest test mode)",
    )
    sample: SampleSettings = Field(default_factory=SampleSettings)
    faults: list[FaultSpec] = Field(
        default_factory=list, description="[[simulation.faults]] tables (simulators.faults)"
    )


class World:
    def __init__(self, settings: SimulationSettings, rig: RigSettings) -> None:
        self.settings = settings
        self.rig = rig
        self.clock = SimClock(settings.time_scale)
        self.sample = VirtualSample(settings.sample)
        self._seed = settings.seed
        self.devices: dict[str, Any] = {}
        self.faults = FaultInjector(list(settings.faults), self.rng("faults"))

    @classmethod
    def from_context(cls, context: Any) -> World:
        """The one world of a rig (created by the first simulated device that asks)."""

        def make() -> World:
            settings = validate_model(
                SimulationSettings,
                context.simulation,
                file=context.file,
                prefix="simulation",
                error=ConfigError,
            )
            return cls(settings, context.rig)

        world: World = context.shared_object("simulators.world", make)
        return world

    @classmethod
    def of(cls, rig: Any) -> World:
        """The world behind a built simulated rig (tests use it to inject faults)."""
        world = rig.context.shared.get("simulators.world")
        if not isinstance(world, World):
            raise LookupError("this rig has no simulated devices")
        return world

    def rng(self, stream: str) -> np.random.Generator:
        """An independent, reproducible random stream per device."""
        key = [self._seed, *stream.encode()]
        return np.random.default_rng(key)

    def register(self, role: str, device: Any) -> None:
        self.devices[role] = device

    # -- what the optics deliver -----------------------------------------------------------
    def delay_fs(self) -> float:
        """The true pump-probe delay the sample sees (stage position, passes, time zero)."""
        stage = self.devices.get("stage")
        position = stage.true_position_mm() if stage is not None else self.rig.time_zero_mm
        nominal = units.stage_mm_to_delay_fs(position, self.rig.time_zero_mm, self.rig.passes)
        return float(nominal) - self.settings.time_zero_error_fs

    def shutter_open(self, role: str) -> bool:
        shutter = self.devices.get(role)
        return True if shutter is None else bool(shutter.true_open())

    def pump_transmission(self) -> float:
        attenuator = self.devices.get("attenuator")
        return 1.0 if attenuator is None else float(attenuator.transmission())

    def pump_power_w(self) -> float:
        """Average pump power after the attenuator, unchopped (pulse energy × rep rate)."""
        return self.settings.pump_power_max_w * self.pump_transmission()

    def chopper_running(self) -> bool:
        """The 50 % pump chopper runs whenever the camera it is locked to has it enabled."""
        camera = self.devices.get("camera")
        return camera is not None and bool(camera.settings.chopper)

    def pump_sigma_nm(self) -> float:
        return self.rig.pump_sigma_nm or self.sample.settings.sigma0_nm

    def peak_fluence_uj_cm2(self) -> float:
        """Peak fluence of the pulses that reach the sample (a chopper passes or blocks
        whole pulses, so it does not change the pulse energy)."""
        energy = units.pulse_energy_j(self.pump_power_w(), self.rig.rep_rate_hz)
        return units.peak_fluence_uj_cm2(energy, self.pump_sigma_nm())

    def n_abs(self) -> float:
        """⟨N_abs⟩ = σ_abs · j₀ at the pump peak (docs/simulator.md, "Fluence and ⟨N_abs⟩")."""
        return units.n_abs_from_fluence(
            self.peak_fluence_uj_cm2(),
            self.rig.pump_wavelength_nm,
            self.sample.settings.cross_section_cm2,
        )

    def probe_wavelength_nm(self) -> float:
        selector = self.devices.get("wavelength_selector")
        return 905.0 if selector is None else float(selector.true_wavelength_nm())

    def probe_bandwidth_nm(self) -> float:
        selector = self.devices.get("wavelength_selector")
        return 10.0 if selector is None else float(selector.bandwidth_nm())
