"""Streams the camera in a worker thread; the display takes the newest frame on its clock.

Reading never waits for drawing: the worker reads blocks at the camera's pace and leaves
the newest frame in a :class:`~tamrig.gui.frames.LatestFrame`, so a slow redraw drops
display frames, never camera frames. Blocks are also passed to ``block_sinks`` (the
alignment ΔT/T accumulator) in this thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QTimer, pyqtSignal, pyqtSlot

from tamrig.devices import FrameBlock
from tamrig.errors import TamrigError
from tamrig.gui.frames import LatestFrame
from tamrig.gui.rigaccess import RigAccess
from tamrig.gui.threads import ThreadWorker

BlockSink = Callable[[FrameBlock], None]


class CameraWorker(ThreadWorker):
    live_changed = pyqtSignal(bool)
    failed = pyqtSignal(str)
    start_requested = pyqtSignal()
    stop_requested = pyqtSignal()

    def __init__(self, access: RigAccess, frames: LatestFrame, tick_ms: int = 40) -> None:
        super().__init__()
        self.access = access
        self.frames = frames
        self.tick_ms = tick_ms
        self.block_sinks: list[BlockSink] = []
        #: frames per read; None = what the camera delivers in one tick at its frame rate
        self.block_frames: int | None = None
        self.frames_read = 0
        self._timer: QTimer | None = None
        self.start_requested.connect(self.start_live)
        self.stop_requested.connect(self.stop_live)

    # -- lifecycle (worker thread) ---------------------------------------------------------
    @pyqtSlot()
    def setup(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(self.tick_ms)
        self._timer.timeout.connect(self.read_once)

    def stop_work(self) -> None:
        self.stop_live()

    @property
    def live(self) -> bool:
        return self._timer is not None and self._timer.isActive()

    @pyqtSlot()
    def start_live(self) -> None:
        if self._timer is None or self.live:
            return
        try:
            self.access.call(
                lambda rig: rig.camera.start(), roles=("camera",), what="start live view"
            )
        except TamrigError as exc:
            self.failed.emit(str(exc))
            return
        self._timer.start()
        self.live_changed.emit(True)

    @pyqtSlot()
    def stop_live(self) -> None:
        """Stop streaming; the pump closes first (it may only be open while acquiring)."""
        was_live = self.live
        if self._timer is not None:
            self._timer.stop()
        if not was_live:
            return
        with self.access.holding(("pump_shutter", "camera")):
            rig = self.access.rig
            try:
                rig.close_pump()
            except TamrigError as exc:
                self.failed.emit(str(exc))
            rig.camera.stop()
        self.live_changed.emit(False)

    # -- streaming -------------------------------------------------------------------------
    def _block_size(self) -> int:
        if self.block_frames is not None:
            return self.block_frames
        rate = self.access.rig.camera.config().frame_rate_hz
        return max(1, round(rate * self.tick_ms / 1000.0))

    @pyqtSlot()
    def read_once(self) -> None:
        if self.access.scan_active:
            return
        try:
            block = self.access.call(
                lambda rig: rig.camera.read(self._block_size()),
                roles=("camera",),
                what="live view",
            )
        except TamrigError as exc:
            self.failed.emit(str(exc))
            self.stop_live()
            return
        self.frames_read += len(block)
        self.frames.offer(block, "live")
        for sink in self.block_sinks:
            sink(block)
