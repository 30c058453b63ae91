"""What the engine needs from its collaborators (storage writer, live monitor).

Structural types, so the engine can be run with the HDF5 writer and the fitting monitor,
or with anything else that has these methods (a GUI preview, a test recorder).
"""

from __future__ import annotations

from typing import Protocol

from tamrig.devices import FrameBlock
from tamrig.records import DifferentialImage, GaussianFit, PointRecord, TransportPoint


class PointWriter(Protocol):
    def completed_indices(self) -> set[int]: ...
    def write_point(self, record: PointRecord) -> None: ...
    def write_frames(self, index: int, block: FrameBlock) -> None: ...
    def log_event(self, kind: str, message: str, index: int | None = None) -> None: ...
    def finish(self, status: str) -> None: ...


class Monitor(Protocol):
    def update(
        self, *, delay_fs: float, series: str, image: DifferentialImage, settle: bool = False
    ) -> tuple[GaussianFit, TransportPoint | None]: ...
