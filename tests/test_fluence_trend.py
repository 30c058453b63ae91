"""Peak D against fluence: the weighted straight line and its use on a simulated series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulators.sample import SampleSettings, VirtualSample, peak_truths
from tamrig.analysis import analyse_points
from tamrig.analysis.fluence_trend import fluence_by_series, peak_fluence_trends
from tamrig.analysis.linefit import weighted_line

FLUENCES = (0.045, 0.09, 0.18)


def test_weighted_line_is_unbiased_with_honest_errors_on_random_truths() -> None:
    """Random slopes, intercepts, x values and errors: pulls of the slope have unit spread,
    no bias, and the ±1 error interval covers ~68 %."""
    rng = np.random.default_rng(1)
    pulls = []
    for _ in range(2000):
        n = int(rng.integers(3, 6))
        x = np.sort(rng.uniform(0.02, 0.3, n))
        err = rng.uniform(0.5, 10.0, n)
        slope, intercept = rng.uniform(-300, 300), rng.uniform(20, 150)
        y = intercept + slope * x + rng.normal(0, err)
        line = weighted_line(x, y, err)
        assert line is not None and line.n_points == n
        pulls.append((line.slope - slope) / line.slope_err)
    p = np.array(pulls)
    assert abs(p.mean()) < 0.1
    assert 0.9 < p.std(ddof=1) < 1.1
    assert 0.64 < np.mean(np.abs(p) < 1) < 0.72


def test_weighted_line_needs_two_distinct_usable_points() -> None:
    assert weighted_line([0.1], [1.0], [0.1]) is None
    assert weighted_line([0.1, 0.1], [1.0, 2.0], [0.1, 0.1]) is None
    assert weighted_line([0.1, 0.2, 0.3], [1.0, math.nan, 2.0], [0.1, 0.1, 0.0]) is None
    line = weighted_line([0.1, 0.2], [1.0, 3.0], [0.1, 0.1])
    assert line is not None and line.slope == pytest.approx(20.0)
    assert math.isnan(line.reduced_chi2)  # no degree of freedom left


def _points(seed: int, sigma_err_nm: float = 0.15) -> dict[str, np.ndarray]:
    """Per-point widths of three fluences on a 20 fs grid (σ from the sample's MSD)."""
    sample = VirtualSample(SampleSettings(preset="cqd"))
    rng = np.random.default_rng(seed)
    delays = np.concatenate([np.arange(-200.0, 1001.0, 20.0), np.geomspace(2e3, 2e6, 25)])
    cols: dict[str, list[float | str]] = {k: [] for k in ("delay_fs", "sigma_nm", "n_abs")}
    cols |= {"sigma_err_nm": [], "fluence_label": [], "fluence_uj_cm2": []}
    for n_abs in FLUENCES:
        sigma = np.sqrt(sample.sigma2_nm2(delays, n_abs))
        cols["delay_fs"] += delays.tolist()
        cols["sigma_nm"] += (sigma + rng.normal(0, sigma_err_nm, delays.size)).tolist()
        cols["sigma_err_nm"] += [sigma_err_nm] * delays.size
        cols["n_abs"] += [n_abs] * delays.size
        cols["fluence_label"] += [f"N={n_abs:g}"] * delays.size
        cols["fluence_uj_cm2"] += [16.1 * n_abs / 0.045] * delays.size
    out = {k: np.asarray(v) for k, v in cols.items()}
    out["probe_wavelength_nm"] = np.full(out["delay_fs"].size, 905.0)
    return out


def test_peak_d_falls_with_fluence_like_the_simulated_sample() -> None:
    points = _points(seed=2)
    analysis = analyse_points(points)
    trends = peak_fluence_trends(analysis.series, fluence_by_series(points))
    (trend,) = trends.values()
    assert trend.probe_wavelength_nm == 905.0 and trend.n_abs == FLUENCES
    assert trend.fluence_uj_cm2 == pytest.approx((16.1, 32.2, 64.4))
    truths = peak_truths(SampleSettings(preset="cqd"), FLUENCES)
    true_line = weighted_line(FLUENCES, [t.d_peak_cm2_s for t in truths], [1.0, 1.0, 1.0])
    assert true_line is not None and true_line.slope == pytest.approx(-89.5, abs=1.0)
    line = trend.line
    assert line is not None and line.n_points == 3
    assert abs(line.slope - true_line.slope) < 3 * line.slope_err
    assert line.slope_err < 40.0  # resolved: the fall is several σ
    assert trend.verdict.startswith("peak D decreases with fluence")
    assert trend.slope_cm2_s == line.slope and trend.slope_err_cm2_s == line.slope_err
