"""Is a scan file still being written? An advisory lock says so.

HDF5 drops its own file lock once SWMR writing starts, and a killed writer leaves the same
"open for write" flags as a live one. So the writer holds a shared open-file-description
lock (Linux ``F_OFD_SETLK``) on one byte far beyond the data for as long as it is open; the
kernel drops it when the process dies, even on kill -9. OFD locks are independent of the
``flock`` locks HDF5 readers take, and they belong to one descriptor rather than one
process, so a reader -- in another process or the writer's own -- tests for exactly the
writer's lock. Readers use it to tell "running" from "interrupted"; resume refuses a file a
live scan still holds. Where OFD locks are unavailable the answer is "unknown" (None) and
nothing is refused.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]

_OFFSET = 2**62  # a byte no HDF5 file reaches: the lock never overlaps real data
_FLOCK = "hhqqi4x"  # struct flock on 64-bit Linux: type, whence, start, len, pid


def _supported() -> bool:
    return fcntl is not None and hasattr(fcntl, "F_OFD_SETLK") and struct.calcsize(_FLOCK) == 32


def _lock_request(kind: int) -> bytes:
    return struct.pack(_FLOCK, kind, os.SEEK_SET, _OFFSET, 1, 0)


def hold(path: str | Path) -> int | None:
    """Take the writer's shared lock; returns the descriptor to release, or None."""
    if not _supported():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _lock_request(fcntl.F_RDLCK))
    except OSError:
        os.close(fd)
        return None
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor drops the lock


def in_use(path: str | Path) -> bool | None:
    """True if a live writer holds ``path``; None if that cannot be told."""
    if not _supported():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        answer = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, _lock_request(fcntl.F_WRLCK))
    except OSError:
        return None
    finally:
        os.close(fd)
    return bool(struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK)
