"""Export of the per-point fit table to CSV (one row per completed point, units in headers)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from tamrig.errors import StorageError
from tamrig.storage import layout as L

# Column order of the CSV: identification first, then the transport numbers.
CSV_FIELDS = (
    "index", "sweep", "reference", "delay_fs", "delay_fs_measured", "fluence_label",
    "fluence_uj_cm2", "n_abs", "attenuator_setting", "probe_wavelength_nm", "power_w",
    "timestamp", "sigma_nm", "sigma_err_nm",
    "sigma0_nm", "sigma0_err_nm", "msd_nm2", "msd_err_nm2", "diffusivity_cm2_s",
    "diffusivity_err_cm2_s", "amplitude", "amplitude_err", "x0_nm", "y0_nm", "converged",
    "significant",
)  # fmt: skip


def _units(key: str) -> str:
    path = L.POINT_FIELDS[key]
    for col in (*L.DATA_COLUMNS, *L.FIT_COLUMNS):
        if col.path == path:
            return col.units or ""
    return ""


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "" if math.isnan(float(value)) else repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def write_points_csv(points: dict[str, np.ndarray], path: str | Path) -> None:
    """Write ``points`` (from ScanFile.points) to ``path``; NaN becomes an empty cell."""
    path = Path(path)
    header = [f"{k} [{_units(k)}]" if _units(k) else k for k in CSV_FIELDS]
    n = len(points["index"])
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for r in range(n):
                writer.writerow([_cell(points[k][r]) for k in CSV_FIELDS])
    except OSError as exc:
        raise StorageError(f"cannot write CSV {path}: {exc.strerror}") from exc
