"""A preallocated ring of frames and their metadata, filled by one acquisition thread and
drained in blocks by readers.

The producer copies each frame in (the camera's own buffer is requeued right after); a
reader waits on a condition until ``n`` consecutive frames are there, the ring is closed, or
its deadline passes. If the producer laps a slow reader the oldest frames are overwritten
and counted as dropped, exactly like frame-id gaps from the camera.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import numpy.typing as npt

from tamrig.devices.camera import FrameBlock


class RingClosed(Exception):
    """The ring was closed (acquisition stopped) before enough frames arrived."""


class FrameRing:
    def __init__(
        self,
        capacity: int,
        height: int,
        width: int,
        tagged: bool,
        dtype: npt.DTypeLike = np.uint16,
    ) -> None:
        self.capacity = capacity
        # Frames are kept in the camera's own pixel type (half the copy for Mono8) and
        # widened to uint16 per block on the reader's side. Pages are touched now so the
        # acquisition thread never takes page faults while streaming.
        self.frames = np.empty((capacity, height, width), dtype=dtype)
        self.frames.fill(0)
        self.frame_id = np.zeros(capacity, dtype=np.int64)
        self.timestamp_s = np.zeros(capacity, dtype=np.float64)
        self.pump_on = np.zeros(capacity, dtype=bool) if tagged else None
        self._cond = threading.Condition()
        self._written = 0  # frames ever written
        self._read = 0  # frames ever handed out or overwritten
        self._dropped_pending = 0  # drops not yet reported in a block
        self.dropped_total = 0
        self._closed = False
        self.error: BaseException | None = None
        # Frames [start, end) being copied out by a reader, without the lock held: the
        # producer never overwrites them (it drops the new frame instead).
        self._reserved: tuple[int, int] | None = None
        self._reader = threading.Lock()  # one reader at a time

    # -- producer --------------------------------------------------------------------------
    def push(
        self,
        image: npt.NDArray[np.generic],
        frame_id: int,
        timestamp_s: float,
        pump_on: bool | None,
        dropped_before: int = 0,
    ) -> None:
        """Copy one frame in (called with the camera buffer still held)."""
        with self._cond:
            overwrites = self._written - self.capacity
            if self._reserved is not None and overwrites >= self._reserved[0]:
                self._dropped_pending += 1 + dropped_before  # reader still copying that slot
                self.dropped_total += 1 + dropped_before
                return
            slot = self._written % self.capacity
            np.copyto(self.frames[slot], image, casting="same_kind")
            self.frame_id[slot] = frame_id
            self.timestamp_s[slot] = timestamp_s
            if self.pump_on is not None:
                self.pump_on[slot] = bool(pump_on)
            self._written += 1
            lost = dropped_before
            if self._written - self._read > self.capacity:
                lost += self._written - self._read - self.capacity
                self._read = self._written - self.capacity
            if lost:
                self._dropped_pending += lost
                self.dropped_total += lost
            self._cond.notify_all()

    def close(self, error: BaseException | None = None) -> None:
        """No more frames; wakes every waiting reader."""
        with self._cond:
            self._closed = True
            if error is not None:
                self.error = error
            self._cond.notify_all()

    # -- consumer --------------------------------------------------------------------------
    @property
    def available(self) -> int:
        with self._cond:
            return self._written - self._read

    def take(self, n: int, timeout_s: float) -> FrameBlock:
        """The next ``n`` frames; raises TimeoutError or RingClosed.

        The lock is held only to wait and to claim the frames; the (widening) copy happens
        outside it so the acquisition thread is never held up by a reader.
        """
        if not 1 <= n <= self.capacity:
            raise ValueError(f"block of {n} frames; the ring holds 1..{self.capacity}")
        deadline = time.monotonic() + timeout_s
        with self._reader:
            with self._cond:
                while self._written - self._read < n:
                    if self._closed:
                        raise RingClosed(
                            f"acquisition stopped with {self._written - self._read} of {n} frames"
                        ) from self.error
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(
                            f"{self._written - self._read} of {n} frames within {timeout_s} s"
                        )
                    self._cond.wait(left)
                start = self._read
                self._read += n
                self._reserved = (start, start + n)
                dropped, self._dropped_pending = self._dropped_pending, 0
            try:
                first = start % self.capacity
                if first + n <= self.capacity:  # contiguous: one widening copy, no gather
                    sel: slice | npt.NDArray[np.intp] = slice(first, first + n)
                else:
                    sel = np.arange(first, first + n) % self.capacity
                data = self.frames[sel].astype(np.uint16)
                ids = self.frame_id[sel].copy()
                stamps = self.timestamp_s[sel].copy()
                tags = None if self.pump_on is None else self.pump_on[sel].copy()
            finally:
                with self._cond:
                    self._reserved = None
        return FrameBlock(
            data=data,
            frame_id=ids,
            timestamp_s=stamps,
            pump_on=tags,
            dropped=dropped,
        )
