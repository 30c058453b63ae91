"""See the camera during a scan without a second reader: the engine's reads are tapped.

While a scan runs the engine owns the camera. :func:`tap_camera` wraps that camera's
``read`` so each block the engine gets is also offered to a :class:`FramePlayback`, which
keeps a few real frames per block (as many as a 25 fps display needs for the block's
duration) in a bounded queue. The GUI pops them at its own pace; when it falls behind, the
oldest frames are dropped — the engine never waits for the display.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from tamrig.devices import Camera, FrameBlock

log = logging.getLogger(__name__)


class FramePlayback:
    def __init__(self, display_fps: float = 25.0, max_queued: int = 50) -> None:
        self.display_fps = display_fps
        self.frames: deque[tuple[int, np.ndarray]] = deque(maxlen=max_queued)
        self.blocks_seen = 0
        self.frames_seen = 0
        self._lock = threading.Lock()

    def offer(self, block: FrameBlock, frame_rate_hz: float) -> None:
        """Called in the engine's thread: keep evenly spaced copies of a few frames."""
        n = len(block)
        if n == 0:
            return
        keep = max(1, min(n, round(n / frame_rate_hz * self.display_fps)))
        picks = np.linspace(0, n - 1, keep).round().astype(int)
        chosen = [(int(block.frame_id[i]), np.array(block.data[i])) for i in picks]
        with self._lock:
            self.frames.extend(chosen)
            self.blocks_seen += 1
            self.frames_seen += n

    def pop(self) -> tuple[int, np.ndarray] | None:
        with self._lock:
            return self.frames.popleft() if self.frames else None

    def clear(self) -> None:
        with self._lock:
            self.frames.clear()


@contextmanager
def tap_camera(camera: Camera, sink: Callable[[FrameBlock, float], None]) -> Iterator[None]:
    """Within the block, every ``camera.read`` result is also passed to ``sink``.

    The wrapper is an instance attribute shadowing the class method, removed on exit; a
    failing sink never disturbs the read.
    """
    original = camera.read

    def read(n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
        block = original(n_frames, timeout_s)
        try:
            sink(block, camera.config().frame_rate_hz)
        except Exception:  # display only: logged, never allowed to break acquisition
            log.exception("live view tap failed")
        return block

    instance: Any = camera
    instance.read = read
    try:
        yield
    finally:
        del instance.read
