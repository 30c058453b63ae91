"""Streams the camera in a worker thread and hands the GUI at most one frame at a time.

Reading never waits for drawing: the worker keeps reading blocks at the camera's pace and
offers the newest frame only when the previous one has been drawn (:meth:`frame_shown`), so
a slow redraw drops display frames, never camera frames. Blocks are also passed to
``block_sinks`` (the live ΔT/T accumulator) in this thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QTimer, pyqtSignal, pyqtSlot

from tamrig.devices import FrameBlock
from tamrig.errors import TamrigError
from tamrig.gui.rigaccess import RigAccess
from tamrig.gui.threads import ThreadWorker

BlockSink = Callable[[FrameBlock], None]


@dataclass(frozen=True)
class LiveFrame:
    image: np.ndarray
    frame_id: int
    frames_read: int
    frames_shown: int
    dropped: int


class CameraWorker(ThreadWorker):
    frame = pyqtSignal(object)  # LiveFrame
    dtt_ready = pyqtSignal(object)  # LiveDtt, from a block sink running in this thread
    live_changed = pyqtSignal(bool)
    failed = pyqtSignal(str)
    start_requested = pyqtSignal()
    stop_requested = pyqtSignal()
    blocks_pending = pyqtSignal()

    def __init__(self, access: RigAccess, tick_ms: int = 40) -> None:
        super().__init__()
        self.access = access
        self.tick_ms = tick_ms
        self.block_sinks: list[BlockSink] = []
        #: frames per read; None = what the camera delivers in one tick at its frame rate
        self.block_frames: int | None = None
        self.frames_read = 0
        self.frames_shown = 0
        self._shown = threading.Event()
        self._shown.set()
        self._timer: QTimer | None = None
        self._relayed: deque[FrameBlock] = deque(maxlen=4)
        self._relay_lock = threading.Lock()
        self.start_requested.connect(self.start_live)
        self.stop_requested.connect(self.stop_live)
        self.blocks_pending.connect(self.drain_relayed)

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
        self._shown.set()
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
        for sink in self.block_sinks:
            sink(block)
        if self._shown.is_set():
            self._shown.clear()
            self.frames_shown += 1
            self.frame.emit(
                LiveFrame(
                    image=block.data[-1],
                    frame_id=int(block.frame_id[-1]),
                    frames_read=self.frames_read,
                    frames_shown=self.frames_shown,
                    dropped=block.dropped,
                )
            )

    # -- blocks read by someone else (the scan engine) -------------------------------------
    def push_block(self, block: FrameBlock) -> None:
        """Hand over a block from another thread; at most a few wait, older ones drop.

        The sinks (live ΔT/T and its fit) then run in this worker's thread, never in the
        thread that read the block.
        """
        with self._relay_lock:
            wake = not self._relayed
            self._relayed.append(block)
        if wake:
            self.blocks_pending.emit()

    @pyqtSlot()
    def drain_relayed(self) -> None:
        while True:
            with self._relay_lock:
                if not self._relayed:
                    return
                block = self._relayed.popleft()
            for sink in self.block_sinks:
                sink(block)

    def frame_shown(self) -> None:
        """Called by the view (any thread) once it has drawn the last frame."""
        self._shown.set()
