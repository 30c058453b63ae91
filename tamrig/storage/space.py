"""Check for room before writing, so a full disk stops the scan between points.

HDF5 cannot always close a file cleanly once a write has failed for lack of space (the
unwritable metadata stays dirty), so the writer looks ahead: before each point or frame
block it checks the free space on the disk and the process's file-size limit
(RLIMIT_FSIZE) against a generous estimate of what it is about to write.

Measuring costs two system calls, tens of µs inside a busy scan; :class:`Room` measures
again only when the room last measured, less the estimates of everything written since,
could be short, or when ``RECHECK_S`` has passed (another program may fill the disk): at
one point per 0.2 s or slower that is before every point, as before.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path
from time import monotonic

from tamrig.errors import StorageError

HEADROOM = 2 * 2**20  # room kept for the event log, end_time and the final flush
#: Longest time the writer relies on a measurement of the free room.
RECHECK_S = 0.25


def free_bytes(path: Path) -> tuple[int, str]:
    """Bytes the file may still grow by, and which limit that is."""
    stats = os.statvfs(path.parent)
    free = stats.f_bavail * stats.f_frsize
    limit, what = free, "free on the disk"
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        size = path.stat().st_size if path.exists() else 0
        room = soft - size
        if room < limit:
            limit, what = room, f"left under the file-size limit of {soft} bytes"
    return limit, what


def ensure_room(path: Path, needed: int, what: str, completed: int | None) -> int:
    """StorageError (before anything is written) if ``needed`` bytes might not fit; else
    the room measured. ``completed``: points already in the file, None before the file
    exists (the scan then never starts)."""
    room, kind = free_bytes(path)
    if room < needed + HEADROOM:
        outcome = (
            "The scan does not start; nothing was written."
            if completed is None
            else f"The scan stops here; the {completed} completed point(s) already in the "
            "file are kept."
        )
        raise StorageError(
            f"{path}: not enough space to store {what}: {max(room, 0) / 2**20:.1f} MiB {kind}, "
            f"{(needed + HEADROOM) / 2**20:.1f} MiB needed (disk full?). {outcome}"
        )
    return room


class Room:
    """The look-ahead for one file being written, measuring only when it could matter."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._left = 0  # room last measured, less the estimates written since
        self._measured_at = -float("inf")

    def ensure(self, needed: int, what: str, completed: int) -> None:
        """As :func:`ensure_room`, then count ``needed`` as written."""
        now = monotonic()
        if self._left < needed + HEADROOM or now - self._measured_at >= RECHECK_S:
            self._left, self._measured_at = 0, now  # measured again next time if refused
            self._left = ensure_room(self.path, needed, what, completed)
        self._left -= needed
