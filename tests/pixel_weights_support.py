"""Few-pairs images of random truths, made frame by frame and averaged by the accumulator.

A spot of random width, amplitude (either sign), centre and offset is put on a probe of
random size, position and brightness (so the pixel noise varies across the image, as the
shot noise follows the probe profile), and ``pairs`` pump-on / pump-off frames with shot
noise, read noise and probe-power jitter are drawn and averaged by the real
``DifferentialAccumulator``: the per-pixel errors the fit gets have exactly the degrees of
freedom a scan point with that many pairs has. ``draws`` fits many such points as the live
monitor does (or with the former raw weights) for the tests and
benchmarks/calibrate_pixel_weights.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tamrig.acquisition.accumulator import DifferentialAccumulator
from tamrig.analysis.fitting import fit_gaussian
from tamrig.analysis.monitor import LiveMonitor
from tamrig.devices import FrameBlock
from tamrig.records import DifferentialImage

PIXEL_NM = 50.0
SHAPE = (32, 32)
E_PER_COUNT = 49.0
READ_E = 200.0
DARK_COUNTS = 100.0
EXPOSURES = 500  # exposures summed per frame, as the simulated camera's accumulate mode


@dataclass(frozen=True)
class SpotTruth:
    sigma_nm: float
    amplitude: float
    x0_px: float
    y0_px: float
    offset: float


def draw_truth(rng: np.random.Generator) -> SpotTruth:
    sign = 1.0 if rng.random() < 0.7 else -1.0
    return SpotTruth(
        sigma_nm=float(rng.uniform(100.0, 260.0)),
        amplitude=sign * float(np.exp(rng.uniform(np.log(2e-4), np.log(2e-3)))),
        x0_px=float(SHAPE[1] / 2 - 0.5 + rng.uniform(-2.0, 2.0)),
        y0_px=float(SHAPE[0] / 2 - 0.5 + rng.uniform(-2.0, 2.0)),
        offset=float(rng.uniform(-5e-5, 5e-5)),
    )


def truth_dtt(truth: SpotTruth) -> np.ndarray:
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(float)
    r2 = ((x - truth.x0_px) ** 2 + (y - truth.y0_px) ** 2) * PIXEL_NM**2
    return truth.amplitude * np.exp(-r2 / (2 * truth.sigma_nm**2)) + truth.offset


def probe_counts(rng: np.random.Generator) -> np.ndarray:
    """Mean probe counts per frame above dark: a Gaussian beam of random size and position."""
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(float)
    width = rng.uniform(15.0, 160.0)
    cy, cx = rng.uniform(-20.0, 52.0, 2)
    profile = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2))
    return float(rng.uniform(1500.0, 3000.0)) * EXPOSURES * profile / profile.max()


def simulate_point(
    rng: np.random.Generator, truth: SpotTruth, pairs: int, probe: np.ndarray | None = None
) -> DifferentialImage:
    """``pairs`` pump-on/pump-off frames of ``truth`` on a probe, averaged as a scan does."""
    return average_frames(rng, truth_dtt(truth), pairs, probe)


def average_frames(
    rng: np.random.Generator, dtt: np.ndarray, pairs: int, probe: np.ndarray | None = None
) -> DifferentialImage:
    """``pairs`` pump-on/pump-off frames showing ``dtt`` (SHAPE) on a random probe (or
    ``probe``), averaged by the accumulator."""
    probe = probe_counts(rng) if probe is None else probe
    n = 2 * pairs
    on = np.arange(n) % 2 == 0
    power = 1.0 + 0.005 * rng.standard_normal(n)  # frame-to-frame probe power
    mean = probe[None] * power[:, None, None] * np.where(on[:, None, None], 1.0 + dtt, 1.0)
    sd = np.sqrt(mean * E_PER_COUNT + EXPOSURES * READ_E**2) / E_PER_COUNT
    dark = DARK_COUNTS * EXPOSURES
    frames = np.rint(dark + mean + sd * rng.standard_normal(mean.shape)).astype(np.uint32)
    acc = DifferentialAccumulator(SHAPE, dark=np.full(SHAPE, dark), threads=1)
    block = FrameBlock(frames, np.arange(n, dtype=np.int64), np.zeros(n), on)
    acc.add(block, on)
    return acc.result()


Width = Callable[[DifferentialImage], tuple[float, float] | None]


def monitor_width(image: DifferentialImage) -> tuple[float, float] | None:
    """(σ, its error) as the live monitor reports a significant spot; None otherwise."""
    _, point = LiveMonitor(PIXEL_NM).update(delay_fs=300.0, series="s", image=image)
    if point is None or not point.significant:
        return None
    return point.sigma_nm, point.sigma_err_nm


def raw_width(image: DifferentialImage) -> tuple[float, float] | None:
    """The same with weights 1/err² of the raw per-pixel errors (the former weights)."""
    err = np.asarray(image.dtt_err)
    weights = np.where(err > 0, 1.0 / np.where(err > 0, err, 1.0) ** 2, 0.0)
    fit = fit_gaussian(image.dtt, PIXEL_NM, weights=weights)
    if not (fit.converged and abs(fit.amplitude) >= 5.0 * fit.amplitude_err):
        return None
    return fit.sigma_nm, fit.sigma_err_nm * math.sqrt(max(fit.reduced_chi2, 1.0))


def draws(
    pairs: int, seed: int, count: int, width: Width = monitor_width
) -> tuple[np.ndarray, int]:
    """[(fitted σ, error, true σ)] of the significant spots among ``count`` random truths,
    and how many were not significant."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        truth = draw_truth(rng)
        found = width(simulate_point(rng, truth, pairs))
        if found is not None:
            rows.append((*found, truth.sigma_nm))
    return np.array(rows), count - len(rows)
