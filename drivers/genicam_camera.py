"""Any GenICam camera through harvesters and a GenTL producer (.cti).

One dedicated acquisition thread owns the fetch loop: ``try_fetch`` with a short timeout so a
stop request (an Event) is seen within that timeout, the frame copied into a
:class:`~drivers.frame_ring.FrameRing` while the camera buffer is held, then the buffer is
requeued. Dropped frames are counted from frame-id gaps. Shutdown order: stop event → join
thread → ``ia.stop()`` → ``ia.destroy()`` → ``h.reset()``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from drivers.frame_ring import FrameRing, RingClosed
from drivers.genicam_nodes import (
    NodeError,
    apply_config,
    enable_line_status_chunk,
    has,
    line_bit,
    read_config,
    sensor_shape,
)
from tamrig.devices import Camera, CameraConfig, CameraNoise, DeviceSettings, FrameBlock, Roi
from tamrig.devices.camera import PixelFormat, TriggerMode, check_roi
from tamrig.errors import ConfigError, DeviceDisconnected, DeviceStateError, DeviceTimeout

log = logging.getLogger(__name__)


def find_cti(cti: str) -> Path:
    """The producer file: a path as given, else by name on GENICAM_GENTL64_PATH, else the
    producer shipped inside the ``genicam`` wheel (viky.cti)."""
    path = Path(cti).expanduser()
    if path.is_file():
        return path
    dirs = [Path(p) for p in os.environ.get("GENICAM_GENTL64_PATH", "").split(os.pathsep) if p]
    try:
        import genicam

        dirs.append(Path(genicam.__file__).resolve().parent)
    except ImportError:
        pass
    for folder in dirs:
        candidate = folder / path.name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"GenTL producer {cti!r} not found (looked in {[str(d) for d in dirs]})"
    )


class GenICamSettings(DeviceSettings):
    cti: str = Field(description="GenTL producer file, or a file name on GENICAM_GENTL64_PATH")
    serial: str = Field("", description="camera serial number; empty = first camera found")
    roi: tuple[int, int, int, int] | None = Field(
        None, description="x, y, width, height in pixels; None = full sensor"
    )
    pixel_format: PixelFormat = "Mono12"
    exposure_us: float = Field(2000.0, ge=1e-3, le=1e8)
    frame_rate_hz: float = Field(100.0, ge=1e-3, le=1e6)
    trigger: TriggerMode = "free-run"
    trigger_source: str = Field("Line0", description="input wired to the laser/chopper divider")
    trigger_activation: str = "RisingEdge"
    pump_tag_line: str | None = Field(
        None, description="input carrying the chopper reference, read per frame from chunks"
    )
    num_buffers: int = Field(64, ge=3, description="GenTL buffers (sized for stalls)")
    ring_frames: int = Field(256, ge=8, description="host ring of copied frames")
    fetch_timeout_s: float = Field(0.05, gt=0, description="bounds how long stop() waits")
    # Noise model from the camera's data sheet / a photon-transfer curve, and the probe
    # level in use: all four set lets `tamrig scan --check` predict a plan's precision.
    probe_counts: float | None = Field(None, gt=0, description="probe peak above dark (counts)")
    electrons_per_count: float | None = Field(None, gt=0, description="conversion gain")
    read_noise_e: float | None = Field(None, ge=0, description="read noise (electrons rms)")
    full_well_e: float | None = Field(None, gt=0, description="full-well capacity (electrons)")

    @field_validator("roi")
    @classmethod
    def _positive_roi(
        cls, roi: tuple[int, int, int, int] | None
    ) -> tuple[int, int, int, int] | None:
        return check_roi(roi)  # the sensor size is known once connected (see _connect)


class GenICamCamera(Camera):
    Settings = GenICamSettings
    settings: GenICamSettings

    def __init__(self, name: str, settings: GenICamSettings) -> None:
        super().__init__(name, settings)
        self._h: Any = None
        self._ia: Any = None
        self._config: CameraConfig | None = None
        self._sensor: tuple[int, int] = (0, 0)
        self._ring: FrameRing | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._tagged = False
        self._dropped = 0
        self._frames = 0
        self._device_timestamps: bool | None = None
        self._identity = ""

    def noise(self) -> CameraNoise | None:
        s = self.settings
        if None in (s.probe_counts, s.electrons_per_count, s.read_noise_e, s.full_well_e):
            return None
        return CameraNoise(
            probe_counts=float(s.probe_counts or 0.0),
            electrons_per_count=float(s.electrons_per_count or 0.0),
            read_noise_e=float(s.read_noise_e or 0.0),
            full_well_e=float(s.full_well_e or 0.0),
        )

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def nm(self) -> Any:
        if self._ia is None:
            raise self.fault("not connected", DeviceStateError)
        return self._ia.remote_device.node_map

    def _connect(self) -> None:
        from harvesters.core import Harvester

        s = self.settings
        try:
            cti = find_cti(s.cti)
        except FileNotFoundError as exc:
            raise ConfigError(str(exc), field=f"devices.{self.name}.cti") from None
        h = Harvester()
        try:
            h.add_file(str(cti), check_existence=True, check_validity=True)
            h.update()
            devices = list(h.device_info_list)
            if not devices:
                raise self.fault(f"no camera found through {cti.name}", DeviceDisconnected)
            if s.serial:
                match = [d for d in devices if str(d.serial_number) == s.serial]
                if not match:
                    seen = [str(d.serial_number) for d in devices]
                    raise self.fault(f"no camera with serial {s.serial!r} (found {seen})")
                info = match[0]
            else:
                info = devices[0]
            self._identity = f"{info.vendor} {info.model} serial {info.serial_number}"
            self._ia = h.create(info)
        except BaseException:
            h.reset()
            raise
        self._h = h
        self._sensor = sensor_shape(self.nm)
        try:
            check_roi(s.roi, self._sensor)
        except ValueError as exc:
            self._disconnect()
            raise ConfigError(
                f"ROI {s.roi} does not fit this camera",
                field=f"devices.{self.name}.roi",
                expected=str(exc),
            ) from None
        roi = Roi(*s.roi) if s.roi else Roi(0, 0, self._sensor[1], self._sensor[0])
        self.configure(
            roi=roi,
            exposure_us=s.exposure_us,
            frame_rate_hz=s.frame_rate_hz,
            pixel_format=s.pixel_format,
            trigger=s.trigger,
        )
        self._tagged = False
        if s.pump_tag_line is not None:
            self._tagged = enable_line_status_chunk(self.nm)
            if not self._tagged:
                log.warning("%s: no LineStatusAll chunk; frames carry no pump tag", self.name)
        ds = self._ia.data_streams[0].node_map
        if has(ds, "StreamBufferHandlingMode"):
            ds.StreamBufferHandlingMode.value = "OldestFirst"

    def _disconnect(self) -> None:
        try:
            self._halt()
        finally:
            if self._ia is not None:
                self._ia.destroy()
            if self._h is not None:
                self._h.reset()
            self._ia = None
            self._h = None

    def _identify(self) -> str:
        return self._identity

    def _status(self) -> dict[str, Any]:
        c = self.config()
        return {
            "acquiring": self.acquiring,
            "roi": [c.roi.x, c.roi.y, c.roi.width, c.roi.height],
            "pixel_format": c.pixel_format,
            "frame_rate_hz": c.frame_rate_hz,
            "exposure_us": c.exposure_us,
            "trigger": c.trigger,
            "pump_tag": self._tagged,
            "frames": self._frames,
            "dropped_frames": self._dropped,
            "timestamps": {None: "unknown", True: "camera", False: "host"}[self._device_timestamps],
        }

    # -- configuration ---------------------------------------------------------------------
    @property
    def sensor_shape(self) -> tuple[int, int]:
        return self._sensor

    def config(self) -> CameraConfig:
        if self._config is None:
            raise self.fault("not connected", DeviceStateError)
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
        if self.acquiring:
            raise self.fault("settings are locked while acquiring", DeviceStateError)
        current = self._config or read_config(self.nm)
        wanted = CameraConfig(
            roi=roi or current.roi,
            exposure_us=exposure_us if exposure_us is not None else current.exposure_us,
            frame_rate_hz=frame_rate_hz if frame_rate_hz is not None else current.frame_rate_hz,
            pixel_format=pixel_format or current.pixel_format,
            trigger=trigger or current.trigger,
        )
        h, w = self._sensor
        r = wanted.roi
        if (
            r.x < 0
            or r.y < 0
            or r.width < 1
            or r.height < 1
            or r.x + r.width > w
            or (r.y + r.height > h)
        ):
            raise self.fault(f"ROI {r} does not fit the {w}x{h} sensor")
        try:
            self._config = apply_config(
                self.nm,
                wanted,
                trigger_source=self.settings.trigger_source,
                trigger_activation=self.settings.trigger_activation,
            )
        except NodeError as exc:
            raise self.fault(str(exc), DeviceStateError) from None
        return self._config

    # -- streaming -------------------------------------------------------------------------
    @property
    def acquiring(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def dropped_frames(self) -> int:
        return self._dropped

    def start(self) -> None:
        if self.acquiring:
            return
        c = self.config()
        dtype = np.uint8 if c.pixel_format == "Mono8" else np.uint16
        self._ring = FrameRing(
            self.settings.ring_frames, c.roi.height, c.roi.width, self._tagged, dtype
        )
        self._dropped = 0
        self._frames = 0
        self._stop.clear()
        ia = self._ia
        ia.num_buffers = self.settings.num_buffers
        ia.start()
        self._thread = threading.Thread(
            target=self._acquire, args=(self._ring,), name=f"{self.name}-acquisition", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._halt()

    def _halt(self) -> None:
        """Stop event → join → ia.stop(); the ring is closed so blocked readers wake."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(2.0, 20 * self.settings.fetch_timeout_s))
            if self._thread.is_alive():
                log.error("%s: acquisition thread did not stop", self.name)
            self._thread = None
        if self._ring is not None:
            self._ring.close()
        if self._ia is not None and self._ia.is_acquiring():
            self._ia.stop()

    def _acquire(self, ring: FrameRing) -> None:
        """The acquisition thread: fetch, copy into the ring, requeue; until stopped."""
        from genicam.gentl import GenericException

        ia = self._ia
        tag_line = self.settings.pump_tag_line
        tag_bit = line_bit(tag_line) if self._tagged and tag_line else 0
        c = self.config()
        shape = (c.roi.height, c.roi.width)
        last_id: int | None = None
        error: BaseException | None = None
        try:
            while not self._stop.is_set():
                buffer = ia.try_fetch(timeout=self.settings.fetch_timeout_s)
                if buffer is None:
                    continue
                with buffer:
                    frame_id = int(buffer.module.frame_id)
                    gap = frame_id - last_id - 1 if last_id is not None else 0
                    last_id = frame_id
                    stamp = self._timestamp(buffer)
                    pump = None
                    if self._tagged:
                        pump = bool((int(self.nm.ChunkLineStatusAll.value) >> tag_bit) & 1)
                    image = buffer.payload.components[0].data.reshape(shape)
                    ring.push(image, frame_id, stamp, pump, dropped_before=max(gap, 0))
                self._frames += 1
                self._dropped = ring.dropped_total
        except GenericException as exc:
            error = exc
            log.error("%s: acquisition stopped by the producer: %s", self.name, exc)
        except Exception as exc:
            error = exc
            log.exception("%s: acquisition thread failed", self.name)
        finally:
            ring.close(error)

    def _timestamp(self, buffer: Any) -> float:
        """Camera timestamp (s) when the producer offers one, else the host clock."""
        if self._device_timestamps is not False:
            try:
                ns = int(buffer.timestamp_ns)
            except Exception:
                ns = 0
            if ns > 0:
                self._device_timestamps = True
                return ns * 1e-9
            self._device_timestamps = False
        return time.monotonic()

    def read(self, n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
        ring = self._ring
        if ring is None:
            raise self.fault("read before start", DeviceStateError)
        try:
            block = ring.take(n_frames, timeout_s)
        except ValueError as exc:
            raise self.fault(str(exc)) from None
        except TimeoutError as exc:
            raise self.fault(f"frames stalled: {exc}", DeviceTimeout) from None
        except RingClosed as exc:
            detail = f"{exc}" + (f" ({ring.error})" if ring.error is not None else "")
            raise self.fault(detail, DeviceStateError) from None
        return block
