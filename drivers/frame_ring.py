"""A preallocated ring of frames and their metadata, filled by one acquisition thread and
drained in blocks by readers.

The producer copies each frame in (the camera's own buffer is requeued right after); a
reader waits on a condition until ``n`` consecutive frames are there, the ring is closed, or
its deadline passes. If the producer laps a slow reader the oldest frames are overwritten
and counted as dropped, exactly like frame-id gaps from the camera.

A camera kept streaming from point to point drops stale frames with :meth:`FrameRing.discard`
instead of a stop and start: the frames in the ring go at once, the ones still on their way
(queued in the producer, or being read out or exposed at the call) as they arrive, and none
of them counts as a drop. Camera frame ids are made monotonic by :class:`FrameCounter`
first, since a stream that stays armed for a whole scan outlives a 16-bit counter.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import numpy.typing as npt

from tamrig.devices.camera import FrameBlock


class RingClosed(Exception):
    """The ring was closed (acquisition stopped) before enough frames arrived."""


class FrameCounter:
    """Raw camera frame ids -> a monotonic 64-bit count and the frames missing before each.

    GigE Vision 1.x block ids are 16 bits and wrap from 65535 to 1 (0 is never used): at
    200 frames/s that is every 5.5 minutes of a stream. A raw id below the last one is a
    wrap when it lands within ``max_gap`` frames of the counter's end (16, 32 or 64 bits,
    whichever the last id fits); anything else is a counter the camera restarted, where
    nothing is known to be lost.
    """

    def __init__(self, max_gap: int = 1 << 15) -> None:
        self.max_gap = max_gap
        self._last_raw: int | None = None
        self.extended = 0

    def advance(self, raw: int) -> tuple[int, int]:
        """(monotonic id, frames missing between the previous frame and this one)."""
        last = self._last_raw
        self._last_raw = raw
        if last is None:
            self.extended = raw
            return raw, 0
        step = raw - last
        if step <= 0:
            bits = 16 if last < 1 << 16 else 32 if last < 1 << 32 else 64
            step += 1 << bits
            if bits == 16 and raw > 0:
                step -= 1  # GigE Vision block ids skip 0
            if not 0 < step <= self.max_gap:
                step = 1  # not a wrap: the camera restarted its counter
        self.extended += step
        return self.extended, step - 1


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
        # Discarding (see discard()): frames with a fetch number up to _stale_fetches were
        # fetched or queued before the call; then frame ids below _keep_from.
        self._fetches = 0
        self._stale_fetches: int | None = None
        self._guard_frames = 0
        self._keep_from: int | None = None
        self.discarded = 0  # frames dropped by discard() (not drops)

    # -- producer --------------------------------------------------------------------------
    def note_fetch(self) -> int:
        """The acquisition thread took a buffer from the producer: its fetch number, for
        :meth:`push` (a frame fetched before a discard is stale even if pushed after it)."""
        with self._cond:
            self._fetches += 1
            return self._fetches

    def push(
        self,
        image: npt.NDArray[np.generic],
        frame_id: int,
        timestamp_s: float,
        pump_on: bool | None,
        dropped_before: int = 0,
        fetch_no: int | None = None,
    ) -> None:
        """Copy one frame in (called with the camera buffer still held).

        ``frame_id`` is monotonic (see :class:`FrameCounter`); ``dropped_before`` the frames
        the camera lost right before this one; ``fetch_no`` from :meth:`note_fetch` (None:
        fetched now). A stale frame after a :meth:`discard` is left out without a copy.
        """
        with self._cond:
            if fetch_no is None:
                self._fetches += 1
                fetch_no = self._fetches
            if self._stale_fetches is not None:
                if fetch_no <= self._stale_fetches:
                    self.discarded += 1
                    return
                # The first frame that was not in the producer's queue at the discard: it,
                # and the guard frames after it, may have begun exposing before the call.
                self._stale_fetches = None
                self._keep_from = frame_id + self._guard_frames
            if self._keep_from is not None:
                if frame_id < self._keep_from:
                    self.discarded += 1
                    return
                # Frames missing from the stale stretch were never wanted: not drops.
                dropped_before = max(0, min(dropped_before, frame_id - self._keep_from))
                self._keep_from = None
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

    @property
    def fetches(self) -> int:
        """Buffers the acquisition thread has taken from the producer so far."""
        with self._cond:
            return self._fetches

    def discard(self, queued: int, guard_frames: int, delivered: int = 0) -> int:
        """Drop every frame not yet taken, and those still on their way, so the next
        :meth:`take` starts with a frame whose exposure began after this call.

        On their way: the frames fetched but not yet pushed, the ``queued`` ones waiting in
        the producer's output queue (fetched next, oldest first) and, of the frames after
        those, ``guard_frames``: the camera may have been reading out or exposing them at
        the call. ``delivered``, the producer's own count of buffers handed out, covers a
        buffer fetched whose :meth:`note_fetch` has not happened yet (count ``queued``
        before it). None of these frames is a drop, nor are the drops not yet reported in a
        block (they were among the stale frames); frame-id gap counting goes on. Returns
        the number of frames dropped from the ring now.
        """
        if min(queued, guard_frames, delivered) < 0:
            raise ValueError(
                f"queued {queued}, guard_frames {guard_frames}, delivered {delivered}: >= 0"
            )
        with self._cond:
            gone = self._written - self._read
            self._read = self._written
            self.discarded += gone
            self.dropped_total -= self._dropped_pending
            self._dropped_pending = 0
            self._stale_fetches = max(self._fetches, delivered) + queued
            self._guard_frames = guard_frames
            self._keep_from = None
            return gone

    def queue_flushed(self) -> None:
        """The producer's output queue was emptied after a :meth:`discard` by the thread
        that pushes, holding no frame: every later fetch was delivered after the call, so
        the queued frames are no longer waited for."""
        with self._cond:
            if self._stale_fetches is not None:
                self._stale_fetches = min(self._stale_fetches, self._fetches)

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
