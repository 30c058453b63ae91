"""Pixel weights of the spot fit: errors pooled with their neighbours' stay honest at few pairs.

The per-pixel error of ΔT/T has n_on + n_off − 2 degrees of freedom; at 2 pairs per point
weights 1/err² of the raw estimates let a few pixels whose error happens to come out tiny
dominate the fit (narrow, "significant" spots; pull spread 5–7). Random truths, made frame
by frame and averaged by the real accumulator (tests/pixel_weights_support.py), show the
pooled weights give an unbiased width with honest errors at 2, 3, 5 and 50 pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness_storage import write_reference
from pixel_weights_support import (
    PIXEL_NM,
    SHAPE,
    average_frames,
    draws,
    monitor_width,
    probe_counts,
    raw_width,
)

from tamrig.analysis import pixel_weights as pw
from tamrig.analysis.monitor import LiveMonitor
from tamrig.engine.session import _replay
from tamrig.records import DifferentialImage, GaussianFit, TransportPoint

DRAWS = 200


@pytest.mark.parametrize(("pairs", "seed"), [(2, 11), (3, 12), (5, 13), (50, 14)])
def test_random_truths_give_unbiased_widths_with_honest_errors(pairs: int, seed: int) -> None:
    rows, missed = draws(pairs, seed, DRAWS)
    pulls = (rows[:, 0] - rows[:, 2]) / rows[:, 1]
    assert missed <= 0.12 * DRAWS  # the faintest spots at 2 pairs are not significant
    assert abs(pulls.mean()) < 0.2  # bias a small fraction of the error
    assert 0.8 < pulls.std(ddof=1) < 1.25
    assert 0.6 <= np.mean(np.abs(pulls) < 1.0) <= 0.76  # 1σ coverage ≈ 68 %


def test_two_pairs_find_no_narrow_spots_on_lucky_pixels() -> None:
    """The former weights, on the same images, found spots far narrower than the truth with
    confident errors; the pooled weights find none."""
    narrow = {}
    for name, width in (("pooled", monitor_width), ("raw", raw_width)):
        rows, _ = draws(2, 105, DRAWS, width)
        narrow[name] = int(np.sum(rows[:, 0] < rows[:, 2] - 4.0 * rows[:, 1]))
    assert narrow["pooled"] == 0
    assert narrow["raw"] >= 5  # what the test guards against


def test_constant_errors_are_kept() -> None:
    err = np.full(SHAPE, 3e-5)
    for dof in (2, 98, 298):
        np.testing.assert_allclose(pw.pooled_variance(err, dof), err**2, rtol=1e-12)


def test_an_error_estimated_far_too_small_is_pooled_away_at_few_pairs() -> None:
    err = np.full(SHAPE, 1e-4)
    err[10, 12] = 1e-6  # a "lucky" pixel: its variance 10⁴ times too small
    var = pw.pooled_variance(err, pw.degrees_of_freedom(2, 2))
    assert var[10, 12] > 0.9 * 1e-8
    others = np.delete(var, 10, axis=0)
    assert np.all((others > 0.95e-8) & (others <= 1e-8 * (1 + 1e-12)))


def test_a_really_noisy_pixel_keeps_its_error_with_many_pairs() -> None:
    """Pooling must not hide a hot pixel once its own error is well measured (150 pairs)."""
    err = np.full(SHAPE, 1e-4)
    err[10, 12] = 1e-3
    var = pw.pooled_variance(err, pw.degrees_of_freedom(150, 150))
    assert var[10, 12] > 0.85 * 1e-6
    assert var[10, 11] < 1.6 * 1e-8  # and weighs its neighbours down by at most a third


def test_pixels_without_an_error_neither_count_nor_pool() -> None:
    err = np.full(SHAPE, 1e-4)
    err[5, 5], err[5, 6], err[5, 7], err[5, 8] = np.nan, np.inf, 0.0, -1.0
    w = pw.fit_weights(err, 2, 2)
    assert w is not None
    assert np.all(w[5, 5:9] == 0)
    assert w[5, 4] == pytest.approx(1e8) and w[6, 6] == pytest.approx(1e8)
    assert pw.fit_weights(np.full(SHAPE, np.nan), 2, 2) is None


def test_unknown_frame_counts_keep_the_raw_errors() -> None:
    err = np.random.default_rng(1).uniform(1e-5, 1e-4, SHAPE)
    assert pw.degrees_of_freedom(0, 0) == 0
    np.testing.assert_array_equal(pw.pooled_variance(err, 0), err**2)


def test_edges_pool_over_the_neighbours_inside_the_image() -> None:
    """A corner has 8 neighbours in its 5×5 window: its prior counts 8·d degrees of freedom."""
    err = np.full(SHAPE, 1e-4)
    err[0, 0] = 2e-4
    var = pw.pooled_variance(err, 2)
    prior = 8 * 2
    assert var[0, 0] == pytest.approx((2 * 4e-8 + prior * 1e-8) / (2 + prior))


def test_degrees_of_freedom_are_both_frame_counts_less_two() -> None:
    assert pw.degrees_of_freedom(2, 2) == 2
    assert pw.degrees_of_freedom(2, 1) == 1
    assert pw.degrees_of_freedom(150, 150) == 298
    assert pw.degrees_of_freedom(1, 0) == 0  # never negative


ODD_SHAPE = (9, 11)


def test_one_degree_of_freedom_is_pooled_with_all_24_neighbours() -> None:
    """2 pump-on and 1 pump-off frame: d = 1, the interior prior counts min(40, 24·1) = 24."""
    err = np.full(ODD_SHAPE, 1e-4)
    err[4, 5] = 2e-4
    var = pw.pooled_variance(err, 1)
    assert var[4, 5] == pytest.approx((1 * 4e-8 + 24 * 1e-8) / (1 + 24), rel=1e-12)


def test_the_neighbourhood_counts_for_at_most_prior_dof() -> None:
    """150 pairs: d = 298, the interior prior is capped at PRIOR_DOF = 40."""
    assert pw.PRIOR_DOF == 40.0
    err = np.full(ODD_SHAPE, 1e-4)
    err[4, 5] = 2e-4
    var = pw.pooled_variance(err, 298)
    assert var[4, 5] == pytest.approx((298 * 4e-8 + 40 * 1e-8) / (298 + 40), rel=1e-12)


def test_a_pixel_with_a_single_valid_neighbour_pools_with_it_alone() -> None:
    err = np.full(ODD_SHAPE, np.nan)
    err[3, 3], err[3, 4] = 1e-4, 2e-4
    var = pw.pooled_variance(err, 2)
    # prior = min(40, 2·1) = 2 degrees of freedom at the neighbour's variance
    assert var[3, 3] == pytest.approx((2 * 1e-8 + 2 * 4e-8) / 4, rel=1e-12)
    assert var[3, 4] == pytest.approx((2 * 4e-8 + 2 * 1e-8) / 4, rel=1e-12)
    assert np.isinf(np.delete(var.ravel(), [3 * 11 + 3, 3 * 11 + 4])).all()


def test_a_resumed_scans_replay_gives_the_fit_the_stored_frame_counts(tmp_path: Path) -> None:
    """The replay refits stored images: without their frame counts the weights would fall
    back to the raw errors, and a resumed few-pair scan would fit differently from the
    scan that wrote it."""
    path = write_reference(tmp_path / "scan.h5")
    seen: list[DifferentialImage] = []

    class Capture:
        def update(
            self, *, delay_fs: float, series: str, image: DifferentialImage, settle: bool = False
        ) -> tuple[GaussianFit, TransportPoint | None]:
            seen.append(image)
            return LiveMonitor(PIXEL_NM).update(delay_fs=delay_fs, series=series, image=image)

    assert _replay(path, Capture()) == 4
    assert [(i.n_on, i.n_off) for i in seen] == [(50, 50)] * 4


def test_two_pair_sweeps_start_fits_from_the_previous_spot_and_end_where_the_image_leads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With pooled weights χ²_red ≈ 1 at 2 pairs, so the monitor starts fits from the
    curve's previous spot (as at 50 pairs); each must end where the image's own start
    values lead: the same fits fail, widths agree to a tenth of their error."""
    from simulators.sample import SampleSettings, VirtualSample
    from tamrig.analysis import monitor as live

    cqd = VirtualSample(SampleSettings(preset="cqd"))
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(float)
    r2 = ((x - 15.4) ** 2 + (y - 16.2) ** 2) * PIXEL_NM**2
    original = live.fit_gaussian
    warm = 0

    def counting(*args: Any, **kwargs: Any) -> GaussianFit:
        nonlocal warm
        warm += kwargs.get("start") is not None
        return original(*args, **kwargs)

    monkeypatch.setattr(live, "fit_gaussian", counting)
    fits = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        delays = rng.permutation(np.r_[-800.0, -300.0, np.arange(-100.0, 900.0, 25.0)])
        probe = probe_counts(rng)
        mon = LiveMonitor(PIXEL_NM)
        for delay in delays:
            image = average_frames(rng, cqd.dtt_image(float(delay), 0.045, 905.0, r2), 2, probe)
            fit, _ = mon.update(delay_fs=float(delay), series="s", image=image)
            own = original(image.dtt, PIXEL_NM, weights=live._weights(image))
            assert fit.converged == own.converged
            if own.converged:
                assert abs(fit.sigma_nm - own.sigma_nm) < 0.1 * own.sigma_err_nm
            fits += 1
    assert warm >= 0.6 * fits
