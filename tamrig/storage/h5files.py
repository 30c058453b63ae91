"""Opening scan files in the right HDF5 mode, including files left by a killed writer.

A writer killed with SIGKILL leaves the superblock's "open for (SWMR) write" flags set.
SWMR readers ignore them, but ordinary readers (and a new writer) refuse the file until
they are cleared -- the job of HDF5's ``h5clear -s``. We do the same through the library's
file-access property ``clear_status_flags`` so no external tool is needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import time
from pathlib import Path
from typing import Any

import h5py

LIBVER = "latest"  # SWMR needs the v3 superblock and the newest object formats

#: In SWMR mode HDF5 retries a metadata read whose checksum fails (a torn read while the
#: writer flushes). Its default of 100 attempts, with a back-off growing towards minutes,
#: turns one damaged block of a file into an hours-long hang; 26 attempts still span ~0.1 s
#: of retries for a torn read, then report the damage.
SWMR_READ_ATTEMPTS = 26
#: How long a writer waits for a reader's momentary file lock (LOCK_RETRIES x LOCK_WAIT_S).
LOCK_RETRIES = 100
LOCK_WAIT_S = 0.02


@functools.cache
def _libhdf5() -> ctypes.CDLL:
    """The HDF5 library h5py itself is linked against (already mapped into the process)."""
    candidates: list[str] = []
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            name = line.split()[-1] if line.split() else ""
            base = Path(name).name
            if base.startswith("libhdf5") and not base.startswith("libhdf5_hl") and ".so" in base:
                candidates.append(name)
    found = ctypes.util.find_library("hdf5")
    if found:
        candidates.append(found)
    for candidate in candidates:
        try:
            lib = ctypes.CDLL(candidate)
        except OSError:
            continue
        if hasattr(lib, "H5Pset"):
            lib.H5Pset.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p]
            lib.H5Pset.restype = ctypes.c_int
            lib.H5Pset_metadata_read_attempts.argtypes = [ctypes.c_int64, ctypes.c_uint]
            lib.H5Pset_metadata_read_attempts.restype = ctypes.c_int
            lib.H5Fincrement_filesize.argtypes = [ctypes.c_int64, ctypes.c_uint64]
            lib.H5Fincrement_filesize.restype = ctypes.c_int
            return lib
    raise OSError("the HDF5 library used by h5py could not be located to clear status flags")


def _fapl(*, clear_flags: bool = False) -> Any:
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    if _libhdf5().H5Pset_metadata_read_attempts(fapl.id, SWMR_READ_ATTEMPTS) < 0:
        raise OSError("HDF5 refused the metadata read attempts property")
    if clear_flags:
        flag = ctypes.c_bool(True)
        if _libhdf5().H5Pset(fapl.id, b"clear_status_flags", ctypes.byref(flag)) < 0:
            raise OSError("HDF5 refused the clear_status_flags property")
    return fapl


def clear_status_flags(path: str | Path) -> None:
    """Mark a file left by a killed writer as closed and cover all it wrote.

    Like ``h5clear -s --increment=0``: besides the "open for write" flags, a SWMR writer
    killed between flushing new metadata and rewriting the superblock leaves a recorded
    end of allocation (EOA) short of objects already on disk. HDF5 then refuses to touch
    them ("addr overflow") the moment the file grows again, so a resume would fail.
    Raising the EOA to the end of the file is safe: every byte up to there was written.
    """
    fid = h5py.h5f.open(str(path).encode(), h5py.h5f.ACC_RDWR, fapl=_fapl(clear_flags=True))
    try:
        if _libhdf5().H5Fincrement_filesize(fid.id, 0) < 0:
            raise OSError(f"HDF5 could not extend the recorded end of {path} to its size")
    finally:
        fid.close()


def open_swmr_write(path: str | Path) -> h5py.File:
    """Open an existing, closed file directly in SWMR-write mode (one superblock update)."""
    flags = h5py.h5f.ACC_RDWR | h5py.h5f.ACC_SWMR_WRITE
    for attempt in range(LOCK_RETRIES + 1):
        try:
            fid = h5py.h5f.open(str(path).encode(), flags, fapl=_fapl())
            break
        except OSError as exc:
            # A reader (GUI, analysis) opening the file at this instant holds its lock for a
            # moment: errno 11 (EAGAIN). Wait a little rather than fail the scan.
            if attempt == LOCK_RETRIES or not _lock_busy(exc):
                raise
            time.sleep(LOCK_WAIT_S)
    return h5py.File(fid)


def _lock_busy(exc: OSError) -> bool:
    return exc.errno == errno.EAGAIN or f"errno = {errno.EAGAIN}," in str(exc)


SIGNATURE = b"\x89HDF\r\n\x1a\n"


def restore_eof(path: str | Path) -> bool:
    """Re-extend a file that ends before its recorded end (a write failed on a full disk).

    The superblock (format v2/v3) records the end-of-file address; HDF5 refuses a file
    that is shorter, although everything written before the last successful flush is
    intact. Padding the tail with zeros -- space the failed write had only reserved --
    makes the file consistent again (what ``h5clear --increment`` achieves). Returns True
    if the file was extended.
    """
    path = Path(path)
    with path.open("rb") as handle:
        end = recorded_end(handle.read(64))
    if end is None or end <= path.stat().st_size:
        return False
    os.truncate(path, end)
    return True


def recorded_end(head: bytes) -> int | None:
    """The end-of-file address a v2/v3 superblock (the file's first bytes) records; None
    for other files and older superblocks."""
    if not head.startswith(SIGNATURE) or len(head) < 12 or head[8] < 2:
        return None
    width = head[9]
    if len(head) < 12 + 3 * width:
        return None
    base = int.from_bytes(head[12 : 12 + width], "little")
    return base + int.from_bytes(head[12 + 2 * width : 12 + 3 * width], "little")


def open_update(path: str | Path) -> h5py.File:
    """Open for ordinary read-write after repairing what a killed writer left."""
    recover(path)
    fid = h5py.h5f.open(str(path).encode(), h5py.h5f.ACC_RDWR, fapl=_fapl())
    return h5py.File(fid)


def open_read(path: str | Path) -> tuple[h5py.File, bool]:
    """Open for reading; SWMR when the file allows it. Returns (file, swmr)."""
    try:
        flags = h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ
        return h5py.File(h5py.h5f.open(str(path).encode(), flags, fapl=_fapl())), True
    except OSError:
        # Not a SWMR-capable file (written by another program), or caught while a writer
        # updates its superblock: plain read, without the lock that would block that writer.
        return h5py.File(path, "r", locking=False), False


def abandon(file: h5py.File) -> None:
    """Close a file whose writes failed (disk full) without touching the disk again.

    After a failed write HDF5 keeps the unwritable metadata dirty and retries it on every
    close, which fails again and can crash the interpreter at exit. Pointing the file's
    descriptor at the null device lets the library release the file cleanly while the file
    on disk stays exactly as it was after its last successful flush.
    """
    try:
        handle = file.id.get_vfd_handle()
    except (OSError, RuntimeError, ValueError):
        handle = None
    if isinstance(handle, int) and handle >= 0:
        null = os.open(os.devnull, os.O_RDWR)
        try:
            os.dup2(null, handle)
        finally:
            os.close(null)
    try:
        file.close()
    except (OSError, RuntimeError):
        pass  # e.g. "unable to extend file" on the null device: nothing reaches the disk


def recover(path: str | Path) -> None:
    """Make a file left by a killed or failed writer readable by any HDF5 program.

    Only for files no process is writing any more: it clears the "open for write" flags
    and restores the recorded file end. tamrig's own reader does not need it (it reads
    through SWMR), and ``ScanWriter.resume`` does it itself.
    """
    restore_eof(path)
    clear_status_flags(path)
