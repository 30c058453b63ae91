"""``tamrig recover``: let any HDF5 program open scan files whose writer was killed.

A scan killed with SIGKILL (or by a power cut) leaves its file marked "open for writing".
tamrig's own reader and ``--resume`` cope with that; HDFView, h5dump, nexusformat or a
plain ``h5py.File(path)`` refuse the file until the mark is cleared. This command clears
it and repairs the recorded file end, touching nothing else. A file that is not a sound
tamrig scan (empty, text, cut short after it finished, damaged) is refused unchanged.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tamrig.errors import EXIT_OK, StorageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.h5", help="scan files")


def run(args: argparse.Namespace) -> int:
    from tamrig.storage import liveness, open_scan, recover
    from tamrig.storage.soundness import check_scan_file

    for path in args.files:  # all checked read-only before the first is touched
        check_scan_file(path)
        if liveness.in_use(path):
            raise StorageError(f"{path}: a running scan is writing it; stop that scan first")
    for path in args.files:
        try:
            recover(path)
        except OSError as exc:
            raise StorageError(f"{path}: cannot be recovered: {exc}") from exc
        try:
            with open_scan(path) as scan:
                summary = f"{len(scan)} points, status {scan.status}"
        except StorageError:
            summary = "not a tamrig scan file"
        print(f"{path}: any HDF5 program can open it now ({summary})")
    return EXIT_OK
