"""Simulated GenICam-like camera imaging the probe through the virtual sample.

Frames are raw counts: probe profile × (1 + ΔT/T on pump-on frames), with shot and read
noise, dark offset, 12-bit saturation and slow probe-power drift. The pump-state tag comes
from a simulated chopper locked to the frame clock (half the frame rate), as a camera line
would report it; the pump only reaches the sample when the pump shutter is open.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field

from simulators.devices.common import SimulatedDevice
from tamrig.devices import Camera, CameraConfig, DeviceSettings, FrameBlock, Roi
from tamrig.devices.camera import PixelFormat, TriggerMode
from tamrig.errors import DeviceStateError


class SimulatedCameraSettings(DeviceSettings):
    sensor_height: int = Field(512, ge=16)
    sensor_width: int = Field(512, ge=16)
    roi: tuple[int, int, int, int] | None = Field(
        (224, 224, 64, 64), description="x, y, width, height; None = full sensor"
    )
    frame_rate_hz: float = Field(200.0, gt=0)
    exposure_us: float = Field(4000.0, gt=0)
    pixel_format: PixelFormat = "Mono12"
    probe_peak_counts: float = Field(2500.0, gt=0, description="probe peak, pump off")
    probe_sigma_um: float = Field(8.0, gt=0, description="wide-field probe spot σ")
    electrons_per_count: float = Field(49.0, gt=0)
    read_noise_e: float = Field(200.0, ge=0)
    dark_counts: float = Field(100.0, ge=0)
    drift_amplitude: float = Field(0.01, ge=0, description="relative probe-power drift")
    drift_period_s: float = Field(60.0, gt=0)
    centre_drift_nm_per_s: float = Field(0.0, ge=0, description="beam-centre drift")
    chopper: bool = Field(True, description="pump chopped at half the frame rate")


class SimulatedCamera(SimulatedDevice, Camera):
    Settings = SimulatedCameraSettings
    settings: SimulatedCameraSettings

    def attach(self, world: Any) -> None:
        super().attach(world)
        s = self.settings
        roi = Roi(*s.roi) if s.roi is not None else Roi(0, 0, s.sensor_width, s.sensor_height)
        self._config = CameraConfig(
            roi=roi,
            exposure_us=s.exposure_us,
            frame_rate_hz=s.frame_rate_hz,
            pixel_format=s.pixel_format,
        )
        self._acquiring = False
        self._next_id = 0
        self._dropped = 0
        self._grid_cache: tuple[Roi, np.ndarray, np.ndarray] | None = None

    # -- configuration ---------------------------------------------------------------------
    @property
    def sensor_shape(self) -> tuple[int, int]:
        return (self.settings.sensor_height, self.settings.sensor_width)

    def config(self) -> CameraConfig:
        return self._config

    def configure(
        self,
        *,
        roi: Roi | None = None,
        exposure_us: float | None = None,
        frame_rate_hz: float | None = None,
        pixel_format: PixelFormat | None = None,
        trigger: TriggerMode | None = None,
    ) -> CameraConfig:
        if self._acquiring:
            raise self.fault("settings are locked while acquiring", DeviceStateError)
        c = self._config
        if roi is not None:
            h, w = self.sensor_shape
            if roi.width < 1 or roi.height < 1 or roi.x < 0 or roi.y < 0:
                raise self.fault(f"invalid ROI {roi}")
            if roi.x + roi.width > w or roi.y + roi.height > h:
                raise self.fault(f"ROI {roi} exceeds the {w}x{h} sensor")
        rate = frame_rate_hz if frame_rate_hz is not None else c.frame_rate_hz
        exposure = exposure_us if exposure_us is not None else c.exposure_us
        rate = min(rate, 1e6 / exposure)  # exposure limits the frame rate, as on a camera
        self._config = CameraConfig(
            roi=roi or c.roi,
            exposure_us=exposure,
            frame_rate_hz=rate,
            pixel_format=pixel_format or c.pixel_format,
            trigger=trigger or c.trigger,
        )
        return self._config

    # -- streaming -------------------------------------------------------------------------
    def start(self) -> None:
        self.maybe_fault("start")
        self._acquiring = True

    def stop(self) -> None:
        self._acquiring = False

    @property
    def acquiring(self) -> bool:
        return self._acquiring

    @property
    def dropped_frames(self) -> int:
        return self._dropped

    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Squared distance (nm²) from the pump centre and the probe profile, per ROI pixel."""
        roi = self._config.roi
        if self._grid_cache is None or self._grid_cache[0] != roi:
            h, w = self.sensor_shape
            a = self.world.rig.pixel_size_nm
            ys = (np.arange(roi.y, roi.y + roi.height) - (h - 1) / 2) * a
            xs = (np.arange(roi.x, roi.x + roi.width) - (w - 1) / 2) * a
            r2 = ys[:, None] ** 2 + xs[None, :] ** 2
            probe_sigma_nm = self.settings.probe_sigma_um * 1e3
            profile = self.settings.probe_peak_counts * np.exp(-r2 / (2 * probe_sigma_nm**2))
            self._grid_cache = (roi, r2, profile)
        return self._grid_cache[1], self._grid_cache[2]

    def read(self, n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
        if not self._acquiring:
            raise self.fault("read while not acquiring", DeviceStateError)
        self.maybe_fault("read")
        s, c, world = self.settings, self._config, self.world
        r2, profile = self._grid()
        t0 = world.clock.now()
        ids = np.arange(self._next_id, self._next_id + n_frames, dtype=np.int64)
        self._next_id += n_frames
        times = t0 + (ids - ids[0] + 1) / c.frame_rate_hz
        world.clock.sleep(n_frames / c.frame_rate_hz)

        tag = (ids % 2 == 0) if s.chopper else np.ones(n_frames, dtype=bool)
        pump_reaches = tag & world.shutter_open("pump_shutter")
        probe_on = world.shutter_open("probe_shutter")
        dtt = np.zeros_like(r2)
        if pump_reaches.any():
            dtt = world.sample.dtt_image(
                world.delay_fs(), world.n_abs(), world.probe_wavelength_nm(), r2
            )
        drift = 1.0 + s.drift_amplitude * np.sin(2 * math.pi * times / s.drift_period_s)
        mean = np.broadcast_to(profile, (n_frames, *profile.shape)).copy()
        if not probe_on:
            mean[:] = 0.0
        mean *= drift[:, None, None]
        mean[pump_reaches] *= 1.0 + dtt
        electrons = mean * s.electrons_per_count
        noise_sd = np.sqrt(electrons + s.read_noise_e**2)
        electrons = electrons + self.rng.standard_normal(mean.shape) * noise_sd
        counts = electrons / s.electrons_per_count + s.dark_counts
        full_scale = {"Mono8": 255, "Mono12": 4095, "Mono16": 65535}[c.pixel_format]
        frames = np.clip(np.rint(counts), 0, full_scale).astype(np.uint16)
        return FrameBlock(
            data=frames,
            frame_id=ids,
            timestamp_s=times,
            pump_on=tag if s.chopper else None,
        )

    def _identify(self) -> str:
        h, w = self.sensor_shape
        return f"tamrig simulated camera SIM-CAM {w}x{h}, 12-bit"

    def _status(self) -> dict[str, Any]:
        c = self._config
        return {
            "acquiring": self._acquiring,
            "roi": [c.roi.x, c.roi.y, c.roi.width, c.roi.height],
            "frame_rate_hz": c.frame_rate_hz,
            "exposure_us": c.exposure_us,
            "pixel_format": c.pixel_format,
            "dropped_frames": self._dropped,
        }
