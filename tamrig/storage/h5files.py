"""Opening scan files in the right HDF5 mode, including files left by a killed writer.

A writer killed with SIGKILL leaves the superblock's "open for (SWMR) write" flags set.
SWMR readers ignore them, but ordinary readers (and a new writer) refuse the file until
they are cleared -- the job of HDF5's ``h5clear -s``. We do the same through the library's
file-access property ``clear_status_flags`` so no external tool is needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path
from typing import Any

import h5py

LIBVER = "latest"  # SWMR needs the v3 superblock and the newest object formats


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
            return lib
    raise OSError("the HDF5 library used by h5py could not be located to clear status flags")


def _fapl(*, clear_flags: bool = False) -> Any:
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    if clear_flags:
        flag = ctypes.c_bool(True)
        if _libhdf5().H5Pset(fapl.id, b"clear_status_flags", ctypes.byref(flag)) < 0:
            raise OSError("HDF5 refused the clear_status_flags property")
    return fapl


def clear_status_flags(path: str | Path) -> None:
    """Mark a file left open by a killed writer as closed (like ``h5clear -s``)."""
    fid = h5py.h5f.open(str(path).encode(), h5py.h5f.ACC_RDWR, fapl=_fapl(clear_flags=True))
    fid.close()


def open_swmr_write(path: str | Path) -> h5py.File:
    """Open an existing, closed file directly in SWMR-write mode (one superblock update)."""
    flags = h5py.h5f.ACC_RDWR | h5py.h5f.ACC_SWMR_WRITE
    fid = h5py.h5f.open(str(path).encode(), flags, fapl=_fapl())
    return h5py.File(fid)


def open_update(path: str | Path) -> h5py.File:
    """Open for ordinary read-write after clearing any flags a killed writer left."""
    clear_status_flags(path)
    fid = h5py.h5f.open(str(path).encode(), h5py.h5f.ACC_RDWR, fapl=_fapl())
    return h5py.File(fid)


def open_read(path: str | Path) -> tuple[h5py.File, bool]:
    """Open for reading; SWMR when the file allows it. Returns (file, swmr)."""
    try:
        return h5py.File(path, "r", libver=LIBVER, swmr=True), True
    except OSError:
        # Not a SWMR-capable file (written by another program): plain read.
        return h5py.File(path, "r"), False
