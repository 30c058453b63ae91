"""The D(t) figure shows the curves, whatever lies inside the instrument response."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from tamrig.analysis.figures import _d_range


def test_a_wild_point_does_not_set_the_d_axis() -> None:
    """One point a few fs after time zero gives D = MSD/2t of 1e5 cm²/s; the range must
    still show the 40–100 cm²/s curves (the bulk of points and the smoothed curve)."""
    rng = np.random.default_rng(3)
    points = [np.r_[rng.uniform(40, 100, 30), 1.4e5]]
    curve = [np.linspace(45, 98, 50)]
    fig, ax = plt.subplots()
    _d_range(ax, points, curve)
    low, high = ax.get_ylim()
    plt.close(fig)
    assert low == 0.0
    assert 98 < high < 130


def test_negative_values_extend_the_range_below_zero() -> None:
    fig, ax = plt.subplots()
    _d_range(ax, [np.linspace(-20, 80, 21)], [])
    low, high = ax.get_ylim()
    plt.close(fig)
    assert low < -10 and 75 < high < 110


def test_no_values_leave_the_axis_alone() -> None:
    fig, ax = plt.subplots()
    before = ax.get_ylim()
    _d_range(ax, [np.array([np.nan])], [])
    assert ax.get_ylim() == before
    plt.close(fig)
