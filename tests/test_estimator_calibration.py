"""Simulation-based calibration, fast subset: random truths on the demo and the paper grid.

For σ₀, peak D, t_peak, L, α, D_hop and the Auger growth the targets are |bias| < 0.5 ×
the typical reported error, a pull spread of 0.8–1.25 and 68 % intervals covering 60–76 %
of the truths. A CI run has few draws, so each bound is widened by three times the sampling
spread of its statistic over that many draws (pull spread: 1/√(2n); coverage: the binomial
√(p(1−p)/n); bias, measured as the mean pull: its standard error). The draws are seeded, so the
test is deterministic; benchmarks/calibrate_estimators.py runs many more draws for the
table in docs/analysis.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sbc_support import (
    QUANTITIES,
    Calibration,
    calibrate,
    demo_grid,
    draw_truth,
    image,
    observed,
    paper_grid,
)

from tamrig.analysis import fit_gaussian

PIXEL_NM = 50.0


def test_width_level_data_match_fits_of_the_images() -> None:
    """The generator's widths and errors are what a Gaussian fit of the image reports."""
    rng = np.random.default_rng(42)
    truth = draw_truth(rng)
    y, x = np.mgrid[0:64, 0:64].astype(float)
    r2 = ((x - 31.3) ** 2 + (y - 32.6) ** 2) * PIXEL_NM**2
    pixel_noise = truth.noise * math.sqrt(math.pi) / PIXEL_NM
    for delay in (truth.t0_fs + 10.0, 300.0, 2000.0):
        sigma, amp = observed(truth, np.array([delay]))
        clean = image(truth, delay, r2)
        fits = [
            fit_gaussian(clean + rng.normal(0, pixel_noise, r2.shape), PIXEL_NM) for _ in range(60)
        ]
        widths = np.array([f.sigma_nm for f in fits])
        amps = np.array([f.amplitude for f in fits])
        err_sigma = truth.noise / abs(amp[0])
        err_amp = math.sqrt(2.0) * truth.noise / sigma[0]
        assert fit_gaussian(clean, PIXEL_NM).sigma_nm == pytest.approx(sigma[0], abs=0.05)
        assert abs(widths.mean() - sigma[0]) < 4 * err_sigma / math.sqrt(widths.size) + 0.05
        assert 0.75 < widths.std(ddof=1) / err_sigma < 1.3
        assert 0.75 < amps.std(ddof=1) / err_amp < 1.3
        assert np.median([f.sigma_err_nm for f in fits]) == pytest.approx(err_sigma, rel=0.1)


def _check(c: Calibration, draws: int) -> None:
    n = c.n
    assert n >= 0.8 * draws, f"{c.quantity}: reported in only {n} of {draws} draws"
    spread = 3 / math.sqrt(2 * n)
    assert 0.8 - spread < c.pull_sd < 1.25 + spread, c
    binomial = 3 * math.sqrt(0.68 * 0.32 / n)
    assert 0.60 - binomial < c.coverage < 0.76 + binomial, c
    # the bias bound: half an error (mean pull), plus the mean's own scatter
    assert abs(c.relative_bias) < 0.5 + 3 * c.pull_sd / math.sqrt(n), c


@pytest.mark.parametrize(
    ("grid", "draws", "seed"),
    [(demo_grid, 40, 2026), (paper_grid, 16, 7)],
    ids=["demo", "paper"],
)
def test_random_truths_are_recovered_with_honest_errors(
    grid: object, draws: int, seed: int
) -> None:
    delays, sweeps = grid()  # type: ignore[operator]
    results, _ = calibrate(delays, sweeps, draws, seed)
    for q in QUANTITIES:  # t₀ and the IRF have tests of their own
        _check(results[q], draws)
