"""ScanWriter: append scan points to a NeXus/HDF5 file that readers may open at any time.

Write protocol per point (what makes kill -9 and full disks survivable):
1. every per-point dataset grows by one row and receives its value (the columns without a
   dataset of their own as one row of the compound table),
2. flush (data and metadata reach the OS),
3. ``/entry/data/completed`` grows and gets 1 for that row, flush again.
A reader (or resume) counts only rows marked completed, so a half-written point is ignored.
The file runs in SWMR mode, whose ordered metadata flushes keep it openable at every instant.
"""

from __future__ import annotations

import errno
import functools
import operator
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import h5py
import numpy as np

from tamrig.devices.camera import FrameBlock
from tamrig.errors import StorageError
from tamrig.records import PointRecord
from tamrig.storage import chunks, h5files, liveness, skeleton, space
from tamrig.storage import layout as L
from tamrig.storage.columns import ColumnChunk, chunk_writable
from tamrig.storage.metadata import ScanMetadata, from_json
from tamrig.storage.rows import check_shapes, point_row
from tamrig.storage.soundness import check_scan_file

FINAL_STATUSES = ("finished", "aborted", "fault")
P = ParamSpec("P")
R = TypeVar("R")


def _locked(
    method: Callable[Concatenate[ScanWriter, P], R],
) -> Callable[Concatenate[ScanWriter, P], R]:
    """One writer call at a time: the engine thread writes points while a GUI thread may
    log a pause or an abort."""

    @functools.wraps(method)
    def wrapper(self: ScanWriter, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


_H5_ERRORS = (OSError, RuntimeError)
#: What reopening a damaged file raises besides h5py errors: missing objects, mangled JSON.
_DAMAGE_ERRORS = (KeyError, ValueError, TypeError, IndexError, AttributeError)


def _probe_folder(folder: Path) -> None:
    """Fail before anything starts if the output folder cannot take a new file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create output folder {folder}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(f"output folder {folder} is not writable")


class ScanWriter:
    """Point-by-point writer of one scan file; create with :meth:`create` or :meth:`resume`."""

    def __init__(
        self, path: Path, file: h5py.File, metadata: ScanMetadata, *, pending: Path | None = None
    ) -> None:
        self.path = path
        self.metadata = metadata
        self._file = file
        self._lock = threading.RLock()
        #: Side file written until the first point is stored, then renamed onto ``path``
        #: (``overwrite``: the old scan stays until the new one has a point).
        self._pending = pending
        # tells readers this file is being written (the lock follows the file's rename)
        self._liveness_fd = liveness.hold(pending or path)
        self._closed = False
        self.check_space = True  # look ahead for a full disk (see tamrig.storage.space)
        self._room = space.Room(path)
        self._broken: str | None = None
        self._finished = False
        self._completed_ds = file[L.COMPLETED]
        flags = self._completed_ds[()]
        indices = file[f"{L.DATA}/point_index"][: len(flags)]
        self._rows = rows = len(flags)
        self._completed: set[int] = {int(i) for i, ok in zip(indices, flags) if ok == 1}
        stored = L.stored_columns(file, metadata.position_names)
        #: Column path -> table field, for the columns kept in the table (format version 2).
        self._fields = {path: field for path, field in stored.items() if field is not None}
        own = [path for path, field in stored.items() if field is None]
        # What write_point does per point, worked out once: the 1-D columns' writers, the
        # values they take (fetched from a row's scalars in one call), which are text.
        own.append(L.POINT_JSON)
        self._columns = [_row_writer(file[path], rows) for path in own]
        self._column_values = operator.itemgetter(*own)
        texts = [(k, _text_bytes(file[path].dtype)) for k, path in enumerate(own)]
        self._column_texts = [(k, n_bytes) for k, n_bytes in texts if n_bytes]
        self._table: ColumnChunk | _DatasetRows | None = None
        self._table_values: Callable[[dict[str, Any]], tuple[Any, ...]] = _no_values
        self._table_texts: list[tuple[int, int]] = []
        if self._fields:
            table = file[L.TABLE]
            self._table = _row_writer(table, rows)
            by_field = {field: path for path, field in self._fields.items()}
            self._table_values = _fields_getter(table, by_field)
            self._table_texts = [
                (k, _text_bytes(table.dtype[name]))
                for k, name in enumerate(table.dtype.names)
                if _text_bytes(table.dtype[name])
            ]
        self._stacks = [(path, file[path]) for path, _, _ in L.IMAGE_STACKS]
        #: Per stack: its low-level handle and the shape of one image (the chunk's tail).
        self._stack_rows = [(ds.id, ds.shape[1:]) for _, ds in self._stacks]
        self._levels = {path: chunks.deflate_level(ds) for path, ds in self._stacks}
        self._unfiltered = {p for p, ds in self._stacks if chunks.unfiltered_images(ds)}
        self._same: dict[str, tuple[bytes, bytes]] = {}  # last dark image and its chunk
        self._packing: dict[str, chunks.Compressibility] = {}  # deflate or stored, measured
        self._completed_column = _row_writer(self._completed_ds, rows)
        self._events = file[L.EVENTS]
        self._raw: dict[str, h5py.Dataset] = {}
        if L.RAW_DATA in file:
            self._raw = {L.RAW_DATA: file[L.RAW_DATA]}
            self._raw.update({p: file[p] for p, *_ in L.RAW_COLUMNS})
        self._n_frames = len(self._raw[L.RAW_COMMIT]) if self._raw else 0
        h, w = metadata.image_shape
        #: Look-ahead per point: twice its float32 images (HDF5 may write a chunk twice)
        #: and 64 KiB for its table row and columns.
        self._point_bytes = 2 * len(self._stacks) * h * w * L.IMAGE_DTYPE.itemsize + 2**16

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        path: str | Path,
        metadata: ScanMetadata,
        *,
        overwrite: bool = False,
        record_raw_frames: bool = False,
        format_version: int = L.FORMAT_VERSION,
    ) -> ScanWriter:
        """New scan file at ``path``; StorageError if it exists (unless ``overwrite``).

        ``format_version`` 1 writes the previous layout (to test reading and resuming it)."""
        path = Path(path)
        try:
            exists = path.exists()
        except OSError as exc:
            raise StorageError(f"cannot access {path}: {exc.strerror}") from exc
        if exists and not overwrite:
            raise StorageError(
                f"{path} already exists; choose another --out or pass --overwrite to replace it"
            )
        if path.is_dir():
            raise StorageError(f"{path} is a folder; expected a file name such as scan.h5")
        if exists and liveness.in_use(path):
            raise StorageError(f"{path} is being written by a running scan; not overwriting it")
        _probe_folder(path.parent)
        space.ensure_room(path, 2**20, "the new scan file", None)
        _remove_stale_side_files(path)
        # Build the tree in a side file, open it for SWMR writing and log the start there,
        # then rename it into place: the target path only ever holds a scan with a writer
        # behind it (or a finished one) -- never a half-made tree, never a file a Ctrl-C
        # during start-up left "running" without a word. An existing scan being replaced
        # stays until the new one has stored its first point.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        title = str(metadata.plan.get("name") or path.stem)
        f: h5py.File | None = None
        writer: ScanWriter | None = None
        try:
            f = h5py.File(tmp, "w", libver=h5files.LIBVER)
            skeleton.build(
                f,
                metadata,
                title=title,
                raw_frames=record_raw_frames,
                file_name=str(path),
                version=format_version,
            )
            f.close()
            f = None
            writer = cls(path, h5files.open_swmr_write(tmp), metadata, pending=tmp)
            writer.log_event("start", f"scan started, {metadata.n_points_planned} points planned")
            if not exists:
                writer._promote()
        except BaseException as exc:  # no side file is left behind, whatever went wrong
            if writer is not None:
                writer.close()  # unlinks the side file unless it became the scan
            elif f is not None:
                h5files.abandon(f)
            tmp.unlink(missing_ok=True)
            if isinstance(exc, _H5_ERRORS):
                raise StorageError(f"cannot create {path}: {_reason(exc, path)}") from exc
            raise
        return writer

    @classmethod
    def resume(cls, path: str | Path) -> ScanWriter:
        """Reopen a killed, aborted or finished scan file and continue appending.

        Rows of a point that was being written when the writer died are cut off, so
        ``completed_indices()`` is exactly the set of points stored in full.
        """
        path = Path(path)
        check_scan_file(path)  # read-only: a file refused here stays unchanged
        if liveness.in_use(path):
            raise StorageError(
                f"cannot resume {path}: it is still being written by a running scan; "
                "stop that scan first"
            )
        _probe_folder(path.parent)
        try:
            with h5files.open_update(path) as f:
                if L.METADATA_JSON not in f or L.COMPLETED not in f:
                    raise StorageError(f"cannot resume {path}: not a tamrig scan file")
                metadata = ScanMetadata.from_dict(from_json(f[L.METADATA_JSON][()]))
                stored = L.stored_columns(f, metadata.position_names)
                everything = (*L.DATA_COLUMNS, *L.FIT_COLUMNS)
                missing = [c.path for c in everything if c.path not in stored]
                if missing:
                    raise StorageError(
                        f"cannot resume {path}: written by an older tamrig, it lacks the "
                        f"per-point column(s) {', '.join(missing)}; start a new scan "
                        "(the file stays readable with tamrig analyze)"
                    )
                dropped_rows, dropped_frames = _truncate_incomplete(f, metadata)
                f[L.STATUS][()] = skeleton.fixed_text("running", L.STATUS_BYTES)
                f[L.END_TIME][()] = b""
            writer = cls(path, h5files.open_swmr_write(path), metadata)
        except _H5_ERRORS as exc:
            raise StorageError(f"cannot resume {path}: {_reason(exc, path)}") from exc
        except _DAMAGE_ERRORS as exc:
            raise StorageError(f"cannot resume {path}: damaged scan file ({exc})") from exc
        writer.log_event(
            "resume",
            f"resumed with {len(writer.completed_indices())} completed points "
            f"(discarded {dropped_rows} incomplete row(s), {dropped_frames} raw frame(s))",
        )
        return writer

    # ------------------------------------------------------------------ state
    def completed_indices(self) -> set[int]:
        return set(self._completed)

    @property
    def finished(self) -> bool:
        """True once :meth:`finish` stored a final status."""
        return self._finished

    @property
    def n_frames(self) -> int:
        return self._n_frames

    # ------------------------------------------------------------------ writing
    @_locked
    def write_point(self, record: PointRecord) -> None:
        """Append one complete point and flush it to disk (visible to SWMR readers)."""
        self._check_open()
        if record.index in self._completed:
            raise StorageError(f"{self.path}: point {record.index} is already stored")
        row = point_row(record, self.metadata)
        problem = check_shapes(row, self.metadata.image_shape, record.index)
        if problem:
            raise StorageError(f"{self.path}: {problem}")
        if self.check_space:
            self._room.ensure(self._point_bytes, f"point {record.index}", len(self._completed))
        n = self._rows
        scalars = row.scalars
        try:
            values = _with_texts(self._column_values(scalars), self._column_texts)
            for column, value in zip(self._columns, values):
                column.append(n, value)
            if self._table is not None:
                values = _with_texts(self._table_values(scalars), self._table_texts)
                self._table.append(n, tuple(values))
            for (dsid, tail), (data, direct) in zip(
                self._stack_rows, self._image_chunks(row.images)
            ):
                _append_row(dsid, tail, n, data, direct)
            self._file.flush()
            self._completed_column.append(n, 1)
            self._file.flush()
        except _H5_ERRORS as exc:
            raise self._failed(f"writing point {record.index}", exc) from exc
        self._rows = n + 1
        self._completed.add(record.index)
        if self._pending is not None:  # the first point is stored: replace the old scan
            self._promote()
        if row.overflow:
            self.log_event("storage", "per-point positions too long; kept names only", n)

    def _image_chunks(self, images: dict[str, np.ndarray]) -> list[tuple[np.ndarray | bytes, bool]]:
        """Per stack, in order: its finished chunk (and True) or, where HDF5 is to filter
        it, the image as a (1, h, w) float32 array (and False). A finished chunk is the
        image's own bytes for an unfiltered stack;
        deflated, or a stored deflate stream where deflate does not pay (measured,
        :class:`tamrig.storage.chunks.Compressibility`). The dark frame repeats point after
        point: its chunk is reused while its bytes stay the same."""
        out: list[tuple[np.ndarray | bytes, bool]] = []
        todo: list[int] = []
        cells: list[np.ndarray] = []
        levels: list[int] = []
        measuring: list[bool] = []
        for path, _ in self._stacks:
            cell = np.ascontiguousarray(images[path], dtype=L.IMAGE_DTYPE)
            configured = self._levels[path]
            if configured is None:
                unfiltered = path in self._unfiltered
                out.append((cell, True) if unfiltered else (cell[np.newaxis], False))
                continue
            if path in L.REPEATED_IMAGES:
                raw = cell.tobytes()
                last = self._same.get(path)
                if last is not None and last[0] == raw:
                    out.append((last[1], True))
                    continue
            choice = self._packing.get(path)
            if choice is None:
                choice = self._packing[path] = chunks.Compressibility()
            todo.append(len(out))
            cells.append(cell)
            if choice.measuring():
                measuring.append(True)
                levels.append(configured)
            else:
                measuring.append(False)
                levels.append(choice.level(configured))
            out.append((cell, True))  # replaced by its chunk below
        encoded = chunks.encode_all(cells, levels)
        for k, cell, chunk, measured in zip(todo, cells, encoded, measuring):
            path = self._stacks[k][0]
            if measured and not self._packing[path].measured(cell.nbytes, len(chunk)):
                chunk = chunks.encode(cell, chunks.STORED)
            out[k] = (chunk, True)
            if path in L.REPEATED_IMAGES:
                self._same[path] = (cell.tobytes(), chunk)
        return out

    @_locked
    def write_frames(self, index: int, block: FrameBlock) -> None:
        """Append raw camera frames of point ``index`` (needs record_raw_frames=True).

        Frames become durable with the next :meth:`write_point` flush; a frame counts once
        its ``point_index`` is written, which happens last.
        """
        self._check_open()
        if not self._raw:
            raise StorageError(
                f"{self.path}: raw-frame recording is off for this scan "
                "(create the file with record_raw_frames=True)"
            )
        data = block.data
        expected = self._raw[L.RAW_DATA].shape[1:]
        if data.ndim != 3 or data.shape[1:] != expected:
            raise StorageError(
                f"{self.path}: frame block of shape {data.shape} does not match the "
                f"recorded frame size {expected}"
            )
        k = len(block)
        if k == 0:
            return
        stored = self._raw[L.RAW_DATA].dtype
        if (
            data.dtype.itemsize > stored.itemsize
            and data.size
            and data.max() > np.iinfo(stored).max
        ):
            raise StorageError(
                f"{self.path}: raw frames of point {index} reach {data.max()} counts, more "
                f"than the file's {stored} frames hold; not storing them truncated"
            )
        if self.check_space:
            need = 2 * data.size * stored.itemsize
            self._room.ensure(need, f"raw frames of point {index}", len(self._completed))
        n0, n1 = self._n_frames, self._n_frames + k
        pump = (
            np.full(k, -1, np.int8)
            if block.pump_on is None
            else np.asarray(block.pump_on, dtype=np.int8)
        )
        frames = np.ascontiguousarray(data, dtype=stored)
        columns: list[tuple[str, np.ndarray]] = [
            (f"{L.RAW}/frame_id", np.asarray(block.frame_id, np.int64)),
            (f"{L.RAW}/frame_time", np.asarray(block.timestamp_s, np.float64)),
            (f"{L.RAW}/pump_on", pump),
            (L.RAW_COMMIT, np.full(k, index, np.int64)),
        ]
        with self._guard(f"writing raw frames of point {index}"):
            stack = self._raw[L.RAW_DATA]
            stack.resize((n1, *stack.shape[1:]))
            if stack.chunks == (1, *expected) and stack.compression is None:
                # One frame is one unfiltered chunk: hand it to the file as it is, bypassing
                # HDF5's selection and chunk-cache machinery.
                for offset, frame in enumerate(frames):
                    stack.id.write_direct_chunk((n0 + offset, 0, 0), frame)
            else:
                stack.write_direct(frames, dest_sel=np.s_[n0:n1])
            for path, values in columns:
                ds = self._raw[path]
                ds.resize((n1, *ds.shape[1:]))
                ds.write_direct(values, dest_sel=np.s_[n0:n1])
        self._n_frames = n1

    @_locked
    def flush(self) -> None:
        """Push everything written so far to the disk and to SWMR readers (write_point does
        this itself; call it to make raw frames of a long point visible earlier)."""
        self._check_open()
        with self._guard("flushing"):
            self._file.flush()

    @_locked
    def log_event(self, kind: str, message: str, index: int | None = None) -> None:
        """Record a fault, pause, resume... in the file's event log (flushed at once)."""
        self._check_open()
        entry = np.zeros((), dtype=L.EVENT_DTYPE)
        entry["time"] = time.time()
        entry["kind"] = skeleton.fixed_text(kind, 32)
        entry["point_index"] = -1 if index is None else int(index)
        entry["message"] = skeleton.fixed_text(message, L.EVENT_MESSAGE_BYTES)
        with self._guard(f"logging event {kind!r}"):
            n = self._events.shape[0]
            self._events.resize((n + 1,))
            self._events[n] = entry
            self._file.flush()

    @_locked
    def finish(self, status: str) -> None:
        """Mark the scan finished / aborted / fault and stamp end_time."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {FINAL_STATUSES}, not {status!r}")
        self._check_open()
        self.log_event("finish", f"scan {status}: {len(self._completed)} points stored")
        with self._guard("finishing the scan"):
            self._file[L.END_TIME][()] = skeleton.fixed_text(skeleton.now_iso(), L.TIME_BYTES)
            self._file[L.STATUS][()] = skeleton.fixed_text(status, L.STATUS_BYTES)
            self._file.flush()
        self._finished = True

    @_locked
    def close(self) -> None:
        """Close the file (idempotent). After a storage failure, closing cannot raise again."""
        if self._closed:
            return
        self._closed = True
        liveness.release(self._liveness_fd)
        if self._pending is not None:  # no point stored: the old scan stays as it was
            h5files.abandon(self._file)
            self._pending.unlink(missing_ok=True)
            return
        if self._broken is not None:
            # Completed rows were flushed before the failure; leave the disk as it is.
            h5files.abandon(self._file)
            return
        try:
            self._file.close()
        except _H5_ERRORS as exc:
            self._broken = str(exc)
            h5files.abandon(self._file)
            raise StorageError(f"closing {self.path} failed: {_reason(exc, self.path)}") from exc

    def __enter__(self) -> ScanWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._finished and not self._closed and self._broken is None:
                if exc_type is None:
                    self.finish("finished")
                else:
                    self.finish("aborted" if issubclass(exc_type, KeyboardInterrupt) else "fault")
        finally:
            self.close()

    # ------------------------------------------------------------------ internals
    def _promote(self) -> None:
        """Rename the side file onto the scan's path (the open file follows its rename)."""
        if self._pending is None:
            return
        try:
            os.replace(self._pending, self.path)
        except OSError as exc:
            raise StorageError(
                f"cannot put the new scan at {self.path} ({exc.strerror}); "
                f"it is kept in {self._pending}"
            ) from exc
        self._pending = None

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"{self.path}: the scan file is closed")
        if self._broken is not None:
            raise StorageError(
                f"{self.path}: writing stopped after an earlier failure ({self._broken})"
            )

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except _H5_ERRORS as exc:
            raise self._failed(action, exc) from exc

    def _failed(self, action: str, exc: BaseException) -> StorageError:
        """Stop writing after a failed HDF5 call; the error to raise, in words."""
        reason = _reason(exc, self.path)
        self._broken = f"{action}: {reason}"
        return StorageError(
            f"{self.path}: {action} failed: {reason}. Writing has stopped; the "
            f"{len(self._completed)} completed point(s) already in the file are kept."
        )


class _DatasetRows:
    """Rows of a per-point dataset whose chunks HDF5 must encode (filtered, or not a plain
    1-D chunked column): each row through HDF5's own write path."""

    def __init__(self, ds: h5py.Dataset) -> None:
        self._ds = ds

    def append(self, row: int, value: Any) -> None:
        ds = self._ds
        _append_row(ds.id, ds.shape[1:], row, np.array([value], ds.dtype), False)


def _row_writer(ds: h5py.Dataset, rows: int) -> ColumnChunk | _DatasetRows:
    """How rows are appended to ``ds``, which holds ``rows`` rows now."""
    return ColumnChunk(ds, rows) if chunk_writable(ds) else _DatasetRows(ds)


def _no_values(scalars: dict[str, Any]) -> tuple[Any, ...]:
    return ()


def _fields_getter(
    table: h5py.Dataset, paths: dict[str, str]
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The values of a table row from a row's scalars, in field order (``paths``: field ->
    column path); a field without a column (not written by this tamrig) keeps its fill."""
    names = table.dtype.names or ()
    if all(name in paths for name in names):
        getter = operator.itemgetter(*(paths[name] for name in names))
        if len(names) == 1:
            return lambda scalars: (getter(scalars),)
        return cast(Callable[[dict[str, Any]], tuple[Any, ...]], getter)
    fill = table.fillvalue
    plan = [(paths.get(name), fill[name]) for name in names]
    return lambda scalars: tuple(default if p is None else scalars[p] for p, default in plan)


def _with_texts(values: Any, texts: list[tuple[int, int]]) -> list[Any] | tuple[Any, ...]:
    """``values`` with the text columns among them (position, length in bytes) as fixed
    length UTF-8 bytes."""
    if not texts:
        return values
    values = list(values)
    for k, n_bytes in texts:
        values[k] = skeleton.fixed_text(str(values[k]), n_bytes)
    return values


def _text_bytes(dtype: np.dtype) -> int:
    """Length of a fixed-length text column in bytes; 0 for any other."""
    return int(dtype.itemsize) if dtype.kind == "S" else 0


def _append_row(
    dsid: h5py.h5d.DatasetID, tail: tuple[int, ...], n: int, data: np.ndarray | bytes, direct: bool
) -> None:
    """Grow a dataset of rows shaped ``tail`` to ``n + 1`` rows and write row ``n`` through
    HDF5's own calls: per point this runs for a dozen datasets, and the high-level indexing
    machinery cost more than the write itself. ``direct``: ``data`` is the row's finished
    chunk (already encoded by the dataset's filters, see tamrig.storage.chunks); else a
    C-contiguous (1, ...) array of the dataset's dtype that HDF5 writes through its filters."""
    dsid.set_extent((n + 1, *tail))
    corner = (n, *(0,) * len(tail))
    if direct:
        dsid.write_direct_chunk(corner, data)
        return
    space = dsid.get_space()
    space.select_hyperslab(corner, (1, *tail))
    dsid.write(_memory_space((1, *tail)), space, data)


@functools.cache
def _memory_space(shape: tuple[int, ...]) -> Any:
    """The in-memory dataspace of a row (a handful of shapes per scan, reused)."""
    return h5py.h5s.create_simple(shape)


def _reason(exc: BaseException, path: Path) -> str:
    """Turn an HDF5 error into words: is the disk full, the file too large, the folder read-only?"""
    text = str(exc)
    err = getattr(exc, "errno", None)
    found = re.search(r"errno = (\d+)", text)
    if err is None and found:
        err = int(found.group(1))
    if err in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"{os.strerror(err)} (disk full or file-size limit reached)"
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return text
    hint = "disk full" if free < 64 * 2**20 else "write refused by the system"
    if err in (errno.EACCES, errno.EROFS, errno.EPERM):
        hint = "no write permission"
    return f"{text} ({hint}? {free / 2**20:.0f} MiB free on the disk)"


def _remove_stale_side_files(path: Path) -> None:
    """Delete side files of earlier creations of ``path`` whose process has died."""
    for side in path.parent.glob(f".{path.name}.*.tmp"):
        pid = side.name[len(path.name) + 2 : -len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            side.unlink(missing_ok=True)
        except OSError:
            continue  # alive (owned by someone else): not ours to remove


def _truncate_incomplete(f: h5py.File, md: ScanMetadata) -> tuple[int, int]:
    """Cut rows/frames a killed writer left half-written. Returns (rows, frames) dropped."""
    flags = f[L.COMPLETED][()]
    done = np.flatnonzero(flags == 1)
    keep = int(done[-1]) + 1 if done.size else 0
    longest = 0
    for path in L.row_datasets(f, md.position_names):
        ds = f[path]
        if ds.shape[0] < keep:
            raise StorageError(
                f"{f.filename}: {path} has {ds.shape[0]} rows, fewer than the {keep} completed"
            )
        longest = max(longest, ds.shape[0])
        ds.resize((keep, *ds.shape[1:]))
    f[L.COMPLETED].resize((keep,))
    dropped_frames = 0
    if L.RAW_DATA in f:
        done_points = set(f[f"{L.DATA}/point_index"][()][flags[:keep] == 1].tolist())
        raw_paths = [L.RAW_DATA, *(p for p, *_ in L.RAW_COLUMNS)]
        committed = min(f[p].shape[0] for p in raw_paths)
        owners = f[L.RAW_COMMIT][:committed]
        n = committed
        while n > 0 and int(owners[n - 1]) not in done_points:
            n -= 1
        dropped_frames = max(f[p].shape[0] for p in raw_paths) - n
        for p in raw_paths:
            f[p].resize((n, *f[p].shape[1:]))
    return longest - keep, dropped_frames
