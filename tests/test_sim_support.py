"""Helpers that drive the simulated rig like an experimenter would, plus checks of them.

The tests of the simulated rig form ΔT/T here by the plainest possible route — dark frames
with the probe shutter closed, pump-on/pump-off averages split by the camera's chopper tag,
per-frame probe normalisation on the ROI border — so they test the simulator, not the
acquisition code that is built on top of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from conftest import SIM_RIG
from scipy.optimize import curve_fit

from simulators.world import World
from tamrig.rig import Rig, build_rig

Image = npt.NDArray[np.float64]

#: Accumulation giving docs/simulator.md's reference noise (2.5e-5 per pixel) with 70 pairs.
FAST_ACCUMULATE = 500
REFERENCE_PAIRS = 70


@contextmanager
def sim_rig(path: Any = SIM_RIG, **overrides: Any) -> Iterator[Rig]:
    """A connected simulated rig with ``[simulation]`` keys overridden."""
    overrides.setdefault("time_scale", 0.0)
    # single exposures per frame unless a test asks for on-camera accumulation
    overrides.setdefault("camera_accumulate", 1)
    with build_rig(path, overrides=overrides) as rig:
        yield rig


def set_n_abs(rig: Rig, n_abs: float) -> float:
    """Turn the half-wave plate so the pump gives ⟨N_abs⟩ = ``n_abs``; returns the angle."""
    world = World.of(rig)
    att = rig.attenuator
    assert att is not None
    full = world.n_abs() / world.pump_transmission()
    eps, theta0 = att.settings.extinction, att.settings.theta0_deg  # type: ignore[attr-defined]
    t = n_abs / full
    assert eps <= t <= 1.0, f"N_abs {n_abs} not reachable (max {full:.3g})"
    angle = theta0 + 0.5 * math.degrees(math.acos(math.sqrt((t - eps) / (1 - eps))))
    att.set_setting(angle)
    return angle


def read_frames(rig: Rig, n_frames: int, block: int = 64) -> tuple[Image, np.ndarray]:
    """``n_frames`` frames as float counts and their pump tags, read in blocks."""
    data, tags = [], []
    left = n_frames
    while left > 0:
        b = rig.camera.read(min(block, left))
        data.append(b.data.astype(np.float64))
        assert b.pump_on is not None
        tags.append(b.pump_on)
        left -= len(b)
    return np.concatenate(data), np.concatenate(tags)


def dark_frame(rig: Rig, n_frames: int = 16) -> Image:
    """Mean frame with the probe shutter closed (the camera must be acquiring)."""
    probe = rig.probe_shutter
    assert probe is not None
    probe.close()
    frames, _ = read_frames(rig, n_frames)
    return frames.mean(axis=0)


def border(shape: tuple[int, ...], width: int = 6) -> np.ndarray:
    mask = np.ones(shape[-2:], dtype=bool)
    mask[width:-width, width:-width] = False
    return mask


def measure_dtt(
    rig: Rig, delay_fs: float, n_pairs: int = REFERENCE_PAIRS, dark: Image | None = None
) -> tuple[Image, Image]:
    """ΔT/T and its per-pixel standard error at one delay (chopper tags, pump shutter open)."""
    rig.set_delay_fs(delay_fs)
    started = not rig.camera.acquiring
    if started:
        rig.camera.start()
    try:
        if dark is None:
            dark = dark_frame(rig)
        probe = rig.probe_shutter
        assert probe is not None
        probe.open()
        rig.open_pump()
        frames, pump_on = read_frames(rig, 2 * n_pairs)
    finally:
        rig.close_pump()
        if started:
            rig.camera.stop()
    frames -= dark
    ring = border(frames.shape)
    frames /= frames[:, ring].mean(axis=1)[:, None, None]
    on, off = frames[pump_on], frames[~pump_on]
    dtt = on.mean(0) / off.mean(0) - 1.0
    err = np.sqrt(on.var(0, ddof=1) / len(on) + off.var(0, ddof=1) / len(off)) / off.mean(0)
    return dtt, err


def _gauss(
    xy: tuple[np.ndarray, np.ndarray], amp: float, x0: float, y0: float, sigma: float, c: float
) -> np.ndarray:
    x, y = xy
    return amp * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma**2)) + c


def fit_sigma(image: Image, pixel_nm: float, err: Image | None = None) -> dict[str, float]:
    """Isotropic 2-D Gaussian + offset fit (scipy curve_fit); σ, its error, amplitude."""
    h, w = image.shape
    y, x = np.mgrid[0:h, 0:w] * pixel_nm
    peak = float(image.flat[np.argmax(np.abs(image))])
    p0 = (peak, (w - 1) / 2 * pixel_nm, (h - 1) / 2 * pixel_nm, 150.0, 0.0)
    size = max(h, w) * pixel_nm
    data = ((x.ravel(), y.ravel()), image.ravel())
    weights = {"sigma": None if err is None else err.ravel(), "absolute_sigma": err is not None}
    try:  # Levenberg–Marquardt: fast when there is a spot to fit
        popt, pcov = curve_fit(_gauss, *data, p0=p0, **weights)  # type: ignore[arg-type]
        ok = 10.0 < abs(popt[3]) < size and 0 < popt[1] < size and 0 < popt[2] < size
    except RuntimeError:
        ok = False
    if not ok:  # noise only (before time zero): keep the fit inside the image
        popt, pcov = curve_fit(
            _gauss,
            *data,
            p0=p0,
            bounds=([-np.inf, 0, 0, 10.0, -np.inf], [np.inf, size, size, size, np.inf]),
            **weights,  # type: ignore[arg-type]
        )
    err_p = np.sqrt(np.diag(pcov))
    return {
        "amp": float(popt[0]),
        "sigma": float(abs(popt[3])),
        "sigma_err": float(err_p[3]),
        "x0": float(popt[1]),
        "x0_err": float(err_p[1]),
    }


# -- checks of the helpers themselves ---------------------------------------------------------
def test_fit_sigma_recovers_a_synthetic_gaussian() -> None:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:64, 0:64] * 50.0
    truth = 7e-4 * np.exp(-((x - 1580) ** 2 + (y - 1600) ** 2) / (2 * 160.0**2))
    noisy = truth + rng.normal(0, 2.5e-5, truth.shape)
    fit = fit_sigma(noisy, 50.0, np.full(truth.shape, 2.5e-5))
    # Cramér–Rao: sd(σ) = σ_N a / (√π A) = 1.0 nm
    assert fit["sigma"] == pytest.approx(160.0, abs=4.0)
    assert fit["sigma_err"] == pytest.approx(2.5e-5 * 50 / (math.sqrt(math.pi) * 7e-4), rel=0.2)


def test_set_n_abs_reaches_the_asked_value() -> None:
    with sim_rig() as rig:
        for target in (0.045, 0.09, 0.18):
            set_n_abs(rig, target)
            assert World.of(rig).n_abs() == pytest.approx(target, rel=1e-9)
