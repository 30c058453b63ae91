"""Speed and precision of the Gaussian fit against scipy.optimize.curve_fit.

Prints the time per fit for 64×64 and 128×128 images with both methods and the scatter of σ
over repeated noise draws relative to the Cramér–Rao bound. Run:
``python benchmarks/bench_fit.py [--draws N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import curve_fit

from tamrig.fitting import cramer_rao_sigma_nm, fit_gaussian, start_values

PIXEL_NM = 50.0
SIGMA_NM = 141.0
AMPLITUDE = 1.0e-3
NOISE = 2.5e-4


def gaussian(
    xy: tuple[np.ndarray, np.ndarray], a: float, x0: float, y0: float, s: float, c: float
) -> np.ndarray:
    x, y = xy
    return a * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s * s)) + c


def fit_with_curve_fit(image: np.ndarray) -> tuple[float, float]:
    """The generic route: scipy's curve_fit (LM, numerical Jacobian), same start values."""
    ny, nx = image.shape
    y, x = np.mgrid[0:ny, 0:nx].astype(float)
    p0 = start_values(image)
    popt, pcov = curve_fit(gaussian, (x.ravel(), y.ravel()), image.ravel(), p0=p0)
    return abs(popt[3]) * PIXEL_NM, float(np.sqrt(pcov[3, 3])) * PIXEL_NM


def fit_with_tamrig(image: np.ndarray) -> tuple[float, float]:
    fit = fit_gaussian(image, PIXEL_NM)
    return fit.sigma_nm, fit.sigma_err_nm


def fit_with_tamrig_weighted(image: np.ndarray) -> tuple[float, float]:
    """As the live monitor calls it: per-pixel errors from the accumulator as weights."""
    fit = fit_gaussian(image, PIXEL_NM, weights=np.full(image.shape, 1.0 / NOISE**2))
    return fit.sigma_nm, fit.sigma_err_nm


def run(size: int, draws: int, method: Callable[[np.ndarray], tuple[float, float]]) -> dict:
    rng = np.random.default_rng(size)
    y, x = np.mgrid[0:size, 0:size].astype(float)
    c = size / 2 - 0.3
    clean = gaussian((x, y), AMPLITUDE, c, c + 0.4, SIGMA_NM / PIXEL_NM, 0.0)
    images = [clean + rng.normal(0, NOISE, clean.shape) for _ in range(draws)]
    results = np.array([method(im) for im in images])
    # Best of several timed passes over the first images: the least disturbed by other load.
    subset = images[: min(draws, 50)]
    passes = []
    for _ in range(5):
        start = time.perf_counter()
        for im in subset:
            method(im)
        passes.append((time.perf_counter() - start) / len(subset))
    elapsed = min(passes)
    bound = cramer_rao_sigma_nm(NOISE, PIXEL_NM, AMPLITUDE)
    pulls = (results[:, 0] - SIGMA_NM) / results[:, 1]
    return {
        "ms": elapsed * 1e3,
        "sd_over_crb": float(np.std(results[:, 0], ddof=1) / bound),
        "pull_sd": float(np.std(pulls, ddof=1)),
        "bias_nm": float(np.mean(results[:, 0]) - SIGMA_NM),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=300)
    args = parser.parse_args()
    print(f"σ = {SIGMA_NM} nm, pixel {PIXEL_NM} nm, A = {AMPLITUDE}, noise {NOISE} per pixel")
    print(f"Cramér–Rao bound sd(σ) = {cramer_rao_sigma_nm(NOISE, PIXEL_NM, AMPLITUDE):.3f} nm")
    print(f"{'image':>8} {'method':>10} {'ms/fit':>8} {'sd/CRB':>7} {'pull sd':>8} {'bias nm':>8}")
    for size in (64, 128):
        times = {}
        methods = (
            ("tamrig", fit_with_tamrig),
            ("weighted", fit_with_tamrig_weighted),
            ("curve_fit", fit_with_curve_fit),
        )
        for name, method in methods:
            r = run(size, args.draws, method)
            times[name] = r["ms"]
            print(
                f"{size:>4}x{size:<3} {name:>10} {r['ms']:8.3f} {r['sd_over_crb']:7.3f} "
                f"{r['pull_sd']:8.3f} {r['bias_nm']:8.3f}"
            )
        print(f"{'':>8} speed-up over curve_fit: {times['curve_fit'] / times['tamrig']:.1f}x")


if __name__ == "__main__":
    main()
