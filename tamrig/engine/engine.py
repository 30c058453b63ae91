"""The scan engine: runs a checked plan point by point on a rig, with pause, abort and retries.

Each point has three phases, each a method: *setup* (probe wavelength and attenuator when
they change, the delay, the pump power where it is read between points), *exec* (the
differential acquisition, the pump power read meanwhile where the meter allows) -- both in
:mod:`tamrig.engine.phases` -- and *teardown* (:meth:`ScanEngine._teardown`: live fit,
fluence check, the record written and flushed, PointDone / SweepDone). Teardown runs on the
writer thread (:mod:`tamrig.engine.writer_thread`) while the stage already moves to the next
point; the camera integrates for that point only once the previous one is flushed.

Between points is the only safe checkpoint: pause and abort requests from any thread are
honoured there (an abort also interrupts an acquisition in progress), after the point being
stored is flushed. The pump shutter is closed after every point, while paused, and on every
abort or fault path.

Faults: a DeviceFault is retried ``max_retries`` times with exponential backoff (the failing
device is reconnected first when its link dropped). When retries run out the rig goes to its
safe state and the fault is written to the file; then ``fault_policy="pause"`` (GUI) waits
for the operator to resume or abort, and ``"stop"`` (CLI) finishes the file with status
``fault`` and raises the DeviceFault. A point is never skipped silently.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from tamrig.acquisition.sequencing import AcquisitionStopped
from tamrig.analysis.drift import ReferenceTracker
from tamrig.calibration.model import FluenceCalibration
from tamrig.calibration.reading import reading_to_fluence
from tamrig.devices import FrameBlock
from tamrig.engine.events import (
    Aborted,
    BlockAcquired,
    Fault,
    Finished,
    Notice,
    Paused,
    PointDone,
    Resumed,
    ScanEvent,
    ScanStarted,
    SweepDone,
)
from tamrig.engine.phases import Measured, PointPhases
from tamrig.engine.protocols import Monitor, PointWriter
from tamrig.engine.writer_thread import WriterThread
from tamrig.errors import DeviceDisconnected, DeviceFault, StorageError
from tamrig.plan import FluenceCalibrationLike, FluenceStep, ResolvedPlan, ScanPlan, ScanPoint
from tamrig.plan.preflight import validate_for
from tamrig.records import PointRecord
from tamrig.rig import Rig

log = logging.getLogger(__name__)
T = TypeVar("T")
FaultPolicy = Literal["pause", "stop"]
State = Literal["idle", "running", "paused", "finished", "aborted", "fault"]
Subscriber = Callable[[ScanEvent], None]

#: Points whose mean duration gives the ETA.
ETA_POINTS = 20
#: Positions recorded with every point that get a dataset of their own in the data file.
POSITION_NAMES = ("stage_mm", "attenuator_setting", "probe_wavelength_nm")


class _ReadingConversion(Protocol):
    """What the per-point fluence check asks of a calibration."""

    def fluence_for_power(self, power_w: float) -> float: ...
    def n_abs_for_fluence(self, fluence_uj_cm2: float) -> float: ...


class _Abort(Exception):
    """Internal: unwind to run() because an abort was requested."""


class _FatalFault(Exception):
    """Internal: retries exhausted under the 'stop' policy."""

    def __init__(self, fault: DeviceFault) -> None:
        super().__init__(str(fault))
        self.fault = fault


@dataclass
class _Progress:
    """Points stored so far (updated by the writer thread, read after it drained)."""

    total: int
    done: int
    ends_sweep: dict[int, bool]
    #: the last points' durations, for the ETA
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=ETA_POINTS))
    sweep_series: set[str] = field(default_factory=set)


def series_name(wavelength_nm: float | None, fluence: FluenceStep) -> str:
    """The live-monitor curve of a (wavelength, fluence) pair, e.g. ``905nm/N=0.045``."""
    wl = "probe" if wavelength_nm is None else f"{wavelength_nm:g}nm"
    return f"{wl}/{fluence.label}"


class ScanEngine:
    """Run one plan on one connected rig, writing every point to ``writer``.

    Subscribers get every event (:mod:`tamrig.engine.events`), including a
    :class:`BlockAcquired` per camera block: they must return at once.

    ``run()`` blocks (call it from a worker thread in a GUI); ``pause()``, ``resume()`` and
    ``abort()`` may be called from any thread. Points already in the writer
    (``completed_indices()``) are skipped, which is how a crashed scan resumes.
    """

    def __init__(
        self,
        rig: Rig,
        plan: ScanPlan,
        writer: PointWriter,
        monitor: Monitor | None = None,
        *,
        calibration: FluenceCalibrationLike | None = None,
        resolved: ResolvedPlan | None = None,
        fault_policy: FaultPolicy = "stop",
        max_retries: int = 3,
        retry_backoff_s: float = 0.5,
        drift_tolerance: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.rig = rig
        self.plan = plan
        self.writer = writer
        self.monitor = monitor
        self.calibration = calibration
        #: power -> fluence -> ⟨N_abs⟩ of every point's reading, fixed part worked out once
        self._to_fluence: _ReadingConversion | None = calibration
        self.fault_policy: FaultPolicy = fault_policy
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        self.drift_tolerance = drift_tolerance
        self._clock = clock
        self._resolved = resolved
        self._cond = threading.Condition()
        #: replaced, never changed in place, so an event is delivered without the lock
        self._subscribers: tuple[Subscriber, ...] = ()
        self._state: State = "idle"
        self._pause_requested = False
        self._abort_requested = False
        self._abort_reason = ""
        self._abort_kind = "abort"
        self._ending = False  # set once the end-of-scan clean-up has begun
        self._reconnect: set[str] = set()
        self._series_names: dict[tuple[int, int, bool], str] = {}
        #: Trends of the per-sweep reference spot (photodamage, drift); seeded on resume.
        self.reference = ReferenceTracker(plan.drift.limits())

    # -- control (any thread) -------------------------------------------------------------
    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Deliver every event to ``fn`` (on the engine's or the writer thread, see
        :mod:`tamrig.engine.events`); returns an unsubscriber.

        A subscriber that raises stops the scan like any other error (safe state, data kept).
        """
        with self._cond:
            self._subscribers = (*self._subscribers, fn)

        def unsubscribe() -> None:
            with self._cond:
                subscribers = list(self._subscribers)
                if fn in subscribers:
                    subscribers.remove(fn)
                    self._subscribers = tuple(subscribers)

        return unsubscribe

    def pause(self) -> None:
        """Pause at the next safe point (after the current point is stored)."""
        with self._cond:
            self._pause_requested = True
            self._cond.notify_all()

    def resume(self) -> None:
        """Continue a paused scan (after a fault: retry the failed point)."""
        with self._cond:
            self._pause_requested = False
            self._cond.notify_all()

    def abort(self, reason: str = "aborted by the operator", *, kind: str = "abort") -> None:
        """Stop as soon as possible: acquisition interrupted, safe state, data kept.

        ``kind`` names the event logged in the file ("interrupted" for a signal). Safe to
        call from a signal handler in the engine's own thread (the lock is reentrant).
        """
        with self._cond:
            if not self._abort_requested:
                self._abort_reason = reason
                self._abort_kind = kind
            self._abort_requested = True
            self._cond.notify_all()

    @property
    def ending(self) -> bool:
        """True once the scan's end-of-scan clean-up (safe state, final status) has begun:
        from then on an interruption could only cut that record short."""
        return self._ending

    @property
    def state(self) -> State:
        with self._cond:
            return self._state

    # -- run --------------------------------------------------------------------------------
    def run(self) -> str:
        """Run the scan to the end; returns the final status (finished / aborted / fault).

        Raises the DeviceFault under ``fault_policy="stop"`` once retries are exhausted, and
        re-raises KeyboardInterrupt and unexpected errors — in every case after the rig is
        in its safe state and the file is finished with the completed points.
        """
        with self._cond:
            if self._state != "idle":
                raise RuntimeError("a ScanEngine runs once; create a new one")
            self._state = "running"
        start = self._clock()
        try:
            resolved = self._resolved or validate_for(
                self.plan, self.rig, calibration=self.calibration
            )
        except BaseException as exc:
            self._end_in_safe_state("aborted", "error", str(exc), start)
            raise
        self._resolved = resolved
        cal = self.calibration
        if isinstance(cal, FluenceCalibration):
            self._to_fluence = reading_to_fluence(cal)
        points = resolved.points
        completed = self.writer.completed_indices() & {p.index for p in points}
        todo = [p for p in points if p.index not in completed]
        self._progress = _Progress(
            total=len(points), done=len(completed), ends_sweep=self._sweep_ends(points)
        )
        self._phases = PointPhases(
            self.rig,
            resolved,
            should_stop=lambda: self._abort_requested,
            on_block=self._block_acquired,
        )
        self._lane = WriterThread()
        try:
            self._emit(
                ScanStarted(
                    self.plan.name,
                    self._progress.total,
                    self._progress.done,
                    self.plan.sweeps.count,
                    bool(completed),
                )
            )
            self._with_retries(self._begin, None)
            for point, after in zip(todo, [*todo[1:], None]):
                t0 = self._clock()
                # the stage leaves for ``after`` once the frames are in (exec), and travels
                # while the point is stored
                measured = self._with_retries(partial(self._measure, point, after), point.index)
                self._lane.submit(partial(self._teardown, point, measured, t0, after))
            self._lane.wait()
            self._phases.finish()
            self.rig.close_pump()
        except _Abort:
            self._end_in_safe_state("aborted", self._abort_kind, self._abort_reason, start)
            return "aborted"
        except _FatalFault as fatal:
            self._end_in_safe_state("fault", "fault", str(fatal.fault), start)
            raise fatal.fault from None
        except BaseException as exc:
            kind = (
                "interrupted"
                if isinstance(exc, KeyboardInterrupt)
                else "fault"
                if isinstance(exc, DeviceFault)
                else "error"
            )
            status = "fault" if isinstance(exc, DeviceFault) else "aborted"
            message = str(exc) or type(exc).__name__
            self._end_in_safe_state(status, kind, message, start)
            raise
        finally:
            self._lane.close()
            self._phases.finish()
        self.writer.finish("finished")
        self._set_state("finished")
        done, total = self._progress.done, self._progress.total
        self._emit(Finished("finished", done, total, self._clock() - start))
        return "finished"

    # -- points ------------------------------------------------------------------------------
    def _begin(self) -> None:
        """Before the first point: pump closed, dark frames (probe closed), probe open."""
        self.rig.close_pump()
        if self._phases.measure_dark():
            acq, dark = self.plan.acquisition, self._phases.dark
            assert dark is not None
            self.writer.log_event(
                "dark",
                f"dark measured from {acq.dark_frames} frames: median "
                f"{float(np.median(dark)):.2f} counts",
            )
        self._ensure_ready()
        self._phases.fit_meter()

    def _ensure_ready(self) -> None:
        """Reconnect devices whose link dropped and make sure the probe is on (asked of the
        shutter after the start, a pause or a fault; between those nothing closes it)."""
        if self._reconnect:
            for role in sorted(self._reconnect):
                device = self.rig.devices[role]
                device.disconnect()
                device.connect()
                self.writer.log_event("reconnect", f"{role} reconnected")
                self._reconnect.discard(role)
        self._phases.ensure_probe_open()

    def _measure(self, point: ScanPoint, following: ScanPoint | None = None) -> Measured:
        """Setup and exec of one point; any DeviceFault propagates to the retry loop.

        The safe checkpoint comes after setup too: the point before may have been stored
        (and a pause or abort asked for in its PointDone) while the stage moved.
        """
        phases, lane = self._phases, self._lane
        while True:
            if self._abort_requested or self._pause_requested:
                self._checkpoint(point.index)
            if self._reconnect or not phases.probe_checked:
                self._ensure_ready()
            prepared = phases.setup(point)
            lane.wait()  # the previous point is flushed: a storage error stops here
            if not (self._pause_requested or self._abort_requested):
                break
        return phases.exec(point, prepared, following)

    def _teardown(
        self, point: ScanPoint, m: Measured, t0: float, following: ScanPoint | None = None
    ) -> None:
        """On the writer thread: live fit, fluence check, the record stored and flushed,
        then PointDone (and SweepDone at the end of a sweep)."""
        record = self._record(point, m, following)
        for block in m.blocks:
            self.writer.write_frames(point.index, block)
        self.writer.write_point(record)
        if record.reference:
            self._check_reference(record)
        progress = self._progress
        progress.done += 1
        progress.durations.append(self._clock() - t0)
        progress.sweep_series.add(record.series)
        remaining = progress.total - progress.done
        done = PointDone(
            record=record,
            progress=progress.done / progress.total,
            eta_s=self._eta(progress.durations, remaining),
            done=progress.done,
            total=progress.total,
            sweep=point.sweep,
            n_sweeps=self.plan.sweeps.count,
            series=record.series,
        )
        for fn in self._subscribers:  # (_emit's loop: one call less per point)
            fn(done)
        if progress.ends_sweep[point.index]:
            n_sweeps = self.plan.sweeps.count
            self.writer.log_event("sweep", f"sweep {point.sweep + 1} of {n_sweeps} done")
            self._emit(SweepDone(point.sweep, n_sweeps, tuple(sorted(progress.sweep_series))))
            progress.sweep_series = set()

    def _series(self, point: ScanPoint) -> str:
        """The point's live-monitor curve (named once per wavelength, fluence and kind)."""
        key = (point.wavelength_index, point.fluence_index, point.reference)
        series = self._series_names.get(key)
        if series is None:
            resolved = self._resolved
            assert resolved is not None
            fluence = resolved.fluences[point.fluence_index]
            series = series_name(resolved.wavelengths_nm[point.wavelength_index], fluence)
            series = self._series_names[key] = series + " ref" if point.reference else series
        return series

    def _record(
        self, point: ScanPoint, m: Measured, following: ScanPoint | None = None
    ) -> PointRecord:
        """The live fit and the fluence bookkeeping, in the point's record. The last point
        of a run of its series (the next point belongs to another, or there is none) has
        the monitor refit time zero and σ₀ to the whole series first."""
        resolved = self._resolved
        assert resolved is not None
        fluence = resolved.fluences[point.fluence_index]
        series = self._series(point)
        image = m.sums.result()
        fit = transport = None
        if self.monitor is not None:
            settle = following is None or self._series(following) != series
            fit, transport = self.monitor.update(
                delay_fs=m.delay_fs_measured, series=series, image=image, settle=settle
            )
        power = m.power
        power_w = None if power is None else power.power_w
        measured, n_abs_measured = self._fluence_check(point, fluence, power_w)
        return PointRecord(
            index=point.index,
            grid=point.grid,
            delay_fs=point.delay_fs,
            delay_fs_measured=m.delay_fs_measured,
            fluence_label=fluence.label,
            fluence_uj_cm2=fluence.fluence_uj_cm2,
            n_abs=fluence.n_abs,
            attenuator_setting=m.setting,
            probe_wavelength_nm=m.wavelength_nm,
            image=image,
            fit=fit,
            transport=transport,
            power_w=power_w,
            power_time=math.nan if power is None else power.time_s,
            positions=m.positions,
            timestamp=time.time(),
            series=series,
            reference=point.reference,
            fluence_measured_uj_cm2=measured,
            n_abs_measured=n_abs_measured,
        )

    def _check_reference(self, record: PointRecord) -> None:
        """Trends of the reference spot once two sweeps have it; warnings when a limit of
        the plan's ``[drift]`` is crossed (each once per curve)."""
        drift, new = self.reference.add(record.series, record.grid[0], record.timestamp, record.fit)
        if drift is None:
            return
        self._emit(Notice("reference", drift.describe(), record.index))
        for kind, message in new.items():
            self.writer.log_event(kind, message, record.index)
            self._emit(Notice(kind, message, record.index))

    def _fluence_check(
        self, point: ScanPoint, fluence: FluenceStep, power_w: float | None
    ) -> tuple[float, float]:
        """Fluence and ⟨N_abs⟩ from the measured power (NaN: not measured); a Notice when
        the fluence drifts off the target."""
        cal = self._to_fluence
        if cal is None or power_w is None or not math.isfinite(fluence.fluence_uj_cm2):
            return math.nan, math.nan
        measured = cal.fluence_for_power(power_w)
        n_abs = cal.n_abs_for_fluence(measured) if math.isfinite(fluence.n_abs) else math.nan
        deviation = measured / fluence.fluence_uj_cm2 - 1.0
        if abs(deviation) > self.drift_tolerance:
            message = (
                f"pump fluence {measured:.4g} uJ/cm2 is {deviation:+.1%} off the target "
                f"{fluence.fluence_uj_cm2:.4g} uJ/cm2 (tolerance ±{self.drift_tolerance:.0%})"
            )
            self.writer.log_event("fluence_drift", message, point.index)
            self._emit(Notice("fluence_drift", message, point.index))
        return measured, n_abs

    # -- faults ------------------------------------------------------------------------------
    def _with_retries(self, action: Callable[[], T], index: int | None) -> T:
        """Run ``action``; on a DeviceFault retry with backoff, then safe state + policy."""
        attempt = 0
        while True:
            try:
                return action()
            except AcquisitionStopped:
                raise _Abort() from None
            except DeviceFault as exc:
                attempt += 1
                attempts = self.max_retries + 1
                fatal = attempt >= attempts
                self._close_pump_after(exc)
                self._phases.invalidate()
                if isinstance(exc, DeviceDisconnected) and exc.device in self.rig.devices:
                    self._reconnect.add(exc.device)
                where = "before the first point" if index is None else f"at point {index}"
                self.writer.log_event(
                    "fault", f"{exc} ({where}, attempt {attempt} of {attempts})", index
                )
                self._emit(Fault(exc.device, exc.detail, index, attempt, attempts, fatal))
                if not fatal:
                    self._backoff(self.retry_backoff_s * 2 ** (attempt - 1))
                    continue
                self.rig.safe_state()
                if self.fault_policy == "stop":
                    raise _FatalFault(exc) from exc
                with self._cond:
                    self._pause_requested = True
                self._wait_while_paused(f"fault: {exc}", index)
                attempt = 0

    def _close_pump_after(self, exc: DeviceFault) -> None:
        """Close the pump now; if even that fails, the full safe state decides (may raise)."""
        try:
            self.rig.close_pump()
        except DeviceFault:
            log.error("pump shutter did not close after %s; going to the safe state", exc)
            self.rig.safe_state()

    def _backoff(self, seconds: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._abort_requested, timeout=max(seconds, 0.0))
            if self._abort_requested:
                raise _Abort()

    # -- pause / abort -----------------------------------------------------------------------
    def _checkpoint(self, next_index: int) -> None:
        """The safe point between two points: honour abort, then pause."""
        if not (self._abort_requested or self._pause_requested):
            return  # (flags only ever read here; a request set meanwhile is seen next time)
        with self._cond:
            if self._abort_requested:
                raise _Abort()
            if not self._pause_requested:
                return
        self._wait_while_paused("paused by the operator", next_index)

    def _wait_while_paused(self, reason: str, next_index: int | None) -> None:
        self._lane.wait()  # the point being stored is flushed before the scan pauses
        self.rig.close_pump()
        self._phases.invalidate()  # camera stopped; everything is set again on resume
        self.writer.log_event("pause", reason, next_index)
        self._set_state("paused")
        self._emit(Paused(reason, next_index))
        with self._cond:
            self._cond.wait_for(lambda: not self._pause_requested or self._abort_requested)
            if self._abort_requested:
                raise _Abort()
        self._set_state("running")
        self.writer.log_event("resume", "resumed", next_index)
        self._emit(Resumed(next_index))

    def _end_in_safe_state(self, status: str, kind: str, message: str, start: float) -> None:
        """Safe state, the reason in the file, the file finished — even if one step fails.

        The point being stored is flushed first. A storage failure here is logged, not
        raised, so the error that ended the scan (the one the caller must see, e.g. Ctrl-C
        -> exit 130) is the one that propagates.
        """
        self._ending = True
        lane = getattr(self, "_lane", None)
        drained = lane.drain() if lane is not None else None
        if drained is not None:
            log.error("storing the last point failed: %s", drained)
        progress = getattr(self, "_progress", None)
        done, total = (progress.done, progress.total) if progress is not None else (0, 0)
        pump_fault: DeviceFault | None = None
        try:
            self.rig.safe_state()
        except DeviceFault as exc:  # the pump shutter could not be confirmed closed
            pump_fault, status = exc, "fault"
            raise
        finally:
            try:
                try:  # a second Ctrl-C landing in the log must not skip the final status
                    self.writer.log_event(kind, message)
                    if pump_fault is not None:
                        self.writer.log_event("fault", str(pump_fault))
                finally:
                    self.writer.finish("fault" if status == "fault" else "aborted")
            except StorageError as exc:
                log.error("could not record the end of the scan in the file: %s", exc)
            finally:
                self._set_state("fault" if status == "fault" else "aborted")
                if status != "fault":
                    self._emit(Aborted(message, done, total))
                self._emit(Finished(status, done, total, self._clock() - start))

    # -- helpers -----------------------------------------------------------------------------
    def _emit(self, event: ScanEvent) -> None:
        for fn in self._subscribers:
            fn(event)

    def _block_acquired(self, index: int, block: FrameBlock, tags: npt.NDArray[np.bool_]) -> None:
        event = BlockAcquired(index, block, tags)
        for fn in self._subscribers:  # (_emit's loop: one call less per camera block)
            fn(event)

    def _set_state(self, state: State) -> None:
        with self._cond:
            self._state = state

    def _sweep_ends(self, points: list[ScanPoint]) -> dict[int, bool]:
        """Index -> True for the last point of each sweep (of the axes outside 'sweep')."""
        level = self.plan.nesting.index("sweep") + 1
        attrs = {"sweep": "sweep", "wavelength": "wavelength_index", "fluence": "fluence_index"}
        names = [attrs[a] for a in self.plan.nesting[:level]]

        def key(p: ScanPoint) -> tuple[int, ...]:
            return tuple(getattr(p, n) for n in names)

        ends = {}
        for here, after in zip(points, [*points[1:], None]):
            ends[here.index] = after is None or key(after) != key(here)
        return ends

    @staticmethod
    def _eta(durations: deque[float], remaining: int) -> float | None:
        """Remaining points × the mean duration of the last ``ETA_POINTS``."""
        if not durations:
            return None
        return remaining * sum(durations) / len(durations)
