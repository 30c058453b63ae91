"""Process-wide settings the ``tamrig`` command applies before it starts work.

Both trade generality for a steady acquisition loop, so a library user keeps the defaults
unless they call :func:`tune` themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

#: Environment variables that size the BLAS / OpenMP thread pools numpy may load.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: glibc ``mallopt`` parameters (malloc.h) and the values tamrig sets.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's ceiling for this parameter on 64-bit
TRIM_THRESHOLD_BYTES = 128 * 2**20


def single_threaded_blas() -> None:
    """One BLAS thread unless the user chose otherwise (set before numpy loads).

    tamrig's matrix products are many and small (frame slabs, 64x64 fits); it splits the
    frame work over the cores itself. Extra BLAS threads gain nothing on such products and
    busy-wait between them, taking a core from the acquisition threads.
    """
    chosen = any(name in os.environ for name in BLAS_THREAD_VARIABLES)
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    if not chosen and "numpy" in sys.modules:  # too late for the variables: set it live
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")


def keep_freed_memory() -> bool:
    """Let glibc reuse freed frame buffers instead of returning them to the system.

    Frame blocks and their intermediates are megabytes each and come and go every point.
    By default glibc maps such blocks fresh and unmaps them when freed, so every point pays
    page faults to zero the same memory again (measured: a third of a simulated point).
    Serving them from the heap up to 32 MiB and keeping up to 128 MiB of freed heap makes
    the memory reused; peak use is unchanged. Returns False where this is not glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # e.g. musl: no mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and ok


def tune() -> None:
    """Both settings, as the ``tamrig`` command runs."""
    single_threaded_blas()
    keep_freed_memory()
