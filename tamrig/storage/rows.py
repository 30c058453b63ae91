"""Turn a PointRecord into the values of one row of the scan file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tamrig.records import PointRecord
from tamrig.storage import layout as L
from tamrig.storage.metadata import ScanMetadata, finite_or_nan, to_json


@dataclass
class Row:
    scalars: dict[str, Any]  # dataset path -> value
    images: dict[str, np.ndarray]  # dataset path -> (h, w) image
    overflow: bool = False  # point JSON was too long and was reduced


def _nan_image(shape: tuple[int, int]) -> np.ndarray:
    return np.full(shape, np.nan, dtype=L.IMAGE_DTYPE)


def _names_that_fit(keys: list[str]) -> str:
    """``{"truncated": true, "keys": [...]}`` within the fixed-length cell: as many names as
    fit, and how many there were. A longer text would be cut and leave unreadable JSON."""
    shown = list(keys)
    while True:
        text = to_json({"truncated": True, "keys": shown, "n_keys": len(keys)})
        if len(text.encode("utf-8")) <= L.POINT_JSON_BYTES:
            return text
        shown = shown[: len(shown) // 2]


#: Paths of the record's own per-point values, in the order :func:`point_row` lists them.
_RECORD_PATHS = tuple(
    f"{L.DATA}/{name}"
    for name in (
        "point_index",
        "sweep",
        "wavelength_index",
        "fluence_index",
        "delay_index",
        "delay_fs",
        "delay_fs_measured",
        "fluence",
        "fluence_measured",
        "fluence_label",
        "n_abs",
        "n_abs_measured",
        "attenuator_setting",
        "series",
        "reference",
        "probe_wavelength_nm",
        "power_w",
        "power_time",
        "timestamp",
        "n_on",
        "n_off",
        "dropped_frames",
    )
)
#: Fit columns: (name, path, value when absent, float column).
_FIT_PLAN = tuple((c.name, c.path, c.fill, c.dtype.kind == "f") for c in L.FIT_COLUMNS)
_IMAGE_PATHS = tuple(path for path, _, _ in L.IMAGE_STACKS)
_NO_FIT: dict[str, Any] = {"has_fit": 0, "converged": 0, "message": ""}


def point_row(record: PointRecord, md: ScanMetadata) -> Row:
    """Values of one row; missing numbers become NaN, never zero. (Runs once per point on
    the writer thread: the paths are precomputed, the values listed in their order.)"""
    img = record.image
    shape = md.image_shape
    fit = record.fit
    tp = record.transport
    sweep, wl_i, fl_i, delay_i = (int(v) for v in record.grid)
    scalars: dict[str, Any] = dict(
        zip(
            _RECORD_PATHS,
            (
                record.index,
                sweep,
                wl_i,
                fl_i,
                delay_i,
                float(record.delay_fs),
                float(record.delay_fs_measured),
                finite_or_nan(record.fluence_uj_cm2),
                finite_or_nan(record.fluence_measured_uj_cm2),
                record.fluence_label,
                finite_or_nan(record.n_abs),
                finite_or_nan(record.n_abs_measured),
                finite_or_nan(record.attenuator_setting),
                record.series,
                int(bool(record.reference)),
                float(record.probe_wavelength_nm),
                finite_or_nan(record.power_w),
                float(record.power_time),
                float(record.timestamp),
                int(img.n_on),
                int(img.n_off),
                int(img.dropped_frames),
            ),
        )
    )
    fit_values = dict(_NO_FIT)
    if fit is not None:
        fit_values.update(
            sigma_nm=fit.sigma_nm,
            sigma_err_nm=fit.sigma_err_nm,
            amplitude=fit.amplitude,
            amplitude_err=fit.amplitude_err,
            offset=fit.offset,
            offset_err=fit.offset_err,
            x0_nm=fit.x0_nm,
            y0_nm=fit.y0_nm,
            x0_err_nm=fit.x0_err_nm,
            y0_err_nm=fit.y0_err_nm,
            sigma_x_nm=finite_or_nan(fit.sigma_x_nm),
            sigma_y_nm=finite_or_nan(fit.sigma_y_nm),
            reduced_chi2=fit.reduced_chi2,
            has_fit=1,
            converged=int(bool(fit.converged)),
            message=fit.message,
        )
    if tp is not None:
        fit_values.update(
            sigma0_nm=tp.sigma0_nm,
            sigma0_err_nm=tp.sigma0_err_nm,
            msd_nm2=tp.msd_nm2,
            msd_err_nm2=tp.msd_err_nm2,
            diffusivity_cm2_s=tp.diffusivity_cm2_s,
            diffusivity_err_cm2_s=tp.diffusivity_err_cm2_s,
            significant=int(bool(tp.significant)),
        )
        if fit is None:  # transport without a fit object still carries σ
            fit_values.update(sigma_nm=tp.sigma_nm, sigma_err_nm=tp.sigma_err_nm)
    for name, path, fill, is_float in _FIT_PLAN:
        value = fit_values.get(name, fill)
        scalars[path] = finite_or_nan(value) if is_float else value
    positions = record.positions
    names = md.position_names
    for name in names:
        scalars[L.position_path(name)] = finite_or_nan(positions.get(name))
    loose = {k: v for k, v in positions.items() if k not in names}
    text = to_json({"positions": loose}) if loose else ""
    overflow = len(text.encode("utf-8")) > L.POINT_JSON_BYTES
    if overflow:
        text = _names_that_fit(sorted(loose))
    scalars[L.POINT_JSON] = text

    dark_mean = img.dark_mean if img.dark_mean is not None else _nan_image(shape)
    dark_err = img.dark_err if img.dark_err is not None else _nan_image(shape)
    images = dict(
        zip(
            _IMAGE_PATHS,
            (
                img.dtt,
                img.dtt_err,
                img.on_mean,
                img.on_err,
                img.off_mean,
                img.off_err,
                dark_mean,
                dark_err,
            ),
        )
    )
    return Row(scalars=scalars, images=images, overflow=overflow)


def check_shapes(row: Row, shape: tuple[int, int], index: int) -> str | None:
    """Problem description if an image does not match the file's image shape."""
    for path, image in row.images.items():
        if np.shape(image) != tuple(shape):
            return (
                f"point {index}: {path.rsplit('/', 1)[1]} has shape {np.shape(image)} "
                f"(expected {tuple(shape)}, the scan's image shape)"
            )
    return None
