"""napari reader for scan files: the ΔT/T stack and the fitted 1σ contours.

The layers are plain napari layer-data tuples built with numpy alone, so this module (and
its tests) never imports napari; napari finds it through the npe2 manifest ``napari.yaml``
installed with the ``napari`` extra. Axes of both layers: probe wavelength, fluence,
delay, y, x (repeated sweeps averaged, inverse-variance weighted with each point's pixel
variances pooled as for its fit, :mod:`tamrig.analysis.pixel_weights`); y and x are in nm.
The contours are 1σ ellipses of the contract fit (``fit_gaussian``) of each averaged image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tamrig.analysis import fit_gaussian
from tamrig.analysis.pixel_weights import fit_weights

LayerData = tuple[Any, dict[str, Any], str]
#: the significance a fitted spot needs for its contour to be drawn
MIN_SNR = 5.0


def napari_get_reader(path: str | list[str]) -> Callable[[str], list[LayerData]] | None:
    """The reader for a tamrig scan file, None for anything else (napari asks the next)."""
    if isinstance(path, list):
        path = path[0] if len(path) == 1 else ""
    if not str(path).lower().endswith((".h5", ".hdf5", ".nxs")):
        return None
    from tamrig.errors import TamrigError
    from tamrig.storage import open_scan

    try:
        with open_scan(path):
            pass
    except (TamrigError, OSError, RuntimeError):  # not a scan file, or not HDF5 at all
        return None
    return read_scan


def read_scan(path: str | Path) -> list[LayerData]:
    """[ΔT/T image layer, 1σ contour shapes layer] of one scan file."""
    stack, errors, axes, pixel_nm, name = _stack(Path(path))
    contours, labels = _contours(stack, errors, pixel_nm)
    scale = (1.0, 1.0, 1.0, pixel_nm, pixel_nm)
    axis_labels = ("probe", "fluence", "delay", "y (nm)", "x (nm)")
    finite = stack[np.isfinite(stack)]
    limit = float(np.percentile(np.abs(finite), 99.5)) if finite.size else 1.0
    image = (
        stack,
        {
            "name": f"{name} ΔT/T",
            "scale": scale,
            "axis_labels": axis_labels,
            "colormap": "twilight_shifted",
            "contrast_limits": (-limit, limit),
            "metadata": axes,
        },
        "image",
    )
    shapes = (
        contours,
        {
            "name": f"{name} fitted 1σ",
            "shape_type": "ellipse",
            "edge_color": "yellow",
            "face_color": "transparent",
            "edge_width": pixel_nm / 4,
            "scale": (1.0, 1.0, 1.0, 1.0, 1.0),
            "text": {"string": "{label}", "size": 8, "color": "yellow"},
            "properties": {"label": labels},
        },
        "shapes",
    )
    return [image, shapes]


def _stack(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any], float, str]:
    """ΔT/T averaged over sweeps on the (probe, fluence, delay) grid, with its errors."""
    from tamrig.storage import open_scan

    with open_scan(path) as scan:
        points = scan.points()
        pixel_nm = scan.pixel_size_nm
        h, w = scan.image_shape
        extra = scan.metadata.get("extra", {}) or {}
        name = str((scan.metadata.get("sample") or {}).get("name") or path.stem)
        keep = np.ones(len(points["index"]), dtype=bool)
        if "reference" in points:
            keep &= ~np.asarray(points["reference"]).astype(bool)
        grid = np.stack(
            [
                np.asarray(points[k], int)
                for k in ("wavelength_index", "fluence_index", "delay_index")
            ],
            axis=1,
        )
        shape = tuple(int(v) + 1 for v in grid[keep].max(axis=0)) if keep.any() else (1, 1, 1)
        total = np.zeros((*shape, h, w))
        weight = np.zeros((*shape, h, w))
        for k in np.flatnonzero(keep):
            i = int(points["index"][k])
            dtt, err = scan.dtt(i), scan.dtt_err(i)
            # the pixel errors pooled with their neighbours', as the fit of a point weights them
            pooled = fit_weights(err, int(points["n_on"][k]), int(points["n_off"][k]))
            wgt = np.zeros(err.shape) if pooled is None else pooled
            cell = tuple(grid[k])
            total[cell] += np.where(wgt > 0, dtt, 0.0) * wgt
            weight[cell] += wgt
    with np.errstate(invalid="ignore", divide="ignore"):
        stack = total / weight
        errors = 1.0 / np.sqrt(weight)
    axes = {
        "probe_wavelength_nm": list(extra.get("wavelengths_nm", [])),
        "fluence": list(extra.get("fluence_labels", [])),
        "delay_fs": list(extra.get("delays_fs", [])),
        "pixel_size_nm": pixel_nm,
        "file": str(path),
    }
    return stack.astype(np.float32), errors, axes, pixel_nm, name


def _contours(
    stack: np.ndarray, errors: np.ndarray, pixel_nm: float
) -> tuple[list[np.ndarray], list[str]]:
    """One ellipse (its bounding box's four corners in data coordinates) per averaged image
    whose fitted spot is significant."""
    shapes: list[np.ndarray] = []
    labels: list[str] = []
    for cell in np.ndindex(*stack.shape[:3]):
        image, err = stack[cell], errors[cell]
        if not np.isfinite(image).any():
            continue
        ok = np.isfinite(err) & (err > 0)
        weights = np.where(ok, 1.0 / np.where(ok, err, 1.0) ** 2, 0.0)
        fit = fit_gaussian(np.nan_to_num(image), pixel_nm, weights=weights)
        significant = abs(fit.amplitude) >= MIN_SNR * fit.amplitude_err
        if not (fit.converged and significant and math.isfinite(fit.sigma_nm)):
            continue
        sy = fit.sigma_y_nm if fit.sigma_y_nm is not None else fit.sigma_nm
        sx = fit.sigma_x_nm if fit.sigma_x_nm is not None else fit.sigma_nm
        # napari puts pixel k's centre at k·a; the fit measures from pixel 0's outer corner
        y0, x0 = fit.y0_nm - pixel_nm / 2, fit.x0_nm - pixel_nm / 2
        lead = [float(c) for c in cell]
        corners = [(y0 - sy, x0 - sx), (y0 - sy, x0 + sx), (y0 + sy, x0 + sx), (y0 + sy, x0 - sx)]
        shapes.append(np.array([[*lead, y, x] for y, x in corners]))
        labels.append(f"σ {fit.sigma_nm:.0f}±{fit.sigma_err_nm:.0f} nm")
    return shapes, labels
