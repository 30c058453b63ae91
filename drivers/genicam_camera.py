"""Any GenICam camera through harvesters and a GenTL producer (.cti).

One dedicated acquisition thread owns the fetch loop: ``try_fetch`` with a short timeout so a
stop request (an Event) is seen within that timeout, the frame copied into a
:class:`~drivers.frame_ring.FrameRing` while the camera buffer is held, then the buffer is
requeued. Dropped frames are counted from frame-id gaps. Shutdown order: stop event → join
thread → ``ia.stop()`` → ``ia.destroy()`` → ``h.reset()``.

Between scan points the camera stays armed: :meth:`GenICamCamera.discard_pending` drops the
stale frames in the ring and those still on their way from the producer, judged by frame id
(see :meth:`~drivers.frame_ring.FrameRing.discard`), instead of ``ia.stop()`` and
``ia.start()`` (which re-allocate every buffer and restart the frame counter).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from drivers.frame_ring import FrameCounter, FrameRing, RingClosed
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

IDLE_POLL_S = 0.001  # how often an idle acquisition thread looks for a new frame


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
    delivery_latency_s: float | None = Field(
        None,
        gt=0,
        description=(
            "longest time from the end of a frame's exposure to its delivery (sensor readout"
            " + link transfer); None = one frame period, which a camera keeping up with its"
            " frame rate does not exceed. Sets how many frames after a discard may still have"
            " begun exposing before it"
        ),
    )
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
        self._flush = threading.Event()  # a discard asks the thread to empty the queue
        self._flushable = True  # until the producer refuses a flush while streaming
        self._tagged = False
        self._dropped = 0
        self._frames = 0
        self._device_timestamps: bool | None = None
        self._identity = ""
        # (frame id, host time) of the stream's first and latest frame: the frame period
        # a hardware-triggered camera actually runs at.
        self._first_seen: tuple[int, float] | None = None
        self._last_seen: tuple[int, float] | None = None

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
            "discarded_frames": self._ring.discarded if self._ring is not None else 0,
            "producer_queue": self._stream_info("num_awaiting_delivery") if self.acquiring else 0,
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
        return self._ring.dropped_total if self._ring is not None else self._dropped

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
        self._first_seen = self._last_seen = None
        self._flush.clear()
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
        counter = FrameCounter()
        # Waiting inside harvesters' fetch holds the GIL (its 1 ms event polls do not let
        # go), so every other thread of the process would wait a switch interval (5 ms)
        # for each wake-up while the camera streams. Where the producer counts its queue,
        # idle waits happen here instead, GIL released.
        # Every fetch_timeout_s of such waiting one fetch checks that the count is live.
        counted = self._stream_info("num_awaiting_delivery") is not None
        idle_since: float | None = None
        error: BaseException | None = None
        try:
            while not self._stop.is_set():
                if self._flush.is_set():  # no buffer held here
                    self._flush.clear()
                    self._flush_output_queue(ring)
                checking = False
                if counted and not self._stream_info("num_awaiting_delivery"):
                    now = time.monotonic()
                    idle_since = idle_since if idle_since is not None else now
                    if now - idle_since < self.settings.fetch_timeout_s:
                        self._stop.wait(IDLE_POLL_S)
                        continue
                    checking = True
                idle_since = None
                timeout = IDLE_POLL_S if checking else self.settings.fetch_timeout_s
                buffer = ia.try_fetch(timeout=timeout)
                if buffer is None:
                    continue
                if checking:
                    counted = False
                    log.warning("%s: producer's queue count stays 0 with frames in it", self.name)
                fetch_no = ring.note_fetch()
                arrived = time.monotonic()
                with buffer:
                    frame_id, gap = counter.advance(int(buffer.module.frame_id))
                    stamp = self._timestamp(buffer, arrived)
                    pump = None
                    if self._tagged:
                        pump = bool((int(self.nm.ChunkLineStatusAll.value) >> tag_bit) & 1)
                    image = buffer.payload.components[0].data.reshape(shape)
                    ring.push(image, frame_id, stamp, pump, dropped_before=gap, fetch_no=fetch_no)
                self._last_seen = (frame_id, arrived)
                if self._first_seen is None:
                    self._first_seen = self._last_seen
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

    def _timestamp(self, buffer: Any, arrived: float) -> float:
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
        return arrived

    # -- staying armed between points ------------------------------------------------------
    def discard_pending(self) -> None:
        """Drop the frames taken before this call without stopping the stream: the next
        :meth:`read` starts with a frame whose exposure began after it.

        Stale are the frames in the ring, the one the acquisition thread holds, those in the
        producer's output queue (GenTL's counts of buffers delivered and awaiting delivery;
        every buffer when the producer cannot tell) and the guard frames after them
        (:meth:`guard_frames`).
        The ring leaves them out as they arrive, by frame id, without copying them; none is
        a drop. Each frame keeps its own pump-state tag, so on/off tagging is unaffected.
        The acquisition thread also empties the producer's output queue right away (see
        :meth:`_flush_output_queue`), so a thread that had fallen behind does not fetch
        the stale frames one by one. A stopped camera has nothing to drop; a stream that
        ended in a fault raises it.
        """
        ring = self._ring
        if ring is None or not self.acquiring:
            if ring is not None and ring.error is not None:
                raise self.fault(f"acquisition stopped ({ring.error})", DeviceStateError)
            return
        queued = self._stream_info("num_awaiting_delivery")  # before `delivered`
        delivered = self._stream_info("num_delivered")
        if queued is None:
            queued = int(self.settings.num_buffers)  # cannot tell: every buffer may be full
        if delivered is None:
            delivered = ring.fetches + 1  # one may be between its fetch and the ring
        ring.discard(queued, self.guard_frames(), delivered)
        self._dropped = ring.dropped_total
        if self._flushable:
            self._flush.set()

    def _flush_output_queue(self, ring: FrameRing) -> None:
        """In the acquisition thread, holding no buffer: the frames waiting in the
        producer's output queue go back to its input pool unread (GenTL DSFlushQueue:
        output queue discarded, then the unqueued buffers requeued, which would also take
        a buffer the thread held). Everything fetched later was delivered after the
        discard. A producer that refuses is not asked again; the stale frames are then
        fetched and skipped."""
        try:
            from genicam.gentl import ACQ_QUEUE_TYPE_LIST

            module = self._ia.data_streams[0].module
            module.flush_buffer_queue(ACQ_QUEUE_TYPE_LIST.ACQ_QUEUE_OUTPUT_DISCARD)
        except Exception as exc:
            self._flushable = False
            log.info("%s: producer cannot flush its queue while streaming (%s)", self.name, exc)
            return
        try:
            module.flush_buffer_queue(ACQ_QUEUE_TYPE_LIST.ACQ_QUEUE_UNQUEUED_TO_INPUT)
        except Exception as exc:
            # The discarded buffers are out of the pool: the stream starves and the next
            # read reports it as a stall.
            self._flushable = False
            log.error("%s: flushed buffers not requeued (%s)", self.name, exc)
        ring.queue_flushed()

    def _stream_info(self, name: str) -> int | None:
        """A GenTL data-stream counter (buffers awaiting delivery / delivered), None when
        the producer does not report it."""
        try:
            return max(0, int(getattr(self._ia.data_streams[0].module, name)))
        except Exception:
            return None

    def frame_period_s(self) -> float:
        """The configured frame period, or under a hardware trigger the one measured on the
        stream (the trigger's rate is not a camera setting)."""
        c = self.config()
        if c.trigger == "hardware" or c.frame_rate_hz <= 0:
            first, last = self._first_seen, self._last_seen
            if first is not None and last is not None and last[0] > first[0]:
                return (last[1] - first[1]) / (last[0] - first[0])
            if c.frame_rate_hz <= 0:
                raise self.fault(
                    "frame period unknown: no frame rate and no frames yet", DeviceStateError
                )
        return 1.0 / c.frame_rate_hz

    def guard_frames(self) -> int:
        """Frames after the last one delivered at a discard that may have begun exposing
        before it: exposure (one period when the camera does not say) plus the delivery
        latency, in frame periods, rounded up."""
        try:
            period = self.frame_period_s()
        except DeviceStateError:
            return 2  # no frame yet and no rate: a frame being exposed and one in transfer
        if period <= 0:
            return 2
        exposure = self.config().exposure_us * 1e-6
        if not 0 < exposure <= period:
            exposure = period
        latency = self.settings.delivery_latency_s
        latency = period if latency is None else latency
        return max(1, math.ceil((exposure + latency) / period - 1e-9))

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
