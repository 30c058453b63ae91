"""Configuring a GenICam (SFNC) node map: feature-detected, in the order cameras accept.

Works on anything with attribute nodes exposing ``.value`` (and ``.min``/``.max``/``.inc``/
``.symbolics`` where relevant), so a dict-backed fake can stand in for a camera that has
nodes the test producer lacks (exposure, trigger, offsets, chunks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tamrig.devices.camera import CameraConfig, PixelFormat, Roi, TriggerMode

EXPOSURE_NODES = ("ExposureTime", "ExposureTimeAbs")
RATE_NODES = ("AcquisitionFrameRate", "AcquisitionFrameRateAbs")
RESULTING_RATE_NODES = ("ResultingFrameRate", "AcquisitionResultingFrameRate")


class NodeError(Exception):
    """The camera lacks a feature, or refuses a value."""


def has(nm: Any, name: str) -> bool:
    try:
        return hasattr(nm, name)
    except Exception:  # some node maps raise instead of returning False
        return False


def first_node(nm: Any, names: tuple[str, ...]) -> Any | None:
    for name in names:
        if has(nm, name):
            return getattr(nm, name)
    return None


def set_if_present(nm: Any, name: str, value: Any) -> bool:
    if not has(nm, name):
        return False
    getattr(nm, name).value = value
    return True


def snap(node: Any, value: int) -> int:
    """Clamp to [min, max] and round down to the node's increment."""
    lo, hi = int(node.min), int(node.max)
    inc = max(1, int(getattr(node, "inc", 1)))
    value = max(lo, min(hi, int(value)))
    return lo + ((value - lo) // inc) * inc


def sensor_shape(nm: Any) -> tuple[int, int]:
    """(height, width) of the full sensor."""
    if has(nm, "HeightMax") and has(nm, "WidthMax"):
        return int(nm.HeightMax.value), int(nm.WidthMax.value)
    return int(nm.Height.max), int(nm.Width.max)


@dataclass(frozen=True)
class Features:
    """What this camera offers beyond width/height/pixel format."""

    offsets: bool
    exposure: bool
    trigger: bool
    frame_rate: bool
    line_status_chunk: bool


def detect(nm: Any) -> Features:
    return Features(
        offsets=has(nm, "OffsetX") and has(nm, "OffsetY"),
        exposure=first_node(nm, EXPOSURE_NODES) is not None,
        trigger=has(nm, "TriggerMode") and has(nm, "TriggerSource"),
        frame_rate=first_node(nm, RATE_NODES) is not None,
        line_status_chunk=has(nm, "ChunkModeActive") and has(nm, "ChunkSelector"),
    )


def apply_config(
    nm: Any,
    config: CameraConfig,
    *,
    trigger_source: str = "Line0",
    trigger_activation: str = "RisingEdge",
) -> CameraConfig:
    """Apply ``config`` (camera stopped) and return what the camera actually took."""
    feats = detect(nm)
    set_if_present(nm, "ExposureAuto", "Off")
    set_if_present(nm, "GainAuto", "Off")
    if has(nm, "ComponentSelector") and "Intensity" in nm.ComponentSelector.symbolics:
        nm.ComponentSelector.value = "Intensity"  # else PixelFormat may be read-only

    formats = tuple(nm.PixelFormat.symbolics)
    if config.pixel_format not in formats:
        raise NodeError(f"pixel format {config.pixel_format} not offered (camera has {formats})")
    nm.PixelFormat.value = config.pixel_format

    roi = config.roi
    if feats.offsets:
        nm.OffsetX.value = 0
        nm.OffsetY.value = 0
    elif roi.x or roi.y:
        raise NodeError("camera has no OffsetX/OffsetY; the ROI must start at (0, 0)")
    nm.Width.value = snap(nm.Width, roi.width)
    nm.Height.value = snap(nm.Height, roi.height)
    if feats.offsets:
        nm.OffsetX.value = snap(nm.OffsetX, roi.x)
        nm.OffsetY.value = snap(nm.OffsetY, roi.y)

    exposure_node = first_node(nm, EXPOSURE_NODES)
    if exposure_node is not None:
        exposure_node.value = float(
            max(exposure_node.min, min(exposure_node.max, config.exposure_us))
        )

    trigger: TriggerMode = config.trigger
    if trigger == "hardware":
        if not feats.trigger:
            raise NodeError("camera has no TriggerMode/TriggerSource: hardware trigger impossible")
        set_if_present(nm, "TriggerSelector", "FrameStart")
        nm.TriggerMode.value = "On"
        nm.TriggerSource.value = trigger_source
        set_if_present(nm, "TriggerActivation", trigger_activation)
        set_if_present(nm, "ExposureMode", "Timed")
        set_if_present(nm, "AcquisitionFrameRateEnable", False)
    else:
        if feats.trigger:
            set_if_present(nm, "TriggerSelector", "FrameStart")
            nm.TriggerMode.value = "Off"
        set_if_present(nm, "AcquisitionFrameRateEnable", True)
        rate_node = first_node(nm, RATE_NODES)
        if rate_node is not None:
            rate_node.value = float(max(rate_node.min, min(rate_node.max, config.frame_rate_hz)))
    return read_config(nm, trigger)


def read_config(nm: Any, trigger: TriggerMode | None = None) -> CameraConfig:
    feats = detect(nm)
    exposure_node = first_node(nm, EXPOSURE_NODES)
    rate_node = first_node(nm, RESULTING_RATE_NODES) or first_node(nm, RATE_NODES)
    if trigger is None:
        trigger = "hardware" if feats.trigger and nm.TriggerMode.value == "On" else "free-run"
    fmt = str(nm.PixelFormat.value)
    pixel_format: PixelFormat = fmt if fmt in ("Mono8", "Mono12", "Mono16") else "Mono8"  # type: ignore[assignment]
    return CameraConfig(
        roi=Roi(
            x=int(nm.OffsetX.value) if feats.offsets else 0,
            y=int(nm.OffsetY.value) if feats.offsets else 0,
            width=int(nm.Width.value),
            height=int(nm.Height.value),
        ),
        exposure_us=float(exposure_node.value) if exposure_node is not None else 0.0,
        frame_rate_hz=float(rate_node.value) if rate_node is not None else 0.0,
        pixel_format=pixel_format,
        trigger=trigger,
    )


def enable_line_status_chunk(nm: Any) -> bool:
    """Ask for the LineStatusAll chunk with every frame; False when the camera cannot."""
    if not detect(nm).line_status_chunk:
        return False
    try:
        if "LineStatusAll" not in nm.ChunkSelector.symbolics:
            return False
        nm.ChunkModeActive.value = True
        nm.ChunkSelector.value = "LineStatusAll"
        set_if_present(nm, "ChunkEnable", True)
    except Exception:
        return False
    return has(nm, "ChunkLineStatusAll")


def line_bit(line: str) -> int:
    """'Line2' -> 2 (bit of the line in LineStatusAll)."""
    digits = "".join(ch for ch in line if ch.isdigit())
    if not digits:
        raise NodeError(f"line name {line!r} (expected e.g. 'Line2')")
    return int(digits)
