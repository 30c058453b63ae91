"""The newest camera frame, handed from whichever thread read it to the display.

The producer (the live-view worker, or the scan engine through its ``BlockAcquired``
event) calls :meth:`LatestFrame.offer` per block: one frame is copied and older ones are
simply replaced. The display takes it on its own clock (:mod:`tamrig.gui.redraw`), so the
reader never waits for drawing and the display never queues frames it cannot show.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from tamrig.devices import FrameBlock


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    frame_id: int
    source: str  # "live" | "scan"
    frames_seen: int  # every frame offered so far, shown or not
    blocks_seen: int


class LatestFrame:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._fresh = False
        self.frames_seen = 0
        self.blocks_seen = 0

    def offer(self, block: FrameBlock, source: str) -> None:
        """Any thread: keep a copy of the block's last frame (the block may be reused)."""
        n = len(block)
        if n == 0:
            return
        image = np.array(block.data[-1])
        with self._lock:
            self.frames_seen += n
            self.blocks_seen += 1
            self._frame = Frame(
                image, int(block.frame_id[-1]), source, self.frames_seen, self.blocks_seen
            )
            self._fresh = True

    def take(self) -> Frame | None:
        """The newest frame if it has not been taken yet, else None."""
        with self._lock:
            if not self._fresh:
                return None
            self._fresh = False
            return self._frame

    def clear(self) -> None:
        with self._lock:
            self._frame = None
            self._fresh = False
