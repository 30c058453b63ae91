"""Create every group and dataset of a new scan file (before SWMR writing starts).

SWMR forbids creating objects once it is on, so the whole tree -- per-point columns, image
stacks, event log, optional raw-frame datasets -- is made here, empty (length 0) and
extendable. Nothing is preallocated: a row exists only once a point was written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import h5py
import numpy as np

from tamrig.storage import layout as L
from tamrig.storage.metadata import ScanMetadata, to_json

COMPRESSION: dict[str, Any] = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def fixed_text(text: str, n_bytes: int) -> bytes:
    """UTF-8 bytes cut to ``n_bytes`` without splitting a character."""
    raw = text.encode("utf-8")
    if len(raw) <= n_bytes:
        return raw
    return raw[:n_bytes].decode("utf-8", "ignore").encode("utf-8")


def _group(parent: h5py.Group, name: str, nx_class: str) -> h5py.Group:
    group = parent.require_group(name)
    group.attrs["NX_class"] = nx_class
    return group


def _text(parent: h5py.Group, name: str, text: str, **attrs: Any) -> h5py.Dataset:
    """A scalar UTF-8 text of exactly its own length.

    Fixed-length, not variable-length: a variable-length string lives in the file's global
    heap, and libhdf5 loops forever decoding one whose heap entry was damaged, hanging any
    reader of the file. A fixed-length string is stored in its dataset like a number.
    """
    raw = text.encode("utf-8")
    ds = parent.create_dataset(name, data=raw, dtype=L.text_dtype(max(len(raw), 1)))
    for key, value in attrs.items():
        ds.attrs[key] = value
    return ds


def _fixed_scalar(parent: h5py.Group, path: str, text: str, n_bytes: int) -> None:
    parent.create_dataset(path, data=fixed_text(text, n_bytes), dtype=L.text_dtype(n_bytes))


def _describe(ds: h5py.Dataset, units: str | None, description: str) -> None:
    if units:
        ds.attrs["units"] = units
    ds.attrs["long_name"] = description


def _column(f: h5py.File, col: L.Column, rows_per_chunk: int = L.ROW_CHUNK) -> None:
    ds = f.create_dataset(
        col.path,
        shape=(0,),
        maxshape=(None,),
        chunks=(rows_per_chunk,),
        dtype=col.dtype,
        fillvalue=col.fill,
    )
    _describe(ds, col.units, col.description)


def _table(f: h5py.File, columns: dict[str, L.Column]) -> None:
    """The compound table of every per-point column without a dataset of its own."""
    dtype = L.table_dtype(columns)
    fill = np.array(tuple(c.fill for c in columns.values()), dtype=dtype)
    ds = f.create_dataset(
        L.TABLE,
        shape=(0,),
        maxshape=(None,),
        chunks=(L.TABLE_ROW_CHUNK,),
        dtype=dtype,
        fillvalue=fill[()],
    )
    ds.attrs["long_name"] = "per-point columns, one named field each (fields in order below)"
    ds.attrs["field_units"] = [c.units or "" for c in columns.values()]
    ds.attrs["field_descriptions"] = [c.description for c in columns.values()]


def _stack(
    f: h5py.File, path: str, shape: tuple[int, int], units: str | None, doc: str, deflate: bool
) -> None:
    ds = f.create_dataset(
        path,
        shape=(0, *shape),
        maxshape=(None, *shape),
        chunks=(1, *shape),
        dtype=L.IMAGE_DTYPE,
        fillvalue=np.nan,
        **(COMPRESSION if deflate else {}),
    )
    _describe(ds, units, doc)


def _nxdata_attrs(group: h5py.Group, signal: str, axes: list[str], dims: dict[str, int]) -> None:
    group.attrs["signal"] = signal
    group.attrs["axes"] = axes
    for name, dim in dims.items():
        group.attrs[f"{name}_indices"] = dim


def build(
    f: h5py.File,
    md: ScanMetadata,
    *,
    title: str,
    raw_frames: bool,
    file_name: str | None = None,
    version: int = L.FORMAT_VERSION,
) -> None:
    """Write the complete, empty scan tree and the static metadata into ``f``.

    ``file_name`` is the scan's own path when ``f`` is a side file renamed onto it later;
    ``version`` 1 makes the previous layout (every per-point column a dataset of its own).
    """
    from tamrig import __version__

    h, w = md.image_shape
    f.attrs["NX_class"] = "NXroot"
    f.attrs["default"] = "entry"
    f.attrs["file_name"] = file_name if file_name is not None else str(f.filename)
    f.attrs["file_time"] = now_iso()
    f.attrs["creator"] = "tamrig"
    f.attrs["creator_version"] = md.program_version or __version__
    f.attrs["HDF5_Version"] = h5py.version.hdf5_version
    f.attrs["h5py_version"] = h5py.version.version
    if version >= 2:
        f.attrs[L.FORMAT_ATTR] = version
    tabled = L.table_columns(md.position_names) if version >= 2 else {}

    entry = _group(f, "entry", "NXentry")
    entry.attrs["default"] = "data"
    _text(entry, "title", title)
    _text(entry, "start_time", now_iso())
    _fixed_scalar(f, L.END_TIME, "", L.TIME_BYTES)
    _fixed_scalar(f, L.STATUS, "running", L.STATUS_BYTES)
    _text(entry, "program_name", "tamrig", version=md.program_version)
    _text(entry, "tamrig_metadata", to_json(md.to_dict()), type="application/json")
    _text(entry, "rig", to_json(md.rig), type="application/json")
    _text(entry, "plan", to_json(md.plan), type="application/json")
    _text(entry, "calibration", to_json(md.calibration), type="application/json")
    entry.create_dataset("n_points_planned", data=md.n_points_planned)
    entry.create_dataset("pixel_size_nm", data=md.pixel_size_nm).attrs["units"] = "nm"

    note = _group(entry, "rig_file", "NXnote")
    _text(note, "file_name", md.rig_path)
    _text(note, "type", "application/toml")
    _text(note, "data", md.rig_text)

    sample = _group(entry, "sample", "NXsample")
    if md.sample and isinstance(md.sample.get("name"), str):
        _text(sample, "name", md.sample["name"])
    _text(sample, "sample_json", to_json(md.sample), type="application/json")

    instrument = _group(entry, "instrument", "NXinstrument")
    _text(instrument, "devices_json", to_json(md.devices), type="application/json")
    for role, snapshot in md.devices.items():
        safe = str(role).replace("/", "_")
        if safe in instrument:
            continue
        device = _group(instrument, safe, "NXcollection")
        _text(device, "settings_json", to_json(snapshot), type="application/json")

    data = _group(entry, "data", "NXdata")
    data_columns = [c for c in L.DATA_COLUMNS if c.path not in tabled]
    for col in data_columns:
        _column(f, col)
    _column(f, L.Column(L.DATA, "completed", L.U1, None, "1 once the point is complete", 0))
    _column(
        f,
        L.Column(
            L.DATA,
            "point_json",
            L.text_dtype(L.POINT_JSON_BYTES),
            None,
            "per-point device positions without a column of their own, as JSON",
            b"",
        ),
        L.POINT_JSON_ROW_CHUNK if version >= 2 else L.ROW_CHUNK,
    )
    deflated = L.DEFLATED_STACKS if version >= 2 else {p for p, _, _ in L.IMAGE_STACKS}
    for path, units, doc in L.IMAGE_STACKS[:2]:
        _stack(f, path, (h, w), units, doc, path in deflated)
    pixel = float(md.pixel_size_nm)
    for name, size in (("y", h), ("x", w)):  # pixel centres from the pixel-0 corner, as x0/y0
        axis = data.create_dataset(name, data=(np.arange(size) + 0.5) * pixel)
        _describe(axis, "nm", f"pixel-centre {name} from the image's pixel-0 corner")
    point_dims = {col.name: 0 for col in data_columns} | {"completed": 0}
    _nxdata_attrs(data, "dtt", ["delay_fs", "y", "x"], point_dims | {"y": 1, "x": 2})

    images = _group(entry, "images", "NXcollection")
    del images  # created for its NX_class; stacks are addressed by path
    for path, units, doc in L.IMAGE_STACKS[2:]:
        _stack(f, path, (h, w), units, doc, path in deflated)

    fit = _group(entry, "fit", "NXdata")
    fit_columns = [c for c in L.FIT_COLUMNS if c.path not in tabled]
    for col in fit_columns:
        _column(f, col)
    links = ["delay_fs", "fluence", "probe_wavelength_nm", "sweep", "point_index"]
    links = [name for name in links if f"{L.DATA}/{name}" in f]
    for name in links:
        fit[name] = f[f"{L.DATA}/{name}"]  # hard links: one dataset, two NXdata views
    fit["msd_nm2_errors"] = f[f"{L.FIT}/msd_err_nm2"]
    fit["sigma_nm_errors"] = f[f"{L.FIT}/sigma_err_nm"]
    fit["diffusivity_cm2_s_errors"] = f[f"{L.FIT}/diffusivity_err_cm2_s"]
    fit_dims = {c.name: 0 for c in fit_columns} | {name: 0 for name in links}
    _nxdata_attrs(fit, "msd_nm2", ["delay_fs"], fit_dims)
    fit.attrs["auxiliary_signals"] = ["sigma_nm", "diffusivity_cm2_s"]

    if version >= 2:
        _table(f, tabled)
    else:
        positions = _group(entry, "positions", "NXcollection")
        for name in md.position_names:
            path = L.position_path(name)
            _column(f, L.Column(L.POSITIONS, path.rsplit("/", 1)[1], L.F8, None, name))
        del positions

    events = f.create_dataset(
        L.EVENTS,
        shape=(0,),
        maxshape=(None,),
        chunks=(64,),
        dtype=L.EVENT_DTYPE,
        **COMPRESSION,
    )
    events.attrs["long_name"] = "event and fault log (time: s since the Unix epoch)"

    if raw_frames:
        _raw_frames(f, instrument, (h, w))


def _raw_frames(f: h5py.File, instrument: h5py.Group, shape: tuple[int, int]) -> None:
    """Uncompressed one-frame chunks: the write path is a plain memcpy to disk."""
    det = _group(instrument, "raw_frames", "NXdetector")
    det.attrs["long_name"] = "raw camera frames; a frame is valid once point_index is set"
    ds = f.create_dataset(
        L.RAW_DATA,
        shape=(0, *shape),
        maxshape=(None, *shape),
        chunks=(1, *shape),
        dtype=L.RAW_DTYPE,
    )
    _describe(ds, "counts", "raw frames as read from the camera")
    for path, dtype, units, doc, fill in L.RAW_COLUMNS:
        col = f.create_dataset(
            path,
            shape=(0,),
            maxshape=(None,),
            chunks=(L.FRAME_ROW_CHUNK,),
            dtype=dtype,
            fillvalue=fill,
        )
        _describe(col, units, doc)
