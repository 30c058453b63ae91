"""Readings of each device for its panel, taken in a worker thread (no Qt here).

A panel never calls a device itself: the device worker calls :func:`read_state` and sends the
resulting :class:`DeviceState` to the GUI thread, so a slow or hung instrument only delays its
own panel's refresh.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from tamrig.devices import (
    Attenuator,
    Camera,
    DelayStage,
    Device,
    PowerMeter,
    Shutter,
    WavelengthSelector,
)
from tamrig.errors import DeviceDisconnected, TamrigError
from tamrig.rig import Rig


@dataclass
class DeviceState:
    """What a panel shows: connection, last error, and family-specific readings."""

    role: str
    family: str
    connected: bool
    last_error: str | None
    values: dict[str, Any] = field(default_factory=dict)
    read_error: str | None = None
    link_lost: bool = False
    timestamp: float = 0.0


def _stage(rig: Rig, stage: DelayStage) -> dict[str, Any]:
    position = stage.position_mm()
    lo, hi = stage.limits_mm
    return {
        "position_mm": position,
        "delay_fs": rig.mm_to_delay(position),
        "limits_mm": (lo, hi),
        "delay_range_fs": tuple(sorted((rig.mm_to_delay(lo), rig.mm_to_delay(hi)))),
        "moving": stage.is_moving(),
    }


def _shutter(shutter: Shutter) -> dict[str, Any]:
    return {"open": shutter.is_open()}


def _power_meter(meter: PowerMeter) -> dict[str, Any]:
    return {
        "power_w": meter.read_power_w(),
        "wavelength_nm": meter.wavelength_nm,
        "averaging": meter.averaging,
    }


def _attenuator(attenuator: Attenuator) -> dict[str, Any]:
    return {
        "setting": attenuator.setting(),
        "range": attenuator.setting_range,
        "kind": attenuator.kind,
    }


def _wavelength(selector: WavelengthSelector) -> dict[str, Any]:
    return {
        "wavelength_nm": selector.wavelength_nm(),
        "bandwidth_nm": selector.bandwidth_nm(),
        "available_nm": sorted(selector.available_nm()),
    }


def _camera(camera: Camera) -> dict[str, Any]:
    config = camera.config()
    return {
        "acquiring": camera.acquiring,
        "roi": (config.roi.x, config.roi.y, config.roi.width, config.roi.height),
        "exposure_us": config.exposure_us,
        "frame_rate_hz": config.frame_rate_hz,
        "pixel_format": config.pixel_format,
        "trigger": config.trigger,
        "sensor_shape": camera.sensor_shape,
        "dropped_frames": camera.dropped_frames,
        # exposures summed per delivered frame (on-camera accumulation), where offered
        "accumulate": int(getattr(camera, "accumulate", 1)),
    }


def read_values(rig: Rig, device: Device) -> dict[str, Any]:
    """Family-specific readings of one device (raises the device's fault on failure)."""
    if isinstance(device, DelayStage):
        return _stage(rig, device)
    if isinstance(device, Shutter):
        return _shutter(device)
    if isinstance(device, PowerMeter):
        return _power_meter(device)
    if isinstance(device, Attenuator):
        return _attenuator(device)
    if isinstance(device, WavelengthSelector):
        return _wavelength(device)
    if isinstance(device, Camera):
        return _camera(device)
    return device.status()


def read_state(rig: Rig, role: str, *, skip_slow: bool = False) -> DeviceState:
    """One device's state; a failed read is reported in the state, never raised."""
    device = rig.devices[role]
    state = DeviceState(
        role=role,
        family=device.family,
        connected=device.connected,
        last_error=device.last_error,
        timestamp=time.time(),
    )
    if not device.connected or (skip_slow and isinstance(device, PowerMeter)):
        return state
    try:
        # guard() records the device's fault as its last_error, which the panel shows
        state.values = device.guard(lambda: read_values(rig, device))
    except DeviceDisconnected as exc:
        state.read_error = str(exc)
        state.link_lost = True
    except TamrigError as exc:
        state.read_error = str(exc)
    state.last_error = device.last_error
    return state


def reconnect(rig: Rig, role: str) -> str:
    """Drop and re-open one device's connection; returns its identity."""
    device = rig.devices[role]
    device.disconnect()
    device.connect()
    device.safe_state()
    return device.identify()


def format_si(value: float, unit: str, digits: int = 3) -> str:
    """``1.23e-7, "W"`` -> ``"123 nW"`` for panel read-outs."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    prefixes = [(1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, "")]
    scale, prefix = prefixes[0]
    for s, p in prefixes:
        if abs(value) >= s:
            scale, prefix = s, p
    return f"{value / scale:.{digits}g} {prefix}{unit}"
