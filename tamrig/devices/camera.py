"""Camera: GenICam-style area camera delivering raw probe frames with per-frame metadata.

Frames travel in blocks (``FrameBlock``) so the acquisition path stays vectorised: the
differential-imaging code never touches Python objects per frame.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from tamrig.devices.base import Device

PixelFormat = Literal["Mono8", "Mono12", "Mono16"]
TriggerMode = Literal["free-run", "hardware"]


@dataclass(frozen=True)
class Roi:
    """Region of interest on the sensor, in pixels (offsets from the sensor corner)."""

    x: int
    y: int
    width: int
    height: int


#: Largest sensor side any camera here may claim (pixels); bounds every ROI and frame size.
MAX_SENSOR_PIXELS = 65536


def check_roi(
    roi: tuple[int, int, int, int] | None, sensor: tuple[int, int] | None = None
) -> tuple[int, int, int, int] | None:
    """A rig file's ``roi = [x, y, width, height]``: positive size, on the sensor.

    ``sensor`` is (height, width) when the rig file states it; a driver that learns it only
    on connect calls this again then. Raises ValueError saying what is expected.
    """
    if roi is None:
        return None
    x, y, width, height = roi
    if width < 1 or height < 1:
        raise ValueError(f"a positive width and height (got {width} x {height})")
    if x < 0 or y < 0:
        raise ValueError(f"offsets x, y >= 0 from the sensor corner (got {x}, {y})")
    sensor_h, sensor_w = sensor if sensor is not None else (MAX_SENSOR_PIXELS,) * 2
    if x + width > sensor_w or y + height > sensor_h:
        raise ValueError(
            f"an ROI inside the {sensor_w} x {sensor_h} sensor "
            f"(x + width = {x + width}, y + height = {y + height})"
        )
    return roi


@dataclass(frozen=True)
class CameraConfig:
    """What the camera is set to; changed only while it is not acquiring."""

    roi: Roi
    exposure_us: float
    frame_rate_hz: float
    pixel_format: PixelFormat = "Mono12"
    trigger: TriggerMode = "free-run"


@dataclass(frozen=True)
class CameraNoise:
    """What the noise of a ΔT/T image depends on, per exposure: the probe level at its peak
    (counts above dark, pump off), the conversion gain, read noise and full well (electrons),
    and the exposures the camera sums into each delivered frame. Used to predict a plan's
    precision before it runs."""

    probe_counts: float
    electrons_per_count: float
    read_noise_e: float
    full_well_e: float
    accumulate: int = 1


@dataclass
class FrameBlock:
    """Consecutive frames and their metadata.

    ``pump_on`` is the per-frame pump-state tag read from hardware (chopper reference on a
    camera line / chunk); None when the camera has no tag source, in which case the caller
    must use a shutter-block scheme rather than trusting parity.
    """

    data: npt.NDArray[np.unsignedinteger[Any]]  # (n, height, width); uint32 when accumulated
    frame_id: npt.NDArray[np.int64]  # (n,)
    timestamp_s: npt.NDArray[np.float64]  # (n,)
    pump_on: npt.NDArray[np.bool_] | None = None
    dropped: int = field(default=0)  # frames missing inside / right before this block

    def __len__(self) -> int:
        return int(self.data.shape[0])


class Camera(Device):
    family: ClassVar[str] = "camera"

    @property
    @abc.abstractmethod
    def sensor_shape(self) -> tuple[int, int]:
        """Full sensor size (height, width) in pixels."""

    @abc.abstractmethod
    def config(self) -> CameraConfig:
        """Current configuration as read back from the camera."""

    @abc.abstractmethod
    def configure(
        self,
        *,
        roi: Roi | None = None,
        exposure_us: float | None = None,
        frame_rate_hz: float | None = None,
        pixel_format: PixelFormat | None = None,
        trigger: TriggerMode | None = None,
    ) -> CameraConfig:
        """Apply settings (only while stopped); returns what the camera actually took."""

    @abc.abstractmethod
    def start(self) -> None:
        """Start streaming into the driver's buffer."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop streaming; wakes any reader blocked in :meth:`read`."""

    @property
    @abc.abstractmethod
    def acquiring(self) -> bool: ...

    @abc.abstractmethod
    def read(self, n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
        """Return the next ``n_frames`` consecutive frames (raises DeviceTimeout on a stall)."""

    @property
    @abc.abstractmethod
    def dropped_frames(self) -> int:
        """Frames lost since start (frame-id gaps)."""

    def frame_period_s(self) -> float:
        """Seconds between delivered frames (a camera summing frames on board overrides it)."""
        return 1.0 / self.config().frame_rate_hz

    def discard_pending(self) -> None:
        """Drop frames buffered since the last read, so the next read starts now: its first
        frame began its exposure after this call.

        The engine keeps the camera streaming between points and calls this before each
        point: frames taken while the stage moved must not count. Frames left out are not
        dropped frames (neither ``dropped_frames`` nor ``FrameBlock.dropped`` counts them);
        frame ids keep increasing and every frame keeps its own pump-state tag. A camera
        that is not acquiring has nothing to drop. Default: re-arm (stop and start), which
        any camera supports; a driver that can skip stale frames while streaming overrides
        it (the GenICam driver does, by frame id).
        """
        if self.acquiring:
            self.stop()
            self.start()

    def noise(self) -> CameraNoise | None:
        """The sensor's noise model and probe level, when the camera or its settings know
        them (None: unknown, and no precision can be predicted)."""
        return None

    def _safe_state(self) -> None:
        if self.connected and self.acquiring:
            self.stop()
