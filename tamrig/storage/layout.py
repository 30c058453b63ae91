"""Where everything lives in a scan file (NeXus; docs/file-format.md), in one place.

The writer creates exactly these objects before SWMR starts; the reader looks them up here.
Per-point quantities have one row per written point; images are stacks (n_points, height,
width). Rows are valid only where ``completed`` is 1. Since format version 2 the per-point
columns a NeXus viewer plots (``DATASET_COLUMNS``) are 1-D datasets of their own and all the
others are named fields of one compound table, ``/entry/points``: one write per point
instead of some forty. Version 1 files (every column its own dataset) are still read. ::

    /                       NXroot; default=entry, creator, file_time, HDF5_Version,
                            tamrig_format_version
    /entry                  NXentry; default=data
        title, start_time, end_time, scan_status (running|finished|aborted|fault)
        program_name (@version), tamrig_metadata, rig, plan, calibration (JSON text)
        n_points_planned, pixel_size_nm
        rig_file/           NXnote: file_name, type, data (the rig file as written)
        sample/             NXsample: name, sample_json
        instrument/         NXinstrument: devices_json, <role>/settings_json
            raw_frames/     NXdetector (optional): data (n, h, w) uint32, frame_id,
                            frame_time, pump_on, point_index
        data/               NXdata: signal dtt (n, h, w), dtt_errors; axes delay_fs, y, x;
                            per-point point_index, delay_fs, fluence (µJ/cm² whatever the
                            plan's unit), probe_wavelength_nm, point_json, completed
        fit/                NXdata: signal msd_nm2 (+ _errors), axis delay_fs; sigma_nm,
                            sigma_err_nm, msd_err_nm2, diffusivity_cm2_s (+ err)
        points              compound, one row per point: every other per-point column
                            (sweep, *_index, delay_fs_measured, fluence_measured,
                            fluence_label, n_abs..., amplitude, x0/y0..., position_<name>)
        images/             NXcollection: pump_on_mean/_err, pump_off_mean/_err,
                            dark_mean/_err, each (n, h, w)
        positions/          NXcollection: (version 1 only) one dataset per position name
        events              compound (time, kind, point_index, message): the event log
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import h5py
import numpy as np

ENTRY = "/entry"
DATA = "/entry/data"
FIT = "/entry/fit"
IMAGES = "/entry/images"
POSITIONS = "/entry/positions"
INSTRUMENT = "/entry/instrument"
RAW = "/entry/instrument/raw_frames"
EVENTS = "/entry/events"
STATUS = "/entry/scan_status"
END_TIME = "/entry/end_time"
METADATA_JSON = "/entry/tamrig_metadata"
COMPLETED = "/entry/data/completed"
POINT_JSON = "/entry/data/point_json"

#: The layout this tamrig writes; a file without the root attribute is version 1.
FORMAT_VERSION = 2
FORMAT_ATTR = "tamrig_format_version"
TABLE = "/entry/points"

ROW_CHUNK = 256  # rows per chunk of the 1-D per-point datasets
#: Rows per chunk of the table and of point_json: the writer rewrites the open chunk at every
#: point, so a chunk stays some tens of kB (a table row is ~0.6 kB, a point_json row 4 kB).
TABLE_ROW_CHUNK = 64
POINT_JSON_ROW_CHUNK = 8
FRAME_ROW_CHUNK = 4096  # rows per chunk of the 1-D raw-frame metadata
TEXT_BYTES = 64  # fixed-length labels (SWMR cannot grow variable-length heaps safely)
POINT_JSON_BYTES = 4096
EVENT_MESSAGE_BYTES = 1024
STATUS_BYTES = 16
TIME_BYTES = 40

IMAGE_DTYPE = np.dtype(np.float32)  # measured ΔT/T and counts: 7 digits are ample
#: Raw frames: a camera that sums exposures on board (accumulate = K) delivers up to
#: K × 4095 counts per pixel, far past 16 bits; files written before hold uint16.
RAW_DTYPE = np.dtype(np.uint32)


def text_dtype(n: int) -> np.dtype:
    return h5py.string_dtype("utf-8", n)


EVENT_DTYPE = np.dtype(
    [
        ("time", np.float64),
        ("kind", text_dtype(32)),
        ("point_index", np.int64),
        ("message", text_dtype(EVENT_MESSAGE_BYTES)),
    ]
)


@dataclass(frozen=True)
class Column:
    """One per-point scalar dataset."""

    group: str
    name: str
    dtype: np.dtype
    units: str | None
    description: str
    fill: object = np.nan

    @property
    def path(self) -> str:
        return f"{self.group}/{self.name}"


F8 = np.dtype(np.float64)
I8 = np.dtype(np.int64)
U1 = np.dtype(np.uint8)


def _f(group: str, name: str, units: str | None, description: str) -> Column:
    return Column(group, name, F8, units, description)


def _i(group: str, name: str, description: str) -> Column:
    return Column(group, name, I8, None, description, fill=-1)


# Coordinates of every point along dimension 0 of the ΔT/T stack.
DATA_COLUMNS: tuple[Column, ...] = (
    _i(DATA, "point_index", "position of the point in the plan's flattened order"),
    _i(DATA, "sweep", "repeat sweep number"),
    _i(DATA, "wavelength_index", "index into the plan's probe wavelengths"),
    _i(DATA, "fluence_index", "index into the plan's fluences"),
    _i(DATA, "delay_index", "index into the plan's delays"),
    _f(DATA, "delay_fs", "fs", "pump-probe delay set by the plan"),
    _f(DATA, "delay_fs_measured", "fs", "delay from the stage's read-back position"),
    _f(DATA, "fluence", "uJ/cm2", "target peak pump fluence F0 (NaN: no calibration)"),
    _f(DATA, "fluence_measured", "uJ/cm2", "peak pump fluence from the power reading"),
    Column(DATA, "fluence_label", text_dtype(TEXT_BYTES), None, "plan's fluence", fill=b""),
    _f(DATA, "n_abs", None, "target mean absorbed photons per emitter <N_abs>"),
    _f(DATA, "n_abs_measured", None, "<N_abs> from the power reading"),
    _f(DATA, "attenuator_setting", None, "attenuator angle (deg) or wheel slot (read back)"),
    Column(DATA, "series", text_dtype(TEXT_BYTES), None, "live-monitor curve", fill=b""),
    Column(DATA, "reference", U1, None, "1: the per-sweep reference delay", fill=0),
    _f(DATA, "probe_wavelength_nm", "nm", "probe wavelength"),
    _f(DATA, "power_w", "W", "pump power meter reading (NaN: not measured)"),
    _f(DATA, "power_time", "s", "middle of that reading, seconds since the Unix epoch"),
    _f(DATA, "timestamp", "s", "end of the point, seconds since the Unix epoch"),
    _i(DATA, "n_on", "pump-on frames averaged"),
    _i(DATA, "n_off", "pump-off frames averaged"),
    _i(DATA, "dropped_frames", "frames lost during the point"),
)

FIT_COLUMNS: tuple[Column, ...] = (
    _f(FIT, "sigma_nm", "nm", "Gaussian width σ of ΔT/T"),
    _f(FIT, "sigma_err_nm", "nm", "standard error of σ"),
    _f(FIT, "sigma0_nm", "nm", "σ₀ of the series at time zero"),
    _f(FIT, "sigma0_err_nm", "nm", "standard error of σ₀"),
    _f(FIT, "msd_nm2", "nm2", "mean-square displacement σ² − σ₀²"),
    _f(FIT, "msd_err_nm2", "nm2", "standard error of the MSD from this point's σ (σ₀'s is apart)"),
    _f(FIT, "diffusivity_cm2_s", "cm2/s", "apparent diffusivity MSD / 2t"),
    _f(FIT, "diffusivity_err_cm2_s", "cm2/s", "standard error of D from this point's σ"),
    _f(FIT, "amplitude", None, "Gaussian peak ΔT/T"),
    _f(FIT, "amplitude_err", None, "standard error of the amplitude"),
    _f(FIT, "offset", None, "constant background ΔT/T"),
    _f(FIT, "offset_err", None, "standard error of the offset"),
    _f(FIT, "x0_nm", "nm", "centre x from the pixel-0 corner"),
    _f(FIT, "y0_nm", "nm", "centre y from the pixel-0 corner"),
    _f(FIT, "x0_err_nm", "nm", "standard error of x0"),
    _f(FIT, "y0_err_nm", "nm", "standard error of y0"),
    _f(FIT, "sigma_x_nm", "nm", "σx of an anisotropic fit (NaN: isotropic)"),
    _f(FIT, "sigma_y_nm", "nm", "σy of an anisotropic fit (NaN: isotropic)"),
    _f(FIT, "reduced_chi2", None, "reduced χ² of the fit"),
    Column(FIT, "has_fit", U1, None, "1 when the point was fitted", fill=0),
    Column(FIT, "converged", U1, None, "1 when the fit converged", fill=0),
    Column(FIT, "significant", U1, None, "1 when the spot stands out of the noise", fill=0),
    Column(FIT, "message", text_dtype(TEXT_BYTES * 2), None, "fitter message", fill=b""),
)

COLUMNS_BY_PATH: dict[str, Column] = {c.path: c for c in (*DATA_COLUMNS, *FIT_COLUMNS)}
#: Columns files of earlier tamrig versions do not have (the reader rebuilds them from the
#: per-point JSON; such files are read, not resumed).
ADDED_COLUMNS = frozenset(
    [
        *(
            f"{DATA}/{name}"
            for name in ("fluence_measured", "n_abs_measured", "series", "reference", "power_time")
        ),
        f"{FIT}/significant",
    ]
)

#: Per-point columns stored as 1-D datasets of their own (format version 2): the NXdata
#: axes and fit results NeXus viewers plot, point_index (to place a row without tamrig) and
#: the errors the NeXus ``*_errors`` links point at.
DATASET_COLUMNS = frozenset(
    [
        *(f"{DATA}/{n}" for n in ("point_index", "delay_fs", "fluence", "probe_wavelength_nm")),
        *(
            f"{FIT}/{n}"
            for n in (
                "sigma_nm",
                "sigma_err_nm",
                "msd_nm2",
                "msd_err_nm2",
                "diffusivity_cm2_s",
                "diffusivity_err_cm2_s",
            )
        ),
    ]
)


def position_field(name: str) -> str:
    """Table field of one named device position (format version 2)."""
    return f"position_{name.replace('/', '_')}"


def table_columns(position_names: Sequence[str]) -> dict[str, Column]:
    """Column path -> column, for every per-point column kept in the table, in field order
    (a column's name is its field; a position keeps its version 1 dataset path)."""
    out = {c.path: c for c in (*DATA_COLUMNS, *FIT_COLUMNS) if c.path not in DATASET_COLUMNS}
    for name in position_names:
        out[position_path(name)] = Column(POSITIONS, position_field(name), F8, None, name)
    return out


def table_dtype(columns: dict[str, Column]) -> np.dtype:
    return np.dtype([(c.name, c.dtype) for c in columns.values()])


def format_version(f: h5py.File) -> int:
    return int(f.attrs.get(FORMAT_ATTR, 1))


def stored_columns(f: h5py.File, position_names: Sequence[str]) -> dict[str, str | None]:
    """Where ``f`` keeps each per-point column it has: path -> table field, or None for a
    dataset of its own (always None in a version 1 file)."""
    everything = [c.path for c in (*DATA_COLUMNS, *FIT_COLUMNS)]
    everything += [position_path(n) for n in position_names]
    if format_version(f) < 2:
        return {p: None for p in everything if p in f}
    fields = set(f[TABLE].dtype.names or ())
    tabled = table_columns(position_names)
    out: dict[str, str | None] = {}
    for path in everything:
        column = tabled.get(path)
        if column is None:
            if path in f:
                out[path] = None
        elif column.name in fields:
            out[path] = column.name
    return out


def row_datasets(f: h5py.File, position_names: Sequence[str]) -> list[str]:
    """Every dataset of ``f`` that grows by one row per point, ``completed`` aside."""
    stored = stored_columns(f, position_names)
    paths = [p for p, field in stored.items() if field is None]
    if format_version(f) >= 2:
        paths.append(TABLE)
    return [*paths, POINT_JSON, *(p for p, _, _ in IMAGE_STACKS)]


# Per-point images: (dataset path, units, description).
IMAGE_STACKS: tuple[tuple[str, str | None, str], ...] = (
    (f"{DATA}/dtt", None, "ΔT/T = (pump-on − pump-off) / pump-off"),
    (f"{DATA}/dtt_errors", None, "per-pixel standard error of ΔT/T"),
    (f"{IMAGES}/pump_on_mean", "counts", "dark-subtracted, normalised mean pump-on frame"),
    (f"{IMAGES}/pump_on_err", "counts", "per-pixel standard error of pump_on_mean"),
    (f"{IMAGES}/pump_off_mean", "counts", "dark-subtracted, normalised mean pump-off frame"),
    (f"{IMAGES}/pump_off_err", "counts", "per-pixel standard error of pump_off_mean"),
    (f"{IMAGES}/dark_mean", "counts", "dark frame used (NaN: none)"),
    (f"{IMAGES}/dark_err", "counts", "per-pixel standard error of dark_mean (NaN: none)"),
)
#: Stacks written through shuffle + deflate (format version 2; in version 1 every stack was).
#: ΔT/T and the per-pixel errors are noise: deflate saves 10-26 % of their bytes at
#: ~150-240 µs of CPU per 64² image, so they are stored unfiltered; mean images carry the
#: probe's profile and the dark frame repeats, so those stacks may compress (measured per
#: stack while writing, tamrig.storage.chunks.Compressibility).
DEFLATED_STACKS = frozenset(
    {
        f"{IMAGES}/pump_on_mean",
        f"{IMAGES}/pump_off_mean",
        f"{IMAGES}/dark_mean",
        f"{IMAGES}/dark_err",
    }
)
#: Stacks whose image usually repeats from point to point (one dark frame per scan).
REPEATED_IMAGES = frozenset({f"{IMAGES}/dark_mean", f"{IMAGES}/dark_err"})

# Raw frames: (dataset path, dtype, units, description); "data" is the (n, h, w) stack.
RAW_COLUMNS: tuple[tuple[str, np.dtype, str | None, str, object], ...] = (
    (f"{RAW}/frame_id", I8, None, "camera frame counter", -1),
    (f"{RAW}/frame_time", F8, "s", "camera timestamp", np.nan),
    (f"{RAW}/pump_on", np.dtype(np.int8), None, "pump tag: 1 on, 0 off, -1 untagged", -1),
    (f"{RAW}/point_index", I8, None, "scan point the frame belongs to", -1),
)
RAW_DATA = f"{RAW}/data"
RAW_COMMIT = f"{RAW}/point_index"  # written last for each block: its length commits frames

# Reader-facing names of per-point columns -> dataset paths.
POINT_FIELDS: dict[str, str] = {
    "index": f"{DATA}/point_index",
    "sweep": f"{DATA}/sweep",
    "wavelength_index": f"{DATA}/wavelength_index",
    "fluence_index": f"{DATA}/fluence_index",
    "delay_index": f"{DATA}/delay_index",
    "delay_fs": f"{DATA}/delay_fs",
    "delay_fs_measured": f"{DATA}/delay_fs_measured",
    "fluence_label": f"{DATA}/fluence_label",
    "fluence_uj_cm2": f"{DATA}/fluence",
    "fluence_measured_uj_cm2": f"{DATA}/fluence_measured",
    "n_abs": f"{DATA}/n_abs",
    "n_abs_measured": f"{DATA}/n_abs_measured",
    "attenuator_setting": f"{DATA}/attenuator_setting",
    "series": f"{DATA}/series",
    "reference": f"{DATA}/reference",
    "probe_wavelength_nm": f"{DATA}/probe_wavelength_nm",
    "power_w": f"{DATA}/power_w",
    "power_time": f"{DATA}/power_time",
    "timestamp": f"{DATA}/timestamp",
    "n_on": f"{DATA}/n_on",
    "n_off": f"{DATA}/n_off",
    "dropped_frames": f"{DATA}/dropped_frames",
    **{c.name: c.path for c in FIT_COLUMNS},
}


def position_path(name: str) -> str:
    """Dataset of one named device position (slashes would create sub-groups)."""
    return f"{POSITIONS}/{name.replace('/', '_')}"
