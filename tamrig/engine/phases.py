"""The rig side of one scan point: *setup* (axes, delay, pump power) and *exec* (acquisition).

:class:`PointPhases` remembers what is set, so a slow axis (probe wavelength, attenuator)
moves only when it changes, and hides what it can behind what must happen anyway:

- the stage starts towards the next point as soon as the camera has the current one's last
  frame (:meth:`PointPhases.premove`), so its travel and settling overlap the pump shutter
  closing, storage, the live fit and the events of the point just measured;
- the camera stays armed from point to point (frames taken while the stage moved are
  discarded, not counted) instead of a stop and start per point;
- a power meter on a pick-off (``power_meter_behind_shutter = false`` in the rig file)
  averages while the camera integrates; one behind the pump shutter is read once per
  fluence change and per sweep (pump open for the reading, camera armed, no frame taken).
  Either way every point records the reading and when it was taken.

Read-backs follow the same rule: the attenuator and the probe wavelength are read back once
after they were set, the probe shutter checked open once, and the stage's position once it
settled (the point's delay and ``stage_mm``); none of them changes while the engine owns the
rig, so a device query per point would only add dead time.

A DeviceFault from any phase goes to the engine's retry loop; :meth:`PointPhases.invalidate`
then makes the next attempt set every axis again from a stopped camera.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import numpy.typing as npt

from tamrig.acquisition.accumulator import DifferentialAccumulator
from tamrig.acquisition.sequencing import PointAcquisition, measure_dark
from tamrig.devices import FrameBlock
from tamrig.errors import DeviceFault
from tamrig.plan import ResolvedPlan, ScanPoint
from tamrig.plan.timing import frames_per_point
from tamrig.rig import Rig

#: Longest a stage move to the next delay may take before it is a fault.
MOVE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class PowerReading:
    """One pump power reading and the wall-clock time (epoch s) at the middle of it."""

    power_w: float
    time_s: float


@dataclass
class Prepared:
    """What setup left for exec: where the stage settled (mm and the delay it gives) and a
    power reading taken in setup."""

    delay_fs_measured: float
    power: PowerReading | None
    stage_mm: float


@dataclass
class Measured:
    """What setup + exec produced for one point: the frames' running sums, from which the
    writer thread computes ΔT/T (then the live fit) while the stage already moves."""

    delay_fs_measured: float
    power: PowerReading | None
    sums: DifferentialAccumulator
    positions: dict[str, float]
    wavelength_nm: float
    setting: float
    blocks: list[FrameBlock] = field(default_factory=list)


class PointPhases:
    """Setup and exec of the points of one resolved plan on one rig."""

    def __init__(
        self,
        rig: Rig,
        resolved: ResolvedPlan,
        *,
        should_stop: Callable[[], bool],
        on_block: Callable[[int, FrameBlock, npt.NDArray[np.bool_]], None],
    ) -> None:
        self.rig = rig
        self.resolved = resolved
        self.acq = resolved.plan.acquisition
        # the devices and the per-axis targets, looked up once per scan
        self._camera = rig.camera
        self._stage = rig.stage
        self._probe = rig.probe_shutter
        self._attenuator = rig.attenuator
        self._selector = rig.wavelength_selector
        self._wavelengths = list(resolved.wavelengths_nm)
        self._settings = [f.setting for f in resolved.fluences]
        #: the stage position of every point's delay, fixed for the scan
        self._stage_mm = {p.index: rig.delay_to_mm(p.delay_fs) for p in resolved.points}
        self._should_stop = should_stop
        self._on_block = on_block
        self.dark: npt.NDArray[np.float64] | None = None
        self.dark_err: npt.NDArray[np.float64] | None = None
        meter = rig.power_meter if self.acq.measure_power else None
        self._meter = meter
        #: the meter reads while the camera integrates (it sits on a pick-off)
        self.power_concurrent = meter is not None and not rig.settings.power_meter_behind_shutter
        self._power_in_setup = meter is not None and not self.power_concurrent
        self._premove_error: DeviceFault | None = None
        self._saved_averaging: int | None = None
        self._acquisition: PointAcquisition | None = None
        self.invalidate()

    def fit_meter(self) -> None:
        """A meter on the pick-off averages for at most the camera's integration per point,
        so waiting for its reading adds no dead time (its count is restored by
        :meth:`finish`)."""
        meter = self._meter
        if meter is None or not self.power_concurrent or self._saved_averaging is not None:
            return
        self._saved_averaging = meter.averaging
        frames = frames_per_point(self.acq)
        meter.fit_averaging(frames * self.rig.camera.frame_period_s())

    def finish(self) -> None:
        """Camera stopped and the meter's averaging as it was (end of the scan, any way)."""
        self.disarm()
        meter, saved = self._meter, self._saved_averaging
        if meter is not None and saved is not None:
            self._saved_averaging = None
            try:
                meter.averaging = saved
            except DeviceFault:
                pass

    # -- state ------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget what is set (after a fault or a pause): every axis is set again, the
        camera re-armed, the power read again."""
        self._wavelength: float | None = None
        self._setting: float | None = None
        self._wavelength_read: float | None = None  # read-backs, None: to be read
        self._setting_read: float | None = None
        self.probe_checked = False  # the probe shutter checked open since the last invalidation
        self._moving_to: float | None = None
        self._power_key: tuple[int, int, int] | None = None
        self._power: PowerReading | None = None
        self.disarm()  # (a premove's fault is kept: the next setup reports and retries it)

    def ensure_probe_open(self) -> None:
        """Open the probe shutter if it is not (asked once after every invalidation)."""
        probe = self._probe
        if probe is not None and not self.probe_checked and not probe.is_open():
            probe.open()
        self.probe_checked = True

    def disarm(self) -> None:
        """Stop the camera stream (pause, fault, end of scan); a stop that fails is left to
        the safe state."""
        camera = self._camera
        try:
            if camera.acquiring:
                camera.stop()
        except DeviceFault:
            pass

    def measure_dark(self) -> bool:
        """Dark frames once per scan (probe closed); True when they were measured now."""
        if not self.acq.dark_frames or self.dark is not None:
            return False
        self.dark, self.dark_err = measure_dark(
            self.rig, self.acq.dark_frames, block_frames=self.acq.block_frames
        )
        return True

    # -- setup -------------------------------------------------------------------------------
    def premove(self, point: ScanPoint | None) -> None:
        """Start the stage towards ``point`` and return at once. A failure is kept and
        raised by that point's setup, so it is retried (and reported) as that point's."""
        if point is None:
            return
        target = self._stage_mm[point.index]
        try:
            self._stage.start_move(target)
        except DeviceFault as exc:
            self._premove_error = exc
            self._moving_to = None
        else:
            self._moving_to = target

    def setup(self, point: ScanPoint) -> Prepared:
        """Probe wavelength and attenuator (when they change), the delay, and the pump
        power where it is not read during exec. Returns once the stage has settled."""
        if self._premove_error is not None:
            error, self._premove_error = self._premove_error, None
            raise error
        rig = self.rig
        wavelength = self._wavelengths[point.wavelength_index]
        selector = self._selector
        if wavelength is not None and selector is not None and self._wavelength != wavelength:
            self._wavelength_read = None
            selector.set_wavelength_nm(wavelength)
            self._wavelength = wavelength
        wanted = self._settings[point.fluence_index]
        attenuator = self._attenuator
        if wanted is not None and attenuator is not None and self._setting != wanted:
            self._setting_read = None
            attenuator.set_setting(wanted)
            self._setting = wanted
        target = self._stage_mm[point.index]
        stage = self._stage
        if self._moving_to != target:
            stage.check_in_limits(target)
            stage.start_move(target)
        self._moving_to = None
        stage.wait_until_stopped(MOVE_TIMEOUT_S)
        stage_mm = stage.position_mm()
        power = self._power_between_points(point) if self._power_in_setup else None
        return Prepared(rig.mm_to_delay(stage_mm), power, stage_mm)

    def _power_between_points(self, point: ScanPoint) -> PowerReading | None:
        """Meter behind the pump shutter: one reading per (sweep, wavelength, fluence),
        pump open for it with the camera armed (the interlock), no frame read."""
        meter = self._meter
        assert meter is not None and not self.power_concurrent
        key = (point.sweep, point.wavelength_index, point.fluence_index)
        if key != self._power_key:
            self._arm()
            t0 = time.time()
            self.rig.open_pump()
            try:
                power = meter.read_power_w()
            finally:
                self.rig.close_pump()
            self._power = PowerReading(power, 0.5 * (t0 + time.time()))
            self._power_key = key
        return self._power

    # -- exec --------------------------------------------------------------------------------
    def _arm(self) -> None:
        camera = self._camera
        if not camera.acquiring:
            camera.start()

    def _point_acquisition(self) -> PointAcquisition:
        """The scan's acquisition, prepared at its first point (after the dark frames)."""
        acquisition = self._acquisition
        if acquisition is None:
            acq = self.acq
            acquisition = self._acquisition = PointAcquisition(
                self.rig,
                n_pairs=acq.pairs_per_point,
                scheme=acq.scheme,
                block_frames=acq.block_frames,
                dark=self.dark,
                dark_err=self.dark_err,
                should_stop=self._should_stop,
                normalise=acq.normalise,
                settle_frames=acq.settle_frames,
                keep_armed=True,
            )
        return acquisition

    def exec(
        self, point: ScanPoint, prepared: Prepared, following: ScanPoint | None = None
    ) -> Measured:
        """The differential acquisition at the point, with the concurrent power reading; the
        stage starts towards ``following`` as soon as the last frame is in (while the pump
        shutter closes)."""
        acquisition = self._acquisition or self._point_acquisition()
        camera = self._camera
        if not camera.acquiring:
            camera.start()  # the acquisition drops what the camera holds from the stage move
        blocks: list[FrameBlock] = []
        on_block: Callable[[FrameBlock, npt.NDArray[np.bool_]], None]
        on_block = announce = partial(self._on_block, point.index)
        if self.acq.record_raw_frames:

            def keep(block: FrameBlock, tags: npt.NDArray[np.bool_]) -> None:
                blocks.append(block)
                announce(block, tags)

            on_block = keep

        meter = self._meter if self.power_concurrent else None
        t0 = time.time()
        if meter is not None:
            meter.start_reading()
        sums = acquisition.run(
            on_block, None if following is None else partial(self.premove, following)
        )
        power = prepared.power
        if meter is not None:
            power = PowerReading(meter.fetch_power_w(), 0.5 * (t0 + time.time()))
        setting, wl_now = self._setting_read, self._wavelength_read
        if setting is None or wl_now is None:
            setting, wl_now = self._read_backs()
        positions = {
            "stage_mm": prepared.stage_mm,
            "delay_fs": prepared.delay_fs_measured,
            "attenuator_setting": setting,
            "probe_wavelength_nm": wl_now,
        }
        return Measured(prepared.delay_fs_measured, power, sums, positions, wl_now, setting, blocks)

    def _read_backs(self) -> tuple[float, float]:
        """The attenuator's setting and the probe wavelength, read once after each change
        (NaN: no such device)."""
        setting = self._setting_read
        if setting is None:
            attenuator = self._attenuator
            setting = attenuator.setting() if attenuator is not None else math.nan
            self._setting_read = setting
        wavelength = self._wavelength_read
        if wavelength is None:
            selector = self._selector
            wavelength = selector.wavelength_nm() if selector is not None else math.nan
            self._wavelength_read = wavelength
        return setting, wavelength
