"""Rig files: which device plays each role, and the rig-wide optical settings.

A rig file is TOML::

    [rig]
    name = "..."
    passes = 2              # times the probe (or pump) crosses the delay line
    time_zero_mm = 37.5     # calibrated stage position of zero delay
    ...
    [simulation]            # optional, read only by simulated devices
    ...
    [devices.stage]
    kind = "simulated.stage"   # registry name or "package.module:Class"
    travel_mm = [0.0, 300.0]   # the device's own settings, validated by its class

Every table is validated with ``extra="forbid"``: typos and wrong types are errors that name
the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tamrig.devices import ROLES
from tamrig.errors import ConfigError
from tamrig.resources import DEFAULT_RIG
from tamrig.validation import load_toml, validate_model

REQUIRED_ROLES = ("stage", "pump_shutter", "camera")


class RigSettings(BaseModel):
    """Optical and timing facts of the set-up, shared by every scan on it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = "unnamed rig"
    description: str = ""
    passes: int = Field(2, ge=1, le=16, description="delay-line passes (2 = retro-reflector)")
    # Bounds: physical ranges with wide margins, so no unit conversion under- or overflows.
    time_zero_mm: float = Field(
        ge=-1e4, le=1e4, description="stage position of zero pump-probe delay"
    )
    pixel_size_nm: float = Field(ge=0.01, le=1e6, description="camera pixel size at the sample")
    pump_wavelength_nm: float = Field(580.0, ge=100, le=1e5)
    rep_rate_hz: float = Field(1.0e6, ge=1e-3, le=1e12, description="laser repetition rate")
    power_behind_chopper: bool = Field(
        True, description="the power meter reads the pump behind the running 50 % chopper"
    )
    power_meter_behind_shutter: bool = Field(
        False,
        description="the power meter sits behind the pump shutter (calibration opens it); "
        "False = on a pick-off before the shutter, read with the shutter closed",
    )
    pump_sigma_nm: float | None = Field(
        None, ge=1, le=1e7, description="pump spot σ; None = use the measured σ₀ of the scan"
    )
    temperature_k: float = Field(300.0, ge=1e-3, le=1e4)
    max_fluence_uj_cm2: float = Field(
        500.0, gt=0, le=1e9, description="interlock: fluences above this are refused"
    )


class DeviceEntry(BaseModel):
    """One ``[devices.<role>]`` table before its device-specific settings are validated."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str

    @field_validator("kind")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a device kind such as 'simulated.stage'")
        return value

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class RigConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rig: RigSettings
    simulation: dict[str, Any] = Field(default_factory=dict)
    devices: dict[str, DeviceEntry]

    @field_validator("devices")
    @classmethod
    def _known_roles(cls, value: dict[str, DeviceEntry]) -> dict[str, DeviceEntry]:
        unknown = sorted(set(value) - set(ROLES))
        if unknown:
            raise ValueError(f"roles among {sorted(ROLES)}; got unknown {unknown}")
        missing = [r for r in REQUIRED_ROLES if r not in value]
        if missing:
            raise ValueError(f"the required roles {missing} to be present")
        return value


class LoadedRigConfig(BaseModel):
    """A validated rig file plus where it came from (for messages and the data file)."""

    model_config = ConfigDict(frozen=True)

    path: str
    text: str
    config: RigConfig


def load_rig_config(path: str | Path | None = None) -> LoadedRigConfig:
    """Load and validate a rig file (default: the simulated rig)."""
    path = Path(path) if path is not None else DEFAULT_RIG
    data = load_toml(path, error=ConfigError)
    config = validate_model(RigConfig, data, file=path, error=ConfigError)
    text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    return LoadedRigConfig(path=str(path), text=text, config=config)
