"""Scan engine: plan + rig + writer (+ live monitor) -> points, events, a data file.

``ScanEngine`` is the runner; :mod:`tamrig.engine.session` wires it to a rig file, the
fluence calibration, the HDF5 writer and the live monitor for the CLI, the GUI and scripts.
"""

from tamrig.engine.engine import POSITION_NAMES, ScanEngine, series_name
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
from tamrig.engine.protocols import Monitor, PointWriter

__all__ = [
    "POSITION_NAMES",
    "Aborted",
    "BlockAcquired",
    "Fault",
    "Finished",
    "Monitor",
    "Notice",
    "Paused",
    "PointDone",
    "PointWriter",
    "Resumed",
    "ScanEngine",
    "ScanEvent",
    "ScanStarted",
    "SweepDone",
    "series_name",
]
