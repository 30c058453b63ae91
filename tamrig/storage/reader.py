"""Read scan files -- finished, aborted, killed, or still being written (SWMR).

Only rows marked ``completed`` are exposed, so a reader never sees a half-written point.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import numpy as np

from tamrig.errors import StorageError
from tamrig.storage import layout as L
from tamrig.storage import legacy, liveness
from tamrig.storage.metadata import from_json

F = TypeVar("F", bound=Callable[..., Any])

#: What h5py, numpy and json raise on a damaged file (bad checksums, missing objects,
#: mangled text); a reader turns them into a StorageError naming the file.
_DAMAGE = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError)


def _reads_file(method: F) -> F:
    """A damaged file is a StorageError with the file's name, never a traceback."""

    @functools.wraps(method)
    def wrapper(self: ScanFile, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _DAMAGE as exc:
            raise StorageError(f"{self.path}: damaged or unreadable scan file ({exc})") from exc

    return cast(F, wrapper)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return _text(value[()])
    return str(value)


class ScanFile:
    """A scan file opened for reading; ``refresh()`` picks up points written since."""

    def __init__(self, path: str | Path) -> None:
        from tamrig.storage import h5files

        self.path = Path(path)
        try:
            self._file, self.swmr = h5files.open_read(self.path)
        except OSError as exc:
            raise StorageError(f"cannot open scan file {self.path}: {exc}") from exc
        try:
            self._load()
        except BaseException:
            self._file.close()
            raise

    @_reads_file
    def _load(self) -> None:
        f = self._file
        if L.METADATA_JSON not in f or L.COMPLETED not in f:
            raise StorageError(f"{self.path} is not a tamrig scan file (no {L.METADATA_JSON})")
        self.metadata: dict[str, Any] = from_json(f[L.METADATA_JSON][()])
        self.plan: dict[str, Any] = from_json(f["/entry/plan"][()]) or {}
        self.rig: dict[str, Any] = from_json(f["/entry/rig"][()]) or {}
        self.calibration: dict[str, Any] | None = from_json(f["/entry/calibration"][()])
        self.devices: dict[str, Any] = from_json(f["/entry/instrument/devices_json"][()]) or {}
        self.start_time = _text(f["/entry/start_time"][()])
        #: Where each per-point column is kept: path -> table field (None: own dataset).
        self._stored = L.stored_columns(f, self.metadata.get("position_names", []))
        self._row_datasets = L.row_datasets(f, self.metadata.get("position_names", []))
        #: Per-point columns an older tamrig did not write (rebuilt or filled on reading).
        self.missing_columns = frozenset(
            p for p in L.POINT_FIELDS.values() if p not in self._stored
        )
        self._rows = np.zeros(0, dtype=np.int64)
        self._index_to_row: dict[int, int] = {}
        self.refresh()

    # ------------------------------------------------------------------ state
    @_reads_file
    def refresh(self) -> None:
        """See rows, status and events written since opening (no-op on a closed file)."""
        f = self._file
        if self.swmr:
            # `completed` first: every row it marks was flushed before it, so the other
            # datasets, refreshed afterwards, are at least that long.
            f[L.COMPLETED].refresh()
            for path in self._row_datasets:
                f[path].refresh()
            f[L.STATUS].refresh()
            f[L.END_TIME].refresh()
            f[L.EVENTS].refresh()
            if L.RAW_DATA in f:
                for path in (L.RAW_DATA, *(p for p, *_ in L.RAW_COLUMNS)):
                    f[path].refresh()
        flags = f[L.COMPLETED][()]
        n = min([len(flags), *(f[p].shape[0] for p in self._row_datasets)])
        self._rows = np.flatnonzero(flags[:n] == 1)
        if self._rows.size:
            last = int(self._rows[-1])
            for path in self._row_datasets:
                self._check_stored(f[path], last, f"row {last} of {path}")
        indices = f[f"{L.DATA}/point_index"][:n][self._rows]
        self._index_to_row = {int(i): int(r) for i, r in zip(indices, self._rows)}

    def _check_stored(self, ds: Any, row: int, what: str) -> None:
        """StorageError when ``row`` of ``ds`` lies past the end of the file: a copy cut
        short would otherwise read as zeros where a dataset has no filter to fail."""
        info = ds.id.get_chunk_info_by_coord((row, *(0,) * (ds.ndim - 1)))
        if info.byte_offset is None:
            return
        try:
            size = os.fstat(self._file.id.get_vfd_handle()).st_size
        except (OSError, TypeError, ValueError):
            size = self.path.stat().st_size
        if info.byte_offset + info.size > size:
            raise StorageError(
                f"{self.path}: {what} lies past the end of the file ({size} bytes): "
                "the file is cut short (an incomplete copy?)"
            )

    def _column(self, path: str, table: np.ndarray | None) -> np.ndarray:
        """Completed rows of one stored per-point column (``table``: the completed rows of
        the compound table, read once per call of the caller)."""
        field = self._stored[path]
        if field is not None and table is not None:
            return np.asarray(table[field])
        if not self._rows.size:
            return np.asarray(self._file[path][:0])
        return np.asarray(self._file[path][()][self._rows])

    def _table(self) -> np.ndarray | None:
        """Completed rows of the compound table (format version 2), None without one."""
        if L.TABLE not in self._row_datasets:
            return None
        if not self._rows.size:
            return np.asarray(self._file[L.TABLE][:0])
        return np.asarray(self._file[L.TABLE][()][self._rows])

    @property
    @_reads_file
    def status(self) -> str:
        """running | finished | aborted | fault | interrupted (writer gone mid-scan)."""
        stored = _text(self._file[L.STATUS][()])
        if stored == "running" and liveness.in_use(self.path) is False:
            return "interrupted"
        return stored

    @property
    @_reads_file
    def end_time(self) -> str:
        return _text(self._file[L.END_TIME][()])

    @property
    @_reads_file
    def image_shape(self) -> tuple[int, int]:
        shape = self.metadata["image_shape"]
        return int(shape[0]), int(shape[1])

    @property
    def pixel_size_nm(self) -> float:
        return float(self.metadata["pixel_size_nm"])

    def __len__(self) -> int:
        return int(self._rows.size)

    def indices(self) -> list[int]:
        """Point indices stored in full, in the order they were written."""
        return list(self._index_to_row)

    # ------------------------------------------------------------------ data
    @_reads_file
    def points(self) -> dict[str, np.ndarray]:
        """Per-point table of completed points (keys: ``layout.POINT_FIELDS``)."""
        out: dict[str, np.ndarray] = {}
        rebuilt: dict[str, np.ndarray] = {}
        table = self._table()
        if f"{L.DATA}/series" in self.missing_columns:  # written before the typed columns
            texts = self._file[L.POINT_JSON][()][self._rows] if self._rows.size else []
            rebuilt = legacy.columns_from_json(list(texts))
        for key, path in L.POINT_FIELDS.items():
            if key in rebuilt:
                out[key] = rebuilt[key]
                continue
            if path == f"{L.FIT}/significant" and path in self.missing_columns:
                # Written before noise points were flagged: every converged fit counted.
                converged = self._column(f"{L.FIT}/converged", table)
                out[key] = np.asarray(converged, dtype=np.uint8)
                continue
            if path in self.missing_columns:
                column = L.COLUMNS_BY_PATH[path]
                text = column.dtype.kind == "S"
                fill, dtype = ("", object) if text else (column.fill, column.dtype)
                out[key] = np.full(self._rows.size, fill, dtype=dtype)
                continue
            values = self._column(path, table)
            if values.dtype.kind == "S":
                values = np.array([_text(v) for v in values], dtype=object)
            out[key] = values
        return out

    @_reads_file
    def positions(self) -> dict[str, np.ndarray]:
        """Named device positions per completed point."""
        names = self.metadata.get("position_names", [])
        table = self._table()
        return {
            n: self._column(L.position_path(n), table)
            for n in names
            if L.position_path(n) in self._stored
        }

    @_reads_file
    def point_extra(self, i: int) -> dict[str, Any]:
        """Per-point JSON (device positions without a column) of point index ``i``."""
        return from_json(self._file[L.POINT_JSON][self._row(i)]) or {}

    def _row(self, i: int) -> int:
        try:
            return self._index_to_row[int(i)]
        except KeyError:
            raise StorageError(
                f"{self.path}: point {i} is not stored (stored: {len(self)} points)"
            ) from None

    @_reads_file
    def image(self, name: str, i: int) -> np.ndarray:
        """One per-point image by name: dtt, dtt_errors, pump_on_mean, ..., dark_err."""
        for path, _, _ in L.IMAGE_STACKS:
            if path.rsplit("/", 1)[1] == name:
                ds, row = self._file[path], self._row(i)
                self._check_stored(ds, row, f"{name} of point {i}")
                return np.asarray(ds[row], dtype=np.float64)
        names = [p.rsplit("/", 1)[1] for p, _, _ in L.IMAGE_STACKS]
        raise StorageError(f"unknown image {name!r} (expected one of {names})")

    def dtt(self, i: int) -> np.ndarray:
        """ΔT/T image of point index ``i`` (as in ``points()["index"]``)."""
        return self.image("dtt", i)

    def dtt_err(self, i: int) -> np.ndarray:
        return self.image("dtt_errors", i)

    @_reads_file
    def events(self) -> list[dict[str, Any]]:
        """The event / fault log: time, kind, point_index (-1: none), message."""
        return [
            {
                "time": float(e["time"]),
                "kind": _text(e["kind"]),
                "point_index": int(e["point_index"]),
                "message": _text(e["message"]),
            }
            for e in self._file[L.EVENTS][()]
        ]

    # ------------------------------------------------------------------ raw frames
    @property
    def has_raw_frames(self) -> bool:
        return L.RAW_DATA in self._file

    @_reads_file
    def frame_table(self) -> dict[str, np.ndarray]:
        """frame_id, frame_time, pump_on, point_index of every committed raw frame."""
        if not self.has_raw_frames:
            return {}
        paths = [L.RAW_DATA, *(p for p, *_ in L.RAW_COLUMNS)]
        n = min(self._file[p].shape[0] for p in paths)
        owners = self._file[L.RAW_COMMIT][:n]
        valid = owners >= 0
        return {p.rsplit("/", 1)[1]: self._file[p][:n][valid] for p, *_ in L.RAW_COLUMNS}

    @_reads_file
    def frames(self, i: int) -> np.ndarray:
        """Raw frames recorded for point index ``i`` (n, h, w)."""
        if not self.has_raw_frames:
            raise StorageError(f"{self.path}: no raw frames were recorded in this scan")
        self._row(i)
        owners = self._file[L.RAW_COMMIT][()]
        where = np.flatnonzero(owners == int(i))
        if where.size == 0:
            return np.zeros((0, *self.image_shape), dtype=L.RAW_DTYPE)
        return self._file[L.RAW_DATA][where[0] : where[-1] + 1]

    # ------------------------------------------------------------------ export / lifetime
    def export_csv(self, path: str | Path) -> None:
        from tamrig.storage.export import write_points_csv

        write_points_csv(self.points(), path)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ScanFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_scan(path: str | Path) -> ScanFile:
    """Open a scan file for reading (while it is written, or afterwards)."""
    return ScanFile(path)


__all__ = ["ScanFile", "open_scan"]
