"""The σ(τ) model fit: its analytic Jacobian and the estimates it finds, against scipy's
finite differences (the fit as it was before the Jacobian was written out)."""

from __future__ import annotations

import numpy as np
import pytest
from sbc_support import demo_grid, draw_truth, paper_grid, scan_columns
from scipy.optimize._numdiff import approx_derivative

from tamrig.analysis import transport_model as tm
from tamrig.analysis.summary import significant_spots


def _residuals(free: tuple[bool, ...], theta: np.ndarray) -> tm._Residuals:
    t = np.concatenate([np.linspace(-40.0, 1900.0, 60), [100.0, 100.0, 300.0]])  # repeats
    rng = np.random.default_rng(1)
    s = tm.model_sigma(t, theta, 40.0) + rng.normal(0.0, 0.5, t.size)
    upper = tm._bounds(free)[1]
    return tm._Residuals(t, s, np.full(t.size, 0.5), 40.0, theta, np.array(free), upper)


@pytest.mark.parametrize(
    "free",
    [
        (True, True, True, True, False, True, False),
        (True, True, True, True, True, True, True),
        (True, False, False, False, False, True, False),
    ],
    ids=["default", "all", "linear"],
)
def test_jacobian_matches_finite_differences(free: tuple[bool, ...]) -> None:
    theta = np.array([141.0, 100.0, 350.0, 1.2, 6.0, 0.5, 300.0])
    if not free[1]:
        theta[1] = 0.0
    model = _residuals(free, theta)
    p = theta[np.array(free)]
    numeric = approx_derivative(model.residuals, p, method="3-point")
    analytic = model.jacobian(p)
    assert np.allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * np.abs(numeric).max())


def test_residuals_are_the_model() -> None:
    theta = np.array([141.0, 100.0, 350.0, 1.2, 6.0, 0.5, 300.0])
    free = (True,) * 7
    model = _residuals(free, theta)
    t = np.concatenate([np.linspace(-40.0, 1900.0, 60), [100.0, 100.0, 300.0]])
    expected = (tm.model_sigma(t, theta, 40.0) - model.s) / model.e
    assert np.allclose(model.residuals(theta), expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("grid", [demo_grid, paper_grid], ids=["demo", "paper"])
def test_estimates_match_the_finite_difference_fit_on_random_truths(grid: object) -> None:
    """Same optimum, same errors: every free parameter within 0.01 of its error."""
    delays, sweeps = grid()  # type: ignore[operator]
    rng = np.random.default_rng(17)
    compared = 0
    for _ in range(6):
        truth = draw_truth(rng)
        cols = scan_columns(truth, delays, sweeps, rng)
        use = significant_spots(cols["amplitude"], cols["amplitude_err"], 5.0)
        t = cols["delay_fs"][use] - truth.t0_fs
        s, e = cols["sigma_nm"][use], cols["sigma_err_nm"][use]
        irf = truth.irf_fwhm_fs
        cfg = tm.ModelSettings()
        free = (True, True, True, True, False, True, False)
        base = tm._linear_start(t, s)
        x0 = np.array([base[0], 100.0, 450.0, 1.2, 6.0, 0.0, 0.0])
        new = tm._fit(t, s, e, irf, cfg, x0, free, "superdiffusive")
        old = tm._fit(t, s, e, irf, cfg, x0, free, "superdiffusive", numeric_jacobian=True)
        assert new.ok == old.ok
        if not old.ok:
            continue
        compared += 1
        f = np.array(old.free)
        err = np.sqrt(np.diag(old.cov))[f]
        assert np.all(np.abs(new.theta - old.theta)[f] < 0.01 * err)
        assert np.allclose(np.sqrt(np.diag(new.cov))[f], err, rtol=0.01)
    assert compared >= 4


def test_a_quick_refit_is_the_full_fit_when_it_converges() -> None:
    """The live monitor's quick refit (one start, few steps, unbounded) from an earlier
    optimum lands on the full fit's optimum; too few steps from far away is a failure,
    never a half-converged value."""
    theta = np.array([141.0, 100.0, 350.0, 1.2, 6.0, 0.5, 0.0])
    rng = np.random.default_rng(5)
    t = np.arange(-20.0, 1000.0, 10.0)
    e = np.full(t.size, 0.5)
    s = tm.model_sigma(t, theta, 40.0) + rng.normal(0.0, 0.5, t.size)
    earlier = tm.fit_transport_model(t[:70], s[:70], e[:70], 40.0)  # to 680 fs
    full = tm.fit_transport_model(t, s, e, 40.0)
    quick = tm.fit_transport_model(t, s, e, 40.0, start=earlier, quick=True)
    assert full.ok and quick.ok and quick.kind == full.kind == "superdiffusive"
    f = np.array(full.free)
    err = np.sqrt(np.diag(full.cov))[f]
    assert np.all(np.abs(quick.theta - full.theta)[f] < 0.01 * err)
    assert np.allclose(np.sqrt(np.diag(quick.cov))[f], err, rtol=0.01)
    far = tm._fit(
        t,
        s,
        e,
        40.0,
        tm.ModelSettings(),
        np.array([150.0, 5.0, 5000.0, 3.0, 6.0, -50.0, 0.0]),
        full.free,
        "superdiffusive",
        quick=True,
    )
    assert not far.ok or np.all(np.abs(far.theta - full.theta)[f] < 0.01 * err)


def test_regularised_gamma_is_scipys_bit_for_bit() -> None:
    """The shortcut P = 1 beyond x = 40 + 3a changes no bit anywhere in the model's range
    of a = α/n (0.3/40 … 4/0.5)."""
    from scipy.special import gammainc

    rng = np.random.default_rng(3)
    for a in np.concatenate([[0.3 / 40, 8.0], rng.uniform(0.3 / 40, 8.0, 200)]):
        x = np.concatenate([np.geomspace(1e-12, 1e6, 400), rng.uniform(20.0, 80.0, 400)])
        assert np.array_equal(tm.regularised_gamma(float(a), x), gammainc(a, x))
