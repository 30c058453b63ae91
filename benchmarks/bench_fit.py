"""Speed and precision of the Gaussian fit against scipy.optimize.curve_fit.

Both methods fit the same noisy images of a symmetric Gaussian (σ = 141 nm, 50 nm pixels,
amplitude 1e-3, white noise 2.5e-4 per pixel) from the same start values. Prints, for
64×64 and 128×128 images: ms per fit (best of 5 passes over 50 images), the scatter of σ
over ``--draws`` noise draws divided by the Cramér–Rao bound of this very pixel grid
(Fisher matrix of the 5-parameter model), the pull width (scatter / reported error) and
the bias; then the speed-up over curve_fit (target >= 5x at equal precision).

    python benchmarks/bench_fit.py [--draws 300]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import curve_fit

from tamrig.analysis.fitting import cramer_rao_sigma_nm, fit_gaussian, start_values
from tamrig.process import tune

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


def crb_sigma_nm(size: int, centre: tuple[float, float]) -> float:
    """Cramér–Rao bound on σ for white noise on this grid: sqrt((JᵀJ)⁻¹)σσ · noise."""
    y, x = np.mgrid[0:size, 0:size].astype(float)
    s = SIGMA_NM / PIXEL_NM
    r2 = (x - centre[0]) ** 2 + (y - centre[1]) ** 2
    g = np.exp(-r2 / (2 * s * s))
    jac = np.stack(
        [
            g,  # d/dA
            AMPLITUDE * g * (x - centre[0]) / s**2,  # d/dx0
            AMPLITUDE * g * (y - centre[1]) / s**2,  # d/dy0
            AMPLITUDE * g * r2 / s**3,  # d/dσ
            np.ones_like(g),  # d/doffset
        ]
    ).reshape(5, -1)
    cov = np.linalg.inv(jac @ jac.T) * NOISE**2
    return float(np.sqrt(cov[3, 3])) * PIXEL_NM


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
    bound = crb_sigma_nm(size, (c, c + 0.4))
    pulls = (results[:, 0] - SIGMA_NM) / results[:, 1]
    return {
        "ms": elapsed * 1e3,
        "sd_over_crb": float(np.std(results[:, 0], ddof=1) / bound),
        "pull_sd": float(np.std(pulls, ddof=1)),
        "bias_nm": float(np.mean(results[:, 0]) - SIGMA_NM),
    }


def measure(draws: int = 300) -> dict[str, float]:
    """Flat results: ``{size}_{method}_{ms|sd_over_crb|pull_sd|bias_nm}``, ``{size}_speedup``."""
    out: dict[str, float] = {}
    for size in (64, 128):
        for name, method in (("tamrig", fit_with_tamrig), ("curve_fit", fit_with_curve_fit)):
            for key, value in run(size, draws, method).items():
                out[f"{size}_{name}_{key}"] = value
        out[f"{size}_speedup"] = out[f"{size}_curve_fit_ms"] / out[f"{size}_tamrig_ms"]
    return out


def main() -> None:
    tune()  # as the tamrig command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    args = parser.parse_args()
    print(f"σ = {SIGMA_NM} nm, pixel {PIXEL_NM} nm, A = {AMPLITUDE}, noise {NOISE} per pixel")
    print(
        f"Cramér–Rao bound sd(σ): 64x64 {crb_sigma_nm(64, (31.7, 32.1)):.3f} nm, "
        f"128x128 {crb_sigma_nm(128, (63.7, 64.1)):.3f} nm "
        f"(tamrig.analysis's closed form: {cramer_rao_sigma_nm(NOISE, PIXEL_NM, AMPLITUDE):.3f})"
    )
    r = measure(args.draws)
    print(f"{'image':>8} {'method':>10} {'ms/fit':>8} {'sd/CRB':>7} {'pull sd':>8} {'bias nm':>8}")
    for size in (64, 128):
        for name in ("tamrig", "curve_fit"):
            k = f"{size}_{name}_"
            print(
                f"{size:>4}x{size:<3} {name:>10} {r[k + 'ms']:8.3f} {r[k + 'sd_over_crb']:7.3f} "
                f"{r[k + 'pull_sd']:8.3f} {r[k + 'bias_nm']:8.3f}"
            )
        print(f"{'':>8} speed-up over curve_fit: {r[f'{size}_speedup']:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
