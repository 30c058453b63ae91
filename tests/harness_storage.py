"""Damaged scan files for the storage fuzz tests, and one reader pass that touches everything.

:func:`read_everything` is what `tamrig analyze` or the GUI would do with a file: open it,
read the point table, every image, the event log, export CSV. On a damaged file the only
acceptable failure is a StorageError (a clear message, no traceback).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from storage_support import make_metadata, make_record

from tamrig.storage import ScanWriter, open_scan


def write_reference(path: Path, n_points: int = 4, *, finish: bool = True) -> Path:
    """A small, valid scan file: ``n_points`` points, one fault event, finished or not."""
    md = make_metadata(n_points)
    with ScanWriter.create(path, md) as writer:
        for i in range(n_points):
            writer.write_point(make_record(i, md))
        writer.log_event("fault", "stage: controller reports motor stalled", index=n_points - 1)
        if finish:
            writer.finish("fault")
    return path


def read_everything(path: Path, csv_path: Path) -> int:
    """Open and read all a reader offers; returns the number of points read."""
    with open_scan(path) as scan:
        _ = scan.status, scan.end_time, scan.image_shape, scan.pixel_size_nm, scan.metadata
        table = scan.points()
        for i in table["index"]:
            scan.dtt(int(i))
            scan.dtt_err(int(i))
            scan.point_extra(int(i))
        scan.positions()
        scan.events()
        scan.refresh()
        scan.export_csv(csv_path)
        return len(scan)


@dataclass(frozen=True)
class ByteDamage:
    """Overwrite ``length`` bytes at a fraction ``at`` of the file with ``fill``, or truncate."""

    op: str  # "truncate" | "overwrite" | "zero"
    at: float
    junk: bytes = b""

    def apply(self, raw: bytes) -> bytes:
        i = int(self.at * len(raw))
        if self.op == "truncate":
            return raw[:i]
        junk = self.junk if self.op == "overwrite" else b"\x00" * max(len(self.junk), 64)
        return raw[:i] + junk + raw[i + len(junk) :]


def global_heaps(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) byte ranges of the HDF5 global heap collections (variable-length strings).

    Damage there can send libhdf5 into an endless loop while decoding a string (a heap object
    whose size field reads 0); tamrig keeps every text it reads out of the heap.
    """
    ranges = []
    at = raw.find(b"GCOL")
    while at >= 0:
        size = int.from_bytes(raw[at + 8 : at + 16], "little")
        ranges.append((at, at + max(size, 16)))
        at = raw.find(b"GCOL", at + 4)
    return ranges


if __name__ == "__main__":  # python harness_storage.py FILE: read it, print the point count
    print(read_everything(Path(sys.argv[1]), Path(sys.argv[1] + ".csv")))
