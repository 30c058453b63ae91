"""Simulated GenICam-like camera imaging the probe through the virtual sample.

Frames are raw counts: probe profile × (1 + ΔT/T on pump-on frames) with Poisson shot noise
(full well ~2×10⁵ e⁻, ~49 e⁻/count), Gaussian read noise, dark offset, 12-bit ADC
saturation, slow probe-power drift and optional beam-centre drift. The pump-state tag comes
from a simulated chopper locked to the frame clock (half the frame rate, random phase at each
start), as a camera line would report it; the pump only reaches the sample through an open
pump shutter, and the probe through an open probe shutter (closed -> dark frames).

On-camera accumulation (``accumulate = K``): the camera sums K exposures of the same chopper
phase into each delivered frame — two on-board accumulators fed exposure by exposure, as a
gated-integration camera does — so pump-on and pump-off frames still interleave at the
exposure rate and probe drift cancels as without accumulation. The statistics are those of
K exposures: the sum of K Poisson exposures is Poisson with K times the mean (drawn in its
Gaussian limit above 10⁴ e⁻), read noise adds in quadrature, the dark offset is K times
larger. Delivered data are then ``uint32`` (the sum can exceed 16 bits) and saturate at K ×
the single-exposure full scale. A delivered frame takes K exposure periods of simulated
time, so K = 500 gives one frame worth 500 exposures in one random draw: how a test reaches
docs/simulator.md's reference noise quickly without faking it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, ValidationInfo, field_validator

from simulators.devices.common import SimulatedDevice
from tamrig.devices import Camera, CameraConfig, CameraNoise, DeviceSettings, FrameBlock, Roi
from tamrig.devices.camera import MAX_SENSOR_PIXELS, PixelFormat, TriggerMode, check_roi
from tamrig.errors import DeviceStateError, DeviceTimeout

ADC_MAX = 4095  # 12-bit sensor ADC
POISSON_LIMIT_E = 1.0e4  # above: shot noise drawn in its Gaussian limit
FORMAT_SHIFT = {"Mono8": 4, "Mono12": 0, "Mono16": 0}  # Mono8 keeps the top 8 of 12 bits
#: Frame pixels drawn at a time: three float64 scratch slabs (~400 kB) stay in a core's L2
#: (1-2 MB). Half as many cost ~5 % more CPU in per-slab overhead, twice as many gain ~1 %.
SLAB_PIXELS = 16384


class _Slabs:
    """The C-order pieces of an (n, h, w) block that a frame synthesis works through —
    whole frames while they fit in ``SLAB_PIXELS``, else row bands of one frame — and the
    three scratch buffers they are worked in (the block's own: no state shared between
    threads or calls)."""

    def __init__(self, n: int, h: int, w: int) -> None:
        self.n, self.h, self.w = n, h, w
        self._scratch = np.empty((3, max(w, min(SLAB_PIXELS, n * h * w))))
        self._views: dict[tuple[int, int, int], tuple[npt.NDArray[np.float64], ...]] = {}

    def __iter__(self) -> Iterator[tuple[int, int, int, int]]:
        """(first frame, end frame, first row, end row) of each piece, in C order."""
        n, h, w = self.n, self.h, self.w
        per_slab = self._scratch.shape[1]
        if h * w <= per_slab:
            step = per_slab // (h * w)
            for f0 in range(0, n, step):
                yield f0, min(f0 + step, n), 0, h
        else:
            step = per_slab // w
            for f0 in range(n):
                for r0 in range(0, h, step):
                    yield f0, f0 + 1, r0, min(r0 + step, h)

    def offset(self, frame: int, row: int) -> int:
        """Position of (frame, row, 0) in the flattened block."""
        return (frame * self.h + row) * self.w

    def views(self, frames: int, rows: int) -> tuple[npt.NDArray[np.float64], ...]:
        """The scratch buffers as (frames, rows, w) pieces."""
        shape = (frames, rows, self.w)
        if shape not in self._views:
            size = frames * rows * self.w
            self._views[shape] = tuple(b[:size].reshape(shape) for b in self._scratch)
        return self._views[shape]

    def flat(self, buffer: int, size: int) -> npt.NDArray[np.float64]:
        return self._scratch[buffer, :size]


@dataclass(frozen=True, slots=True)
class _Adc:
    """Detected electrons → raw counts: gain, dark offset, rounding, the 0..K × 12-bit range
    and the pixel format's dropped bits."""

    per_electron: float  # 1 / electrons per count
    offset: float  # K × dark counts
    top: int  # K × the ADC's full scale
    shift: int

    def __call__(self, electrons: npt.NDArray[np.float64], out: np.ndarray) -> None:
        """Counts of ``electrons`` into ``out`` (``electrons`` is used as scratch)."""
        electrons *= self.per_electron
        electrons += self.offset
        np.rint(electrons, out=electrons)
        np.clip(electrons, 0, self.top, out=electrons)
        out[...] = electrons  # whole numbers within the range: the cast is exact
        if self.shift:
            out >>= self.shift


def _mean_bounds(
    scale: npt.NDArray[np.float64],
    profile: npt.NDArray[np.float64],
    gain: npt.NDArray[np.float64] | None,
    drifting: bool,
) -> tuple[float, float]:
    """Bounds on a block's mean electrons before the full-well cap, (scale × profile) × gain,
    from the extremes of its factors: rounding is monotonic, so for factors ≥ 0 the products
    of the extremes bound every product. They let the synthesis skip the cap and the search
    for dim pixels where no pixel can need them. (-inf, inf) where unknown: a factor < 0,
    or the pump centre drifting (its ΔT/T is drawn slab by slab)."""
    if drifting:
        return -math.inf, math.inf
    g_lo = g_hi = 1.0  # pump-off frames: no gain
    if gain is not None:
        g_lo, g_hi = min(1.0, float(gain.min())), max(1.0, float(gain.max()))
    s_lo, s_hi = float(scale.min()), float(scale.max())
    p_lo, p_hi = float(profile.min()), float(profile.max())
    if not all(x >= 0 for x in (s_lo, p_lo, g_lo)):
        return -math.inf, math.inf
    return s_lo * p_lo * g_lo, s_hi * p_hi * g_hi


class _Tags(dict[int, npt.NDArray[np.bool_]]):
    """Pump-state tags of consecutive frames by block size, the first frame's tag pump-on
    (``first`` 0) or pump-off (1): alternating, made once per size and read-only."""

    def __init__(self, first: int) -> None:
        super().__init__()
        self.first = first

    def __missing__(self, count: int) -> npt.NDArray[np.bool_]:
        tags = (np.arange(count, dtype=np.int64) & 1) == self.first
        tags.flags.writeable = False
        self[count] = tags
        return tags


class SimulatedCameraSettings(DeviceSettings):
    sensor_height: int = Field(512, ge=16, le=MAX_SENSOR_PIXELS)
    sensor_width: int = Field(512, ge=16, le=MAX_SENSOR_PIXELS)
    roi: tuple[int, int, int, int] | None = Field(
        (224, 224, 64, 64), description="x, y, width, height; None = full sensor"
    )
    frame_rate_hz: float = Field(200.0, ge=1e-3, le=1e6)
    exposure_us: float = Field(4000.0, ge=1e-3, le=1e8)
    pixel_format: PixelFormat = "Mono12"
    probe_peak_counts: float = Field(
        2500.0, gt=0, description="probe peak above dark, pump off, at `exposure_us`"
    )
    probe_sigma_um: float = Field(8.0, gt=0, description="wide-field probe spot σ")
    electrons_per_count: float = Field(49.0, gt=0)
    full_well_e: float = Field(2.0e5, gt=0)
    read_noise_e: float = Field(200.0, ge=0)
    dark_counts: float = Field(100.0, ge=0)
    drift_amplitude: float = Field(0.01, ge=0, description="relative probe-power drift")
    drift_period_s: float = Field(60.0, gt=0)
    centre_drift_nm_per_s: float = Field(0.0, ge=0, description="pump-centre drift speed")
    centre_drift_angle_deg: float = Field(30.0, description="drift direction from +x")
    chopper: bool = Field(True, description="pump chopped at half the frame rate")
    accumulate: int = Field(1, ge=1, le=100_000, description="exposures summed per frame")
    arm_s: float = Field(0.03, ge=0, description="acquisition start (stream set-up) latency")
    buffer_frames: int = Field(
        64, ge=1, description="frames the driver's ring holds for a reader that falls behind"
    )
    disarm_s: float = Field(0.01, ge=0, description="acquisition stop latency")

    @field_validator("roi")
    @classmethod
    def _roi_on_sensor(
        cls, roi: tuple[int, int, int, int] | None, info: ValidationInfo
    ) -> tuple[int, int, int, int] | None:
        height, width = info.data.get("sensor_height"), info.data.get("sensor_width")
        if isinstance(height, int) and isinstance(width, int):
            return check_roi(roi, (height, width))
        return check_roi(roi)  # the sensor size itself was invalid (reported separately)


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
        override = world.settings.camera_accumulate
        self._accumulate = override if override is not None else s.accumulate
        self._acquiring = False
        self._stream_stalled = False
        self._chopper_phase = 0
        self._next_id = 0
        self._t_last: float | None = None  # end time of the last delivered frame
        self._dropped = 0
        self._grid_cache: tuple[Roi, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._steps: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = {}
        #: pump-state tags of blocks whose first frame is pump-on ([0]) or pump-off ([1]),
        #: by block size; read-only, shared by the blocks (a tag never changes)
        self._tags: tuple[_Tags, _Tags] = (_Tags(0), _Tags(1))

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
        self.maybe_fault("configure")
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
    @property
    def accumulate(self) -> int:
        """Exposures summed into each delivered frame."""
        return self._accumulate

    def set_accumulate(self, count: int) -> None:
        """Change on-camera accumulation (only while stopped, like any camera setting)."""
        if self._acquiring:
            raise self.fault("accumulation is locked while acquiring", DeviceStateError)
        if not 1 <= count <= 100_000:
            raise self.fault(f"accumulate {count} outside 1-100000")
        self._accumulate = int(count)

    def start(self) -> None:
        self.maybe_fault("start")
        self.world.clock.sleep(self.settings.arm_s)
        self._t_last = None
        self._acquiring = True
        self._stream_stalled = False
        # The chopper free-runs: its phase relative to the frame counter is unknown.
        self._chopper_phase = int(self.rng.integers(2))

    def stop(self) -> None:
        if self._acquiring:
            self.world.clock.sleep(self.settings.disarm_s)
        self._acquiring = False

    def discard_pending(self) -> None:
        """Nothing buffered to drop: the next frame starts now."""
        self.check_link()
        self._t_last = None

    def _frame_clock(self, period: float) -> float:
        """End time of the next frame. While the stream runs, frames keep coming and wait in
        the driver's ring (``buffer_frames``), so a reader busy between two blocks loses no
        integration time; after a start, a discard or a longer pause the next frame starts
        now (older frames were overwritten)."""
        now = self.world.clock.now()
        last = self._t_last
        if last is not None and now - last < self.settings.buffer_frames * period:
            return last + period
        return now + period

    @property
    def acquiring(self) -> bool:
        return self._acquiring

    @property
    def dropped_frames(self) -> int:
        return self._dropped

    def _grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel positions y, x (nm, from the sensor centre) and the probe profile (counts)."""
        roi = self._config.roi
        if self._grid_cache is None or self._grid_cache[0] != roi:
            h, w = self.sensor_shape
            a = self.world.rig.pixel_size_nm
            ys = (np.arange(roi.y, roi.y + roi.height) - (h - 1) / 2) * a
            xs = (np.arange(roi.x, roi.x + roi.width) - (w - 1) / 2) * a
            r2 = ys[:, None] ** 2 + xs[None, :] ** 2
            probe_sigma_nm = self.settings.probe_sigma_um * 1e3
            profile = np.exp(-r2 / (2 * probe_sigma_nm**2))
            self._grid_cache = (roi, ys, xs, profile)
        return self._grid_cache[1], self._grid_cache[2], self._grid_cache[3]

    def noise(self) -> CameraNoise:
        """The simulated sensor's noise model at the current exposure and accumulation."""
        s = self.settings
        return CameraNoise(
            probe_counts=s.probe_peak_counts * self._config.exposure_us / s.exposure_us,
            electrons_per_count=s.electrons_per_count,
            read_noise_e=s.read_noise_e,
            full_well_e=s.full_well_e,
            accumulate=self._accumulate,
        )

    def frame_period_s(self) -> float:
        """Time between delivered frames (K exposures each)."""
        return self._accumulate / self._config.frame_rate_hz

    def _block_steps(
        self, count: int, period: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """0, 1, ..., count - 1 as frame-id steps and times them period apart (read-only,
        made once per block size and period: a read adds only the first id and the first
        frame's end to them, the same numbers as building them each time)."""
        key = (count, period)
        steps = self._steps.get(key)
        if steps is None:
            ids = np.arange(count, dtype=np.int64)
            offsets = np.arange(count, dtype=np.float64) * period
            ids.flags.writeable = offsets.flags.writeable = False
            steps = self._steps[key] = (ids, offsets)
        return steps

    def read(self, n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
        if not self._acquiring:
            raise self.fault("read while not acquiring", DeviceStateError)
        if n_frames < 1:
            raise self.fault(f"asked for {n_frames} frames (expected >= 1)")
        spec = self.maybe_fault("read")
        if spec is not None and spec.kind == "stream_stall":
            self._stream_stalled = True
        if self._stream_stalled:
            self.world.clock.sleep(timeout_s)
            raise self.fault(
                f"no frame within {timeout_s} s: stream stalled (stop and restart)", DeviceTimeout
            )
        period = self._accumulate / self._config.frame_rate_hz  # (frame_period_s)
        lost = spec.frames if spec is not None and spec.kind == "drop_frames" else 0
        first, count = self._next_id, n_frames + lost
        steps, offsets = self._block_steps(count, period)
        ids = steps + first
        times = self._frame_clock(period) + offsets
        if lost:
            keep = np.sort(self.rng.choice(ids.size, size=n_frames, replace=False))
            ids, times = ids[keep], times[keep]
        late = spec.delay_s if spec is not None and spec.kind == "late_frames" else 0.0
        if late:
            where = int(self.rng.integers(n_frames))
            times[where:] += late
            if late > timeout_s:
                self.world.clock.sleep(timeout_s)
                self._next_id = int(ids[where])
                self._dropped += where  # frames before the late one never reach the caller
                raise self.fault(
                    f"frame {int(ids[where])} late by {late} s (read timeout {timeout_s} s)",
                    DeviceTimeout,
                )
        self._next_id = first + count
        self._dropped += lost
        # pump on where (id + phase) is even, i.e. where the id's parity is the phase
        pump_on: npt.NDArray[np.bool_] | None = None
        if self.settings.chopper:
            if lost:
                pump_on = (ids & 1) == self._chopper_phase
            else:  # ids run first, first + 1, ...: the tags alternate from the first one's
                pump_on = self._tags[(first ^ self._chopper_phase) & 1][count]
        # Frames are made while they are "exposed": in real time the block arrives when
        # its last frame ends, not that plus the time the simulation took to draw it.
        data = self._expose(ids, times, pump_on)
        end = float(times[-1])
        self.world.clock.advance_to(end)
        self._t_last = end
        return FrameBlock(data=data, frame_id=ids, timestamp_s=times, pump_on=pump_on, dropped=lost)

    def _expose(
        self,
        ids: npt.NDArray[np.int64],
        times: npt.NDArray[np.float64],
        pump_on: npt.NDArray[np.bool_] | None,
    ) -> np.ndarray:
        """Raw counts of the frames ``ids`` exposed at ``times``.

        The block is drawn slab by slab (``SLAB_PIXELS`` frame pixels at a time, in C order)
        through three small scratch buffers and written straight into the raw counts, so
        the threads that use the frames find their caches much as a camera's DMA would
        leave them, not flushed by whole-block float64 temporaries (10 MB at a time for
        100 frames of 64²). The random stream is the whole-block one: standard normals in
        C order, then the dim pixels' Poisson draws and their read noise.
        """
        s, c, world = self.settings, self._config, self.world
        k = self._accumulate
        ys, xs, profile = self._grid()
        n = ids.size
        tagged = pump_on if pump_on is not None else np.ones(n, dtype=bool)
        pump = tagged & world.shutter_open("pump_shutter")
        # Mean photo-electrons per exposure: probe × drift × (1 + ΔT/T on pump frames).
        peak_e = s.probe_peak_counts * c.exposure_us / s.exposure_us * s.electrons_per_count
        if not world.shutter_open("probe_shutter"):
            peak_e = 0.0
        t_mean = self._mean_exposure_time(ids, times)
        drift = 1.0 + s.drift_amplitude * np.sin(2 * math.pi * t_mean / s.drift_period_s)
        scale = k * peak_e * drift  # k × mean photo-electrons per frame where the profile is 1
        signal = bool(pump.any()) and peak_e > 0
        inputs = self._dtt_inputs() if signal else None
        gain = None  # 1 + ΔT/T, one image for every pump frame while the centre stands still
        if inputs is not None and s.centre_drift_nm_per_s == 0:
            gain = 1.0 + self._dtt(t_mean[:1], ys, xs, inputs)
        lowest, highest = _mean_bounds(scale, profile, gain, drifting=signal and gain is None)
        full = k * s.full_well_e  # a full pixel is full in every exposure
        cap = not highest <= full
        all_dim = min(highest, full) < POISSON_LIMIT_E  # e.g. dark frames
        some_dim = not min(lowest, full) >= POISSON_LIMIT_E
        read_sd = s.read_noise_e * math.sqrt(k)
        adc = _Adc(
            1.0 / s.electrons_per_count,
            k * s.dark_counts,
            k * ADC_MAX,
            FORMAT_SHIFT[c.pixel_format],
        )
        normal = self.rng.standard_normal
        slabs = _Slabs(n, *profile.shape)
        out = np.empty((n, *profile.shape), dtype=np.uint16 if k == 1 else np.uint32)
        dim_pixels: list[tuple[int, npt.NDArray[np.intp] | None, npt.NDArray[np.float64]]] = []
        for f0, f1, r0, r1 in slabs:
            mean, electrons, scratch = slabs.views(f1 - f0, r1 - r0)
            np.multiply(scale[f0:f1, None, None], profile[r0:r1], out=mean)
            if inputs is not None:
                on = pump[f0:f1]
                if gain is None:
                    if on.any():
                        mean[on] *= 1.0 + self._dtt(t_mean[f0:f1][on], ys[r0:r1], xs, inputs)
                elif on.all():
                    mean *= gain[r0:r1]
                else:  # chopped: every other frame (a masked multiply is 2x slower)
                    for i in np.flatnonzero(on):
                        mean[i] *= gain[r0:r1]
            if cap:
                np.minimum(mean, full, out=mean)
            normal(out=electrons)
            start = slabs.offset(f0, r0)
            if all_dim:  # every pixel gets its Poisson draw after the loop
                dim_pixels.append((start, None, mean.ravel().copy()))
                continue
            self._shot_and_read_noise(electrons, mean, scratch, read_sd)
            if some_dim:
                where = np.flatnonzero(mean < POISSON_LIMIT_E)
                if where.size:
                    dim_pixels.append((start, where, mean.ravel()[where]))
            adc(electrons, out[f0:f1, r0:r1])
        if dim_pixels:
            self._patch_dim_pixels(out, dim_pixels, read_sd, slabs, adc)
        return out

    @staticmethod
    def _shot_and_read_noise(
        electrons: np.ndarray, mean: np.ndarray, scratch: np.ndarray, read_sd: float
    ) -> None:
        """Standard normals ``electrons`` → detected electrons, in place: Poisson(mean) in its
        Gaussian limit plus Gaussian read noise (sd ``read_sd``).

        Above ``POISSON_LIMIT_E`` the Gaussian limit (same mean and variance; relative
        skewness 1/√mean < 1 %) is 3× faster for the bright probe than the Poisson draw;
        dimmer pixels and dark frames get the Poisson draw itself (:meth:`_patch_dim_pixels`).
        """
        np.add(mean, read_sd**2, out=scratch)
        np.sqrt(scratch, out=scratch)
        electrons *= scratch
        electrons += mean

    def _patch_dim_pixels(
        self,
        out: np.ndarray,
        dim_pixels: list[tuple[int, npt.NDArray[np.intp] | None, npt.NDArray[np.float64]]],
        read_sd: float,
        slabs: _Slabs,
        adc: _Adc,
    ) -> None:
        """Poisson(mean) + read noise for the pixels below ``POISSON_LIMIT_E`` (``dim_pixels``:
        slab start, positions in the slab or None for all, means), written over their
        Gaussian-limit counts in ``out``. The stream's order is the block's: every Poisson
        draw after all the standard normals of the bright pass, then the read noise, both
        over the dim pixels in C order."""
        detected = [self.rng.poisson(mean) for _, _, mean in dim_pixels]
        flat = out.reshape(-1)
        for (start, where, mean), photons in zip(dim_pixels, detected, strict=True):
            electrons = slabs.flat(1, mean.size)
            self.rng.standard_normal(out=electrons)
            electrons *= read_sd
            np.add(photons, electrons, out=electrons)
            if where is None:
                adc(electrons, flat[start : start + mean.size])
            else:
                counts = np.empty(mean.size, dtype=out.dtype)
                adc(electrons, counts)
                flat[start + where] = counts

    def _mean_exposure_time(
        self, ids: npt.NDArray[np.int64], times: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Mean time of the exposures summed into each frame (``times`` = delivery).

        With the chopper, a pump-on / pump-off pair of accumulated frames interleaves its
        2K exposures, so both frames' mean times sit at the pair centre ∓ half an exposure
        period; the pair is delivered together at its end, the first frame at mid-pair.
        """
        k, rate = self._accumulate, self._config.frame_rate_hz
        if not self.settings.chopper:
            return times - k / (2 * rate)
        second = (ids + self._chopper_phase) % 2  # 0: first (pump-on) slot of its pair
        return times - second * k / rate + (second - 0.5) / rate

    def _dtt_inputs(self) -> tuple[float, float, float, float]:
        """What the sample's ΔT/T depends on now: delay, ⟨N_abs⟩, probe wavelength and
        bandwidth (asked once per block)."""
        world = self.world
        return (
            world.delay_fs(),
            world.n_abs(),
            world.probe_wavelength_nm(),
            world.probe_bandwidth_nm(),
        )

    def _dtt(
        self,
        times: npt.NDArray[np.float64],
        ys: np.ndarray,
        xs: np.ndarray,
        inputs: tuple[float, float, float, float],
    ) -> npt.NDArray[np.float64]:
        """ΔT/T at the pixels ``ys`` × ``xs`` for pump-on frames exposed at ``times``: one
        (y, x) image for all of them while the pump centre stands still, else one each."""
        s, sample = self.settings, self.world.sample
        delay, n_abs, probe_nm, bandwidth = inputs
        args = (delay, n_abs, probe_nm)
        if s.centre_drift_nm_per_s == 0:
            r2 = ys[:, None] ** 2 + xs[None, :] ** 2
            return sample.dtt_image(*args, r2, bandwidth_nm=bandwidth)
        angle = math.radians(s.centre_drift_angle_deg)
        shift = s.centre_drift_nm_per_s * times
        dx = (xs[None, :] - (shift * math.cos(angle))[:, None])[:, None, :]
        dy = (ys[None, :] - (shift * math.sin(angle))[:, None])[:, :, None]
        return sample.dtt_image(*args, dx**2 + dy**2, bandwidth_nm=bandwidth)

    def _identify(self) -> str:
        self.check_link()
        h, w = self.sensor_shape
        return f"tamrig simulated camera SIM-CAM {w}x{h}, 12-bit"

    def _status(self) -> dict[str, Any]:
        self.check_link()
        c = self._config
        return {
            "acquiring": self._acquiring,
            "roi": [c.roi.x, c.roi.y, c.roi.width, c.roi.height],
            "frame_rate_hz": c.frame_rate_hz,
            "exposure_us": c.exposure_us,
            "pixel_format": c.pixel_format,
            "accumulate": self._accumulate,
            "dropped_frames": self._dropped,
        }
