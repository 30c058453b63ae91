"""The Bluesky side of bench_engine.py doing tamrig's per-point work: store and fit.

A ``list_scan`` of ophyd.sim's motor with six image signals (ΔT/T, its error, the pump-on
and pump-off means and their errors: the 64×64 float images a point of tamrig produces) and
a document callback that does per event what tamrig's writer thread does per point: one
row in an HDF5 file written in SWMR mode (each image gzip-compressed in its own chunk, the
~50 per-point scalars as one row of a 2-D table -- one write, the cheap way -- and a
completed flag last, flushed twice), and a
2-D Gaussian least-squares fit of ΔT/T with its per-pixel errors (scipy's curve_fit, the
usual choice in a Bluesky callback). The images are made once, outside the timed loop, like
the simulated camera's frames are excluded on tamrig's side.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from scipy.optimize import curve_fit

IMAGES = ("dtt", "dtt_err", "on_mean", "on_err", "off_mean", "off_err")
#: Per-point scalar columns, as many as tamrig's file has (data, fit and positions).
N_SCALARS = 50
SHAPE = (64, 64)
PIXEL_NM = 50.0


def point_images(seed: int = 7) -> dict[str, np.ndarray]:
    """A ΔT/T spot like the simulated rig's (σ ≈ 3 px, amplitude 1e-3) with shot noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    spot = 1e-3 * np.exp(-((x - 32.0) ** 2 + (y - 31.0) ** 2) / (2 * 3.0**2))
    err = np.full(SHAPE, 1e-4)
    on = 2500.0 + rng.normal(0, 5, SHAPE)
    return {
        "dtt": spot + rng.normal(0, 1e-4, SHAPE),
        "dtt_err": err,
        "on_mean": on,
        "on_err": np.full(SHAPE, 5.0),
        "off_mean": on / (1 + spot),
        "off_err": np.full(SHAPE, 5.0),
    }


def _gaussian(
    xy: tuple[np.ndarray, np.ndarray], a: float, x0: float, y0: float, s: float, c: float
) -> np.ndarray:
    x, y = xy
    return a * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s * s)) + c


class StoreAndFit:
    """The document callback: per event one SWMR row and one Gaussian fit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: h5py.File | None = None
        self.rows = 0
        y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
        self.xy = (x.ravel() * PIXEL_NM, y.ravel() * PIXEL_NM)

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        if name == "start":
            self._create()
        elif name == "event":
            self._event(doc["data"])
        elif name == "stop" and self.file is not None:
            self.file.close()
            self.file = None

    def _create(self) -> None:
        f = h5py.File(self.path, "w", libver="latest")
        for image in IMAGES:
            f.create_dataset(
                image,
                shape=(0, *SHAPE),
                maxshape=(None, *SHAPE),
                chunks=(1, *SHAPE),
                dtype="f4",
                shuffle=True,
                compression="gzip",
            )
        f.create_dataset(
            "values",
            shape=(0, N_SCALARS),
            maxshape=(None, N_SCALARS),
            chunks=(256, N_SCALARS),
            dtype="f8",
        )
        f.create_dataset("completed", shape=(0,), maxshape=(None,), chunks=(256,), dtype="u1")
        f.swmr_mode = True
        self.file = f
        self.rows = 0

    def _event(self, data: dict[str, Any]) -> None:
        f = self.file
        assert f is not None
        dtt, err = np.asarray(data["dtt"]), np.asarray(data["dtt_err"])
        guess = (float(dtt.max()), 32 * PIXEL_NM, 31 * PIXEL_NM, 3 * PIXEL_NM, 0.0)
        popt, pcov = curve_fit(
            _gaussian, self.xy, dtt.ravel(), p0=guess, sigma=err.ravel(), absolute_sigma=True
        )
        perr = np.sqrt(np.diag(pcov))
        scalars = [data["motor"], time.time(), *popt, *perr]
        scalars += [float(k) for k in range(N_SCALARS - len(scalars))]
        n = self.rows
        for image in IMAGES:
            ds = f[image]
            ds.resize((n + 1, *SHAPE))
            ds[n] = np.asarray(data[image], dtype=np.float32)
        table = f["values"]
        table.resize((n + 1, N_SCALARS))
        table[n] = np.asarray(scalars, dtype=np.float64)
        f.flush()
        done = f["completed"]
        done.resize((n + 1,))
        done[n] = 1
        f.flush()
        self.rows = n + 1


def run(points: int, folder: Path) -> dict[str, float]:
    """``list_scan`` with the image signals and the callback; per-point wall / CPU µs."""
    from bluesky import RunEngine
    from bluesky.plans import list_scan
    from ophyd.sim import SynSignal, motor

    images = point_images()
    signals = [SynSignal(name=k, func=lambda k=k: images[k]) for k in IMAGES]  # type: ignore[misc]
    engine = RunEngine({})
    stamps: list[tuple[float, float]] = []
    callback = StoreAndFit(folder / "bluesky.h5")

    def on_document(name: str, doc: dict[str, Any]) -> None:
        callback(name, doc)
        if name == "event":
            stamps.append((time.perf_counter(), time.process_time()))

    engine.subscribe(on_document)
    engine(list_scan(signals, motor, [float(i) for i in range(points)]))
    (folder / "bluesky.h5").unlink()
    n = len(stamps) - 1
    return {
        "points": float(len(stamps)),
        "wall_us": (stamps[-1][0] - stamps[0][0]) / n * 1e6,
        "cpu_us": (stamps[-1][1] - stamps[0][1]) / n * 1e6,
    }
