"""Is this a sound tamrig scan file? Answered read-only, before anything opens it to write.

``--resume``, ``recover``, ``analyze`` and the GUI browser ask here first, so a file that is
empty, text, a folder, a device, cut short or damaged is refused with a message naming it
(exit 2) and is left exactly as it was: not a byte is written.

A file shorter than its recorded end is either a scan whose disk filled up (the failed
write had only reserved the space; ``recover`` and ``--resume`` pad it back, as designed)
or a file cut short afterwards (an incomplete copy). To tell them apart without touching
the file, the check pads and reads a private copy in the temporary folder. A file whose
writer was killed at the wrong instant can likewise read back only once repaired; it too
is judged on a repaired copy.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from tamrig.errors import InputError
from tamrig.storage import h5files
from tamrig.storage import layout as L
from tamrig.storage.h5files import SIGNATURE, recorded_end
from tamrig.storage.metadata import ScanMetadata, from_json

STATUSES = ("running", "finished", "aborted", "fault")
#: Image rows read back at the end of the file (where a cut or a failed write lands).
TAIL_ROWS = 64
#: What h5py, numpy and json raise on damaged content.
_DAMAGE = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError)


@dataclass(frozen=True)
class ScanFileReport:
    """What the read-only check found in a sound scan file."""

    path: Path
    status: str
    n_points: int
    n_planned: int
    #: Shorter than its recorded end after a failed write (``tamrig recover`` pads it).
    truncated: bool = False

    @property
    def complete(self) -> bool:
        return self.status == "finished" and self.n_points >= self.n_planned


def _refuse(path: Path, message: str) -> InputError:
    return InputError(message, file=path, expected="a tamrig scan file (.h5)")


def check_readable_scan(path: str | Path) -> ScanFileReport:
    """:func:`check_scan_file` for readers (analyze, campaign, reprocess): a file shorter
    than its recorded end is refused too, since its last points cannot be trusted until
    ``tamrig recover`` has repaired it (``--resume`` and ``recover`` repair it themselves)."""
    report = check_scan_file(path)
    if report.truncated:
        raise InputError(
            "is shorter than its recorded end: a write failed (disk full?) and the file has "
            "not been repaired, so its last points cannot be trusted",
            file=path,
            expected=f"the file after `tamrig recover {path}`",
        )
    return report


def check_scan_file(path: str | Path) -> ScanFileReport:
    """Check ``path`` read-only; an InputError (exit 2) naming it if it is no sound scan."""
    path = Path(path)
    try:
        if not path.exists():
            raise _refuse(path, "no such file")
        if path.is_dir():
            raise _refuse(path, "is a folder, not a scan file")
        if not path.is_file():
            raise _refuse(path, "is not a regular file (a device or a pipe)")
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(64)
    except PermissionError:
        raise _refuse(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror})") from None
    if size == 0:
        raise _refuse(path, "is empty (0 bytes)")
    if not head.startswith(SIGNATURE):
        text = head.isascii() or _is_utf8(head)
        raise _refuse(path, "is not an HDF5 file" + (" (it holds text)" if text else ""))
    end = recorded_end(head)
    truncated = end is not None and end > size
    if not truncated:
        try:
            return _read(path, path)
        except InputError:
            pass  # a killed writer's file may read back only once repaired, as resume does
    # Inspect a repaired private copy (padded to its recorded end, flags cleared), never
    # the file itself.
    with tempfile.TemporaryDirectory(prefix="tamrig-check-") as folder:
        copy = Path(folder) / "copy.h5"
        try:
            shutil.copyfile(path, copy)
            h5files.recover(copy)
        except OSError as exc:
            cut = f"is cut short ({size} of {end} bytes) and " if truncated else "is "
            raise _refuse(path, f"{cut}damaged ({_first_line(exc)})") from None
        report = _read(copy, path)
    if not truncated:
        return report
    if report.status == "finished":
        raise _refuse(
            path,
            f"is cut short: {size} of its {end} bytes after the scan finished "
            "(an incomplete copy?); copy it again from the original",
        )
    return ScanFileReport(path, report.status, report.n_points, report.n_planned, True)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read(real: Path, named: Path) -> ScanFileReport:
    try:
        f, _ = h5files.open_read(real)
    except OSError as exc:
        raise _refuse(named, f"cannot be opened as HDF5 ({_first_line(exc)})") from None
    try:
        return _contents(f, named)
    except InputError:
        raise
    except _DAMAGE as exc:
        raise _refuse(named, f"damaged scan file ({_first_line(exc)})") from None
    finally:
        f.close()


def _contents(f: h5py.File, named: Path) -> ScanFileReport:
    if L.METADATA_JSON not in f or L.COMPLETED not in f:
        raise _refuse(named, "is an HDF5 file but not a tamrig scan (no scan metadata)")
    metadata = ScanMetadata.from_dict(from_json(f[L.METADATA_JSON][()]))
    raw_status = f[L.STATUS][()]
    status = (raw_status if isinstance(raw_status, bytes) else bytes(raw_status)).decode()
    if status not in STATUSES:
        raise _refuse(named, f"damaged scan file (unknown status {status!r})")
    flags = np.asarray(f[L.COMPLETED][()])
    done = np.flatnonzero(flags == 1)
    rows = int(done[-1]) + 1 if done.size else 0
    stored = L.stored_columns(f, metadata.position_names)
    lacking = [
        c.path
        for c in (*L.DATA_COLUMNS, *L.FIT_COLUMNS)
        if c.path not in stored and c.path not in L.ADDED_COLUMNS  # an older file lacks those
    ]
    lacking += [
        L.position_path(n) for n in metadata.position_names if L.position_path(n) not in stored
    ]
    if lacking:
        raise _refuse(named, f"damaged scan file (no per-point column {lacking[0]})")
    stacks = [p for p, _, _ in L.IMAGE_STACKS]
    for path in L.row_datasets(f, metadata.position_names):
        if path in stacks:
            continue
        values = f[path][:rows]
        if len(values) < rows:
            raise _refuse(named, f"damaged scan file ({path} ends before its {rows} rows)")
    for path in stacks:
        ds = f[path]
        if ds.shape[0] < rows:
            raise _refuse(named, f"damaged scan file ({path} ends before its {rows} rows)")
        for row in sorted({*done[:1].tolist(), *done[-TAIL_ROWS:].tolist()}):
            ds[int(row)]
    f[L.EVENTS][()]
    return ScanFileReport(named, status, int(done.size), metadata.n_points_planned)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def check_new_output(path: str | Path, *, overwrite: bool) -> None:
    """Before a scan starts: ``--out`` must be a new file, or one it may replace."""
    path = Path(path)
    if path.is_dir():
        raise InputError(
            "is a folder", file=path, field="--out", expected="a file name such as scan.h5"
        )
    if path.exists() and not overwrite:
        raise InputError(
            "already exists",
            file=path,
            field="--out",
            expected="another --out, or --overwrite to replace it",
        )
    if path.exists() and not path.is_file():
        raise InputError("is not a regular file", file=path, field="--out", expected="a file name")
