"""Assemble devices from a rig file and guarantee the safe state on the way out.

``with build_rig(path) as rig:`` connects every device; leaving the block — normally, on an
exception or on Ctrl-C — closes the pump shutter first, verifies it reads closed, stops
motion and acquisition, then disconnects everything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from tamrig import units
from tamrig.devices import (
    ROLES,
    Attenuator,
    Camera,
    DelayStage,
    Device,
    PowerMeter,
    Shutter,
    WavelengthSelector,
)
from tamrig.errors import ConfigError, DeviceFault, InterlockError
from tamrig.registry import resolve_kind
from tamrig.rigconfig import LoadedRigConfig, RigSettings, load_rig_config
from tamrig.validation import validate_model

log = logging.getLogger(__name__)
D = TypeVar("D", bound=Device)

#: Order in which devices are put in their safe state: pump light off before anything else.
SAFE_ORDER = (
    "pump_shutter",
    "stage",
    "attenuator",
    "wavelength_selector",
    "camera",
    "probe_shutter",
    "power_meter",
)


@dataclass
class RigContext:
    """What a device may need beyond its own settings while being built.

    ``shared`` lets devices of one family share one object (the simulated rig's virtual
    sample and clock); ``simulation`` is the rig file's raw ``[simulation]`` table. Reading
    it marks the rig as ``simulated``, so options meant for simulated devices (the time
    scale) can be refused on a rig that has none instead of being silently ignored.
    """

    file: str
    rig: RigSettings
    simulation_table: dict[str, Any]
    shared: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False

    @property
    def simulation(self) -> dict[str, Any]:
        self.simulated = True
        return self.simulation_table

    def shared_object(self, key: str, factory: Any) -> Any:
        if key not in self.shared:
            self.shared[key] = factory()
        return self.shared[key]


class Rig:
    """The set of connected devices of one set-up, by role."""

    def __init__(
        self, loaded: LoadedRigConfig, devices: dict[str, Device], context: RigContext
    ) -> None:
        self.loaded = loaded
        self.settings = loaded.config.rig
        self.devices = devices
        self.context = context
        self._mm_per_fs = units.stage_mm_per_fs(self.settings.passes)

    # -- roles -----------------------------------------------------------------------------
    def _role(self, role: str, cls: type[D]) -> D:
        device = self.devices.get(role)
        if device is None:
            raise ConfigError(
                "this rig has no such device", file=self.loaded.path, field=f"devices.{role}"
            )
        return device  # type: ignore[return-value]  # the role's class (build_rig checked it)

    @property
    def stage(self) -> DelayStage:
        return self._role("stage", DelayStage)

    @property
    def pump_shutter(self) -> Shutter:
        return self._role("pump_shutter", Shutter)

    @property
    def probe_shutter(self) -> Shutter | None:
        return cast(Shutter | None, self.devices.get("probe_shutter"))

    @property
    def camera(self) -> Camera:
        return self._role("camera", Camera)

    @property
    def power_meter(self) -> PowerMeter | None:
        return cast(PowerMeter | None, self.devices.get("power_meter"))

    @property
    def attenuator(self) -> Attenuator | None:
        return cast(Attenuator | None, self.devices.get("attenuator"))

    @property
    def wavelength_selector(self) -> WavelengthSelector | None:
        return cast(WavelengthSelector | None, self.devices.get("wavelength_selector"))

    # -- delay -----------------------------------------------------------------------------
    def delay_to_mm(self, delay_fs: float) -> float:
        """:func:`units.delay_fs_to_stage_mm` for one number, in plain floats (the same
        operations in the same order, so the same result, without a numpy round trip)."""
        return self.settings.time_zero_mm + float(delay_fs) * self._mm_per_fs

    def mm_to_delay(self, position_mm: float) -> float:
        """:func:`units.stage_mm_to_delay_fs` for one number, in plain floats."""
        return (float(position_mm) - self.settings.time_zero_mm) / self._mm_per_fs

    def delay_range_fs(self) -> tuple[float, float]:
        lo, hi = self.stage.limits_mm
        return self.mm_to_delay(lo), self.mm_to_delay(hi)

    def set_delay_fs(self, delay_fs: float, timeout_s: float = 60.0) -> float:
        """Move the stage to ``delay_fs``; returns the delay actually reached."""
        reached = self.stage.move_to(self.delay_to_mm(delay_fs), timeout_s=timeout_s)
        return self.mm_to_delay(reached)

    def delay_fs(self) -> float:
        return self.mm_to_delay(self.stage.position_mm())

    # -- interlocked pump ------------------------------------------------------------------
    def open_pump(self) -> None:
        """Open the pump shutter; refused unless the camera is acquiring (interlock)."""
        devices = self.devices  # (twice a point: the roles looked up without helper calls)
        camera, shutter = devices.get("camera"), devices.get("pump_shutter")
        if camera is None or shutter is None:
            camera, shutter = self.camera, self.pump_shutter  # the missing role's error
        if not cast(Camera, camera).acquiring:
            raise InterlockError("interlock: the pump shutter opens only while the camera acquires")
        cast(Shutter, shutter).open()

    def close_pump(self) -> None:
        shutter = self.devices.get("pump_shutter")
        cast(Shutter, self.pump_shutter if shutter is None else shutter).close()

    # -- lifecycle -------------------------------------------------------------------------
    def connect(self) -> None:
        try:
            for device in self.devices.values():
                device.connect()
            self.safe_state()
        except ConfigError as exc:  # a setting only the connected device could check
            self.shutdown()
            if exc.file is not None:
                raise
            raise ConfigError(
                exc.detail, file=self.loaded.path, field=exc.field, expected=exc.expected
            ) from None
        except BaseException:
            self.shutdown()
            raise

    def safe_state(self) -> list[str]:
        """Put every device in its safe state, pump shutter first; returns problems met.

        Raises DeviceFault only if the pump shutter cannot be confirmed closed.
        """
        problems: list[str] = []
        for role in SAFE_ORDER + tuple(r for r in self.devices if r not in SAFE_ORDER):
            device = self.devices.get(role)
            if device is None or not device.connected:
                continue
            try:
                device.safe_state()
            except Exception as exc:
                problems.append(f"{role}: {exc}")
                log.error("safe state of %s failed: %s", role, exc)
        pump = self.devices.get("pump_shutter")
        if isinstance(pump, Shutter) and pump.connected:
            try:
                still_open = pump.is_open()
            except DeviceFault as exc:
                still_open = True
                problems.append(f"pump_shutter: state unreadable ({exc})")
            if still_open:
                log.critical("PUMP SHUTTER NOT CONFIRMED CLOSED - block the pump beam by hand")
                raise DeviceFault(
                    "pump_shutter", "could not be confirmed closed: " + "; ".join(problems)
                )
        return problems

    def shutdown(self) -> None:
        """Safe state then disconnect everything; never raises except for an open pump."""
        try:
            self.safe_state()
        finally:
            for device in reversed(list(self.devices.values())):
                device.disconnect()

    def __enter__(self) -> Rig:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def snapshot(self) -> dict[str, Any]:
        """Every device's settings snapshot, for the data file."""
        return {role: device.settings_snapshot() for role, device in self.devices.items()}


def build_rig(path: str | Path | None = None, *, overrides: dict[str, Any] | None = None) -> Rig:
    """Build (not connect) the rig a file describes.

    ``overrides`` replaces keys of the ``[simulation]`` table (tests use it to set
    ``time_scale = 0`` or inject faults without writing a file).
    """
    loaded = load_rig_config(path)
    config = loaded.config
    simulation = {**config.simulation, **(overrides or {})}
    context = RigContext(file=loaded.path, rig=config.rig, simulation_table=simulation)
    devices: dict[str, Device] = {}
    for role, entry in config.devices.items():
        field_prefix = f"devices.{role}"
        try:
            cls = resolve_kind(entry.kind)
        except LookupError as exc:
            raise ConfigError(
                f"unknown device kind {entry.kind!r}",
                file=loaded.path,
                field=f"{field_prefix}.kind",
                expected=str(exc),
            ) from None
        wanted = ROLES[role]
        if not issubclass(cls, wanted):
            raise ConfigError(
                f"kind {entry.kind!r} is a {cls.family}, not a {wanted.family}",
                file=loaded.path,
                field=f"{field_prefix}.kind",
                expected=f"a {wanted.family} kind",
            )
        settings = validate_model(
            cls.Settings, entry.options(), file=loaded.path, prefix=field_prefix, error=ConfigError
        )
        devices[role] = build_device(cls, role, settings, context)
    return Rig(loaded, devices, context)


def build_device(cls: type[Device], role: str, settings: Any, context: RigContext) -> Device:
    """Instantiate; device classes that need the rig context define ``from_context``."""
    factory = getattr(cls, "from_context", None)
    if factory is not None:
        return cast(Device, factory(role, settings, context))
    return cls(role, settings)
