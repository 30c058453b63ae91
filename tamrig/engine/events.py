"""Events the scan engine delivers to its subscribers (CLI progress bar, GUI, scripts).

Plain frozen dataclasses, delivered synchronously in the order they happen; a GUI re-emits
them as Qt signals to reach its own thread. A subscriber must return at once, and one that
raises stops the scan like any other error. One scan's sequence::

    ScanStarted
    then per point:     BlockAcquired × blocks        (engine thread, during exec)
                        PointDone                      (writer thread, once flushed)
                        SweepDone                      (writer thread, last point of a sweep)
    any time:           Notice (fluence drift, reference trends: writer thread),
                        Fault (engine thread),
                        Paused / Resumed (engine thread, between points)
    at the end:         Aborted (abort / error), Finished (always, last)

PointDone of point n may arrive while point n + 1 is being set up (the stage moving), never
after its BlockAcquired: the camera integrates for n + 1 only once n is flushed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tamrig.devices import FrameBlock
from tamrig.records import PointRecord


@dataclass(frozen=True)
class ScanStarted:
    plan_name: str
    total_points: int
    completed_points: int  # already in the file (resumed scan), skipped
    n_sweeps: int
    resumed: bool


@dataclass(frozen=True)
class BlockAcquired:
    """A block of camera frames the engine has just accumulated into point ``index``.

    For live views (camera image, running ΔT/T of the point being acquired). Delivered on
    the engine's thread between two camera reads: a subscriber keeps a reference (the block
    is never modified afterwards) and returns at once; it must not copy or draw here.
    ``pump_on`` is the per-frame pump state the accumulator used.
    """

    index: int
    block: FrameBlock
    pump_on: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PointDone:
    record: PointRecord
    progress: float  # fraction of all planned points stored, 0…1
    eta_s: float | None  # None until a point has been timed
    done: int
    total: int
    sweep: int
    n_sweeps: int
    series: str  # the live-monitor curve this point belongs to


@dataclass(frozen=True)
class SweepDone:
    sweep: int
    n_sweeps: int
    series: tuple[str, ...]  # the curves this sweep covered


@dataclass(frozen=True)
class Paused:
    reason: str
    next_index: int | None


@dataclass(frozen=True)
class Resumed:
    next_index: int | None


@dataclass(frozen=True)
class Fault:
    device: str
    message: str
    index: int | None
    attempt: int
    max_attempts: int
    fatal: bool  # retries exhausted: the rig is in its safe state


@dataclass(frozen=True)
class Notice:
    """Something the operator should see that does not stop the scan (e.g. fluence drift)."""

    kind: str
    message: str
    index: int | None


@dataclass(frozen=True)
class Aborted:
    reason: str
    done: int
    total: int


@dataclass(frozen=True)
class Finished:
    status: str  # "finished" | "aborted" | "fault"
    done: int
    total: int
    elapsed_s: float


ScanEvent = (
    ScanStarted
    | BlockAcquired
    | PointDone
    | SweepDone
    | Paused
    | Resumed
    | Fault
    | Notice
    | Aborted
    | Finished
)
