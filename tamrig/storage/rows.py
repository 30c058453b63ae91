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


def point_row(record: PointRecord, md: ScanMetadata) -> Row:
    """Values of one row; missing numbers become NaN, never zero."""
    img = record.image
    shape = md.image_shape
    fit = record.fit
    tp = record.transport
    sweep, wl_i, fl_i, delay_i = (int(v) for v in record.grid)
    scalars: dict[str, Any] = {
        f"{L.DATA}/point_index": record.index,
        f"{L.DATA}/sweep": sweep,
        f"{L.DATA}/wavelength_index": wl_i,
        f"{L.DATA}/fluence_index": fl_i,
        f"{L.DATA}/delay_index": delay_i,
        f"{L.DATA}/delay_fs": float(record.delay_fs),
        f"{L.DATA}/delay_fs_measured": float(record.delay_fs_measured),
        f"{L.DATA}/fluence": finite_or_nan(record.fluence_uj_cm2),
        f"{L.DATA}/fluence_measured": finite_or_nan(record.fluence_measured_uj_cm2),
        f"{L.DATA}/fluence_label": record.fluence_label,
        f"{L.DATA}/n_abs": finite_or_nan(record.n_abs),
        f"{L.DATA}/n_abs_measured": finite_or_nan(record.n_abs_measured),
        f"{L.DATA}/attenuator_setting": finite_or_nan(record.attenuator_setting),
        f"{L.DATA}/series": record.series,
        f"{L.DATA}/reference": int(bool(record.reference)),
        f"{L.DATA}/probe_wavelength_nm": float(record.probe_wavelength_nm),
        f"{L.DATA}/power_w": finite_or_nan(record.power_w),
        f"{L.DATA}/power_time": float(record.power_time),
        f"{L.DATA}/timestamp": float(record.timestamp),
        f"{L.DATA}/n_on": int(img.n_on),
        f"{L.DATA}/n_off": int(img.n_off),
        f"{L.DATA}/dropped_frames": int(img.dropped_frames),
    }
    fit_values: dict[str, Any] = {"has_fit": 0, "converged": 0, "message": ""}
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
    for col in L.FIT_COLUMNS:
        value = fit_values.get(col.name, col.fill)
        scalars[col.path] = finite_or_nan(value) if col.dtype.kind == "f" else value
    named = set(md.position_names)
    for name in md.position_names:
        scalars[L.position_path(name)] = finite_or_nan(record.positions.get(name))
    loose = {k: v for k, v in record.positions.items() if k not in named}
    text = to_json({"positions": loose}) if loose else ""
    overflow = len(text.encode("utf-8")) > L.POINT_JSON_BYTES
    if overflow:
        text = _names_that_fit(sorted(loose))
    scalars[L.POINT_JSON] = text

    images = {
        f"{L.DATA}/dtt": img.dtt,
        f"{L.DATA}/dtt_errors": img.dtt_err,
        f"{L.IMAGES}/pump_on_mean": img.on_mean,
        f"{L.IMAGES}/pump_on_err": img.on_err,
        f"{L.IMAGES}/pump_off_mean": img.off_mean,
        f"{L.IMAGES}/pump_off_err": img.off_err,
        f"{L.IMAGES}/dark_mean": img.dark_mean if img.dark_mean is not None else _nan_image(shape),
        f"{L.IMAGES}/dark_err": img.dark_err if img.dark_err is not None else _nan_image(shape),
    }
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
