"""Re-form ΔT/T from the raw frames a scan recorded, with other settings, into a new scan file.

What can change after the fact: the region of interest (``roi``), pixel binning, hot-pixel
repair, rejection of outlier frames (a probe flicker, a cosmic ray burst) and drift
correction (the ROI follows the spot's fitted centre from point to point). The frames are
read in chunks through dask.array straight from the HDF5 dataset, so a file larger than
memory is fine; every point goes through the same accumulator the rig uses
(:class:`~tamrig.acquisition.accumulator.DifferentialAccumulator`) and the same live fit,
so a reprocessed file is a scan file like any other, analysed the same way. Its metadata
name the source file (path and SHA-256) and the settings used.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tamrig import __version__
from tamrig.acquisition.accumulator import DifferentialAccumulator, border_mask
from tamrig.analysis.monitor import LiveMonitor
from tamrig.devices import FrameBlock
from tamrig.errors import InputError
from tamrig.records import DifferentialImage, PointRecord
from tamrig.storage import ScanMetadata, ScanWriter, open_scan
from tamrig.storage import layout as L

#: MAD → standard deviation of a normal distribution
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class ReprocessSettings:
    """How to re-form ΔT/T. Defaults reproduce the recorded ΔT/T.

    ``roi``: (y, x, height, width) in pixels of the recorded frame. ``binning``: b×b pixels
    summed into one. ``hot_pixel_sigma``: pixels whose dark level lies further than this
    many (robust) standard deviations from the median are replaced by their neighbours'
    mean. ``outlier_sigma``: frames whose probe level lies further than this from the
    point's median are dropped. ``drift``: centre the ROI on each point's fitted spot.
    """

    roi: tuple[int, int, int, int] | None = None
    binning: int = 1
    hot_pixel_sigma: float | None = None
    outlier_sigma: float | None = None
    drift: bool = False
    chunk_frames: int = 256

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["roi"] = None if self.roi is None else list(self.roi)
        return data


@dataclass(frozen=True)
class ReprocessResult:
    path: Path
    n_points: int
    n_frames: int
    n_rejected: int
    hot_pixels: int


def reprocess(
    source: str | Path,
    out: str | Path,
    settings: ReprocessSettings | None = None,
    *,
    overwrite: bool = False,
    on_point: Callable[[int, int], None] | None = None,
) -> ReprocessResult:
    """Write ``out``: the scan ``source`` with ΔT/T re-formed from its raw frames.

    Invalid settings or a source without raw frames are an InputError before ``out`` is
    created. ``on_point(done, total)`` follows the progress.
    """
    import dask.array as da

    from tamrig.campaign.hashing import file_sha256
    from tamrig.storage import h5files
    from tamrig.storage.soundness import check_readable_scan

    cfg = settings or ReprocessSettings()
    src = Path(source)
    check_readable_scan(src)  # read-only: damaged or cut sources are refused
    with open_scan(src) as scan:
        if not scan.has_raw_frames:
            raise InputError(
                "no raw frames were recorded",
                file=src,
                expected="a scan recorded with acquisition.record_raw_frames = true",
            )
        metadata = ScanMetadata.from_dict(scan.metadata)
        points = scan.points()
        positions = scan.positions()
        frame_shape = scan.image_shape
        darks = {int(i): _dark(scan, int(i)) for i in points["index"]}
    _check(cfg, frame_shape, src)
    pixel_nm = metadata.pixel_size_nm * cfg.binning
    centres = _centres(points, metadata.pixel_size_nm) if cfg.drift else None
    out_shape = _out_shape(cfg, frame_shape)
    new_md = dataclasses.replace(
        metadata,
        image_shape=out_shape,
        pixel_size_nm=pixel_nm,
        extra={
            **metadata.extra,
            "reprocessed_from": {
                "file": str(src.resolve()),
                "sha256": file_sha256(src),
                "settings": cfg.to_dict(),
                "program_version": __version__,
            },
        },
    )
    h5, _ = h5files.open_read(src)
    n_frames = n_rejected = 0
    hot: npt.NDArray[np.bool_] | None = None
    try:
        raw = da.from_array(h5[L.RAW_DATA], chunks=(cfg.chunk_frames, *frame_shape))
        owners = h5[L.RAW_COMMIT][()]
        pump = h5[f"{L.RAW}/pump_on"][()]
        monitor = LiveMonitor(pixel_nm)
        with ScanWriter.create(out, new_md, overwrite=overwrite) as writer:
            writer.log_event("reprocess", f"ΔT/T re-formed from the raw frames of {src.name}")
            total = len(points["index"])
            for k in range(total):
                index = int(points["index"][k])
                where = np.flatnonzero(owners == index)
                if where.size == 0:
                    continue
                a, b = int(where[0]), int(where[-1]) + 1
                window = _window(cfg, frame_shape, None if centres is None else centres[k])
                dark, dark_err = darks[index]
                if hot is None and cfg.hot_pixel_sigma is not None:
                    hot = _hot_pixels(dark, raw[a:b], cfg.hot_pixel_sigma)
                image, used, rejected = _point_image(
                    raw[a:b], pump[a:b], dark, dark_err, window, cfg, hot
                )
                n_frames += used
                n_rejected += rejected
                record = _record(points, positions, k, image, monitor)
                writer.write_point(record)
                if on_point is not None:
                    on_point(k + 1, total)
    finally:
        h5.close()
    return ReprocessResult(
        Path(out),
        len(points["index"]),
        n_frames,
        n_rejected,
        int(hot.sum()) if hot is not None else 0,
    )


# ----------------------------------------------------------------------------- geometry
def _check(cfg: ReprocessSettings, shape: tuple[int, int], src: Path) -> None:
    h, w = shape
    if cfg.binning < 1:
        raise InputError(f"got {cfg.binning}", field="binning", expected="an integer >= 1")
    if cfg.roi is not None:
        y, x, rh, rw = cfg.roi
        if y < 0 or x < 0 or rh < 2 or rw < 2 or y + rh > h or x + rw > w:
            raise InputError(
                f"got {list(cfg.roi)}",
                file=src,
                field="roi",
                expected=f"y x height width inside the recorded {h}×{w} frame",
            )
    rh, rw = _roi_size(cfg, shape)
    if rh // cfg.binning < 4 or rw // cfg.binning < 4:
        raise InputError(
            f"{rh}×{rw} binned {cfg.binning}×", field="binning", expected="at least 4×4 pixels"
        )
    if cfg.drift and cfg.roi is None:
        raise InputError(
            "drift correction moves the ROI with the spot", field="drift", expected="an roi"
        )
    for name in ("hot_pixel_sigma", "outlier_sigma"):
        value = getattr(cfg, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"got {value}", field=name, expected="a number of σ > 0")
    if cfg.chunk_frames < 2:
        raise InputError(f"got {cfg.chunk_frames}", field="chunk_frames", expected=">= 2")


def _roi_size(cfg: ReprocessSettings, shape: tuple[int, int]) -> tuple[int, int]:
    return (cfg.roi[2], cfg.roi[3]) if cfg.roi is not None else shape


def _out_shape(cfg: ReprocessSettings, shape: tuple[int, int]) -> tuple[int, int]:
    rh, rw = _roi_size(cfg, shape)
    return rh // cfg.binning, rw // cfg.binning


def _window(
    cfg: ReprocessSettings, shape: tuple[int, int], centre: tuple[float, float] | None
) -> tuple[slice, slice]:
    """Pixel slices of the ROI (moved to ``centre`` (y, x) in pixels when drift is on),
    trimmed to a multiple of the binning and kept inside the frame."""
    h, w = shape
    y, x, rh, rw = cfg.roi if cfg.roi is not None else (0, 0, h, w)
    rh -= rh % cfg.binning
    rw -= rw % cfg.binning
    if centre is not None:
        y = round(centre[0] - rh / 2)
        x = round(centre[1] - rw / 2)
    y = min(max(y, 0), h - rh)
    x = min(max(x, 0), w - rw)
    return slice(y, y + rh), slice(x, x + rw)


def _centres(points: dict[str, np.ndarray], pixel_nm: float) -> list[tuple[float, float]]:
    """Spot centre (y, x) in pixels per point: its own fit where the spot is significant,
    else that of the nearest point in time that has one (before time zero there is none)."""
    n = len(points["index"])
    x0 = np.asarray(points.get("x0_nm", np.full(n, np.nan)), float) / pixel_nm
    y0 = np.asarray(points.get("y0_nm", np.full(n, np.nan)), float) / pixel_nm
    amp = np.abs(np.asarray(points.get("amplitude", np.zeros(n)), float))
    amp_err = np.asarray(points.get("amplitude_err", np.full(n, np.inf)), float)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(x0) & np.isfinite(y0) & (amp > 5 * amp_err)
    if not good.any():
        raise InputError(
            "no point has a significant fitted spot", field="drift", expected="fitted spots"
        )
    t = np.asarray(points.get("timestamp", np.arange(n)), float)
    tg = t[good]
    out = []
    for i in range(n):
        j = i if good[i] else int(np.flatnonzero(good)[np.argmin(np.abs(tg - t[i]))])
        # x0/y0 are measured from the pixel-0 corner: pixel centres sit at k + 1/2
        out.append((float(y0[j] - 0.5), float(x0[j] - 0.5)))
    return out


def _bin(image: npt.NDArray[Any], b: int) -> npt.NDArray[Any]:
    """Sum b×b blocks of the last two axes (their sizes are multiples of b)."""
    if b == 1:
        return image
    *lead, h, w = image.shape
    return image.reshape(*lead, h // b, b, w // b, b).sum(axis=(-3, -1))


# ----------------------------------------------------------------------------- per point
def _dark(scan: Any, index: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    dark = scan.image("dark_mean", index)
    err = scan.image("dark_err", index)
    if not np.isfinite(dark).all():
        return None, None
    return dark, (err if np.isfinite(err).all() else None)


def _hot_pixels(dark: np.ndarray | None, frames: Any, k: float) -> npt.NDArray[np.bool_]:
    """Pixels whose dark level (or, without a dark frame, mean level) is an outlier."""
    level = dark if dark is not None else np.asarray(frames[: min(64, len(frames))].mean(axis=0))
    med = np.median(level)
    mad = MAD_TO_SD * np.median(np.abs(level - med))
    return np.asarray(np.abs(level - med) > k * max(float(mad), 1e-12), dtype=bool)


def _repair(block: np.ndarray, hot: npt.NDArray[np.bool_]) -> np.ndarray:
    """Replace hot pixels of every frame in ``block`` by the mean of their good neighbours."""
    out = block.astype(np.float32)
    h, w = hot.shape
    for y, x in zip(*np.nonzero(hot), strict=True):
        ys = slice(max(y - 1, 0), min(y + 2, h))
        xs = slice(max(x - 1, 0), min(x + 2, w))
        good = ~hot[ys, xs]
        if good.any():
            out[:, y, x] = out[:, ys, xs][:, good].mean(axis=1)
    return out


def _point_image(
    frames: Any,
    pump: np.ndarray,
    dark: np.ndarray | None,
    dark_err: np.ndarray | None,
    window: tuple[slice, slice],
    cfg: ReprocessSettings,
    hot: npt.NDArray[np.bool_] | None,
) -> tuple[DifferentialImage, int, int]:
    """ΔT/T of one point from its frames (a dask array), chunk by chunk."""
    ys, xs = window
    b = cfg.binning
    tags = pump.astype(np.int8)
    if (tags < 0).any():
        raise ValueError("raw frames without a pump-state tag cannot be re-formed")
    keep = np.ones(len(tags), dtype=bool)
    if cfg.outlier_sigma is not None:
        keep = _inliers(frames, tags == 1, dark, cfg.outlier_sigma)
    d = None if dark is None else _bin(dark[ys, xs], b)
    d_err = None if dark_err is None else np.sqrt(_bin(dark_err[ys, xs] ** 2, b))
    shape = (ys.stop - ys.start) // b, (xs.stop - xs.start) // b
    acc = DifferentialAccumulator(
        shape, d, True, norm_mask=border_mask(shape), dark_err=d_err, threads=1
    )
    for start, block in _blocks(frames, cfg.chunk_frames):
        sel = keep[start : start + len(block)]
        if not sel.any():
            continue
        data = block[sel]
        if hot is not None and hot.any():
            data = _repair(data, hot)
        data = _bin(data[:, ys, xs], b)
        n = data.shape[0]
        acc.add(
            FrameBlock(data=data, frame_id=np.arange(n), timestamp_s=np.zeros(n)),
            tags[start : start + len(block)][sel] == 1,
        )
    return acc.result(), int(keep.sum()), int((~keep).sum())


def _inliers(
    frames: Any, on: npt.NDArray[np.bool_], dark: np.ndarray | None, k: float
) -> npt.NDArray[np.bool_]:
    """Frames that look like the others of their pump state.

    Each frame is dark-subtracted and normalised by its mean (as the accumulator does, so
    a probe-power change is no outlier); its score is the mean squared difference from the
    mean frame of its pump state. A score further than ``k`` robust standard deviations
    above the median marks a glitch (a probe flash in part of the field, a cosmic-ray
    burst, a torn readout). Computed chunk by chunk with dask.
    """
    import dask.array as da

    x = frames.astype(np.float32)
    if dark is not None:
        x = x - dark.astype(np.float32)
    x = x / x.mean(axis=(1, 2), keepdims=True)
    tag = da.from_array(on, chunks=(frames.chunks[0],))[:, None, None]
    ref_on = x[on].mean(axis=0)
    ref_off = x[~on].mean(axis=0)
    ref = da.where(tag, ref_on, ref_off)
    score = np.asarray(((x - ref) ** 2).mean(axis=(1, 2)).compute(), dtype=float)
    med = np.median(score)
    mad = MAD_TO_SD * np.median(np.abs(score - med))
    return np.asarray(score - med <= k * max(float(mad), 1e-30), dtype=bool)


def _blocks(frames: Any, size: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first frame, frames) of consecutive chunks, each read from the file once."""
    for start in range(0, frames.shape[0], size):
        yield start, np.asarray(frames[start : start + size].compute())


def _record(
    points: dict[str, np.ndarray],
    positions: dict[str, np.ndarray],
    k: int,
    image: DifferentialImage,
    monitor: LiveMonitor,
) -> PointRecord:
    """The source point's coordinates with the new image and its live fit."""

    def num(key: str, default: float = math.nan) -> float:
        return float(points[key][k]) if key in points else default

    def text(key: str, row: int = k) -> str:
        return str(points[key][row]) if key in points else ""

    def series_of(row: int) -> str:
        return text("series", row) or text("fluence_label", row)

    series = series_of(k)
    measured = num("delay_fs_measured")
    delay = num("delay_fs")
    # the last point of a run of its series is settled, as the scan's engine does
    settle = k + 1 >= len(points["index"]) or series_of(k + 1) != series
    fit, transport = monitor.update(
        delay_fs=measured if math.isfinite(measured) else delay,
        series=series,
        image=image,
        settle=settle,
    )
    grid = tuple(
        int(points[c][k]) for c in ("sweep", "wavelength_index", "fluence_index", "delay_index")
    )
    return PointRecord(
        index=int(points["index"][k]),
        grid=(grid[0], grid[1], grid[2], grid[3]),
        delay_fs=delay,
        delay_fs_measured=measured,
        fluence_label=text("fluence_label"),
        fluence_uj_cm2=num("fluence_uj_cm2"),
        n_abs=num("n_abs"),
        attenuator_setting=num("attenuator_setting"),
        probe_wavelength_nm=num("probe_wavelength_nm"),
        image=image,
        fit=fit,
        transport=transport,
        power_w=num("power_w"),
        positions={name: float(v[k]) for name, v in positions.items()},
        timestamp=num("timestamp", 0.0),
        series=series,
        reference=bool(num("reference", 0.0)),
        fluence_measured_uj_cm2=num("fluence_measured_uj_cm2"),
        n_abs_measured=num("n_abs_measured"),
    )
