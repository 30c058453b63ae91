"""Time zero and instrument response from the rise of the signal amplitude."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.sample import SampleSettings, VirtualSample
from tamrig.analysis.timezero import FWHM_PER_SIGMA, fit_time_zero, rise_model


def test_exact_model_is_recovered_with_honest_errors() -> None:
    t = np.arange(-300.0, 600.0, 10.0)
    truth = dict(c=2e-6, a=8e-4, t0=37.0, s=40.0 / FWHM_PER_SIGMA, b=-2.4e-4, tau=180.0)
    clean = rise_model(t, **truth)
    pulls_t0, pulls_fwhm = [], []
    for seed in range(60):
        y = clean + np.random.default_rng(seed).normal(0, 1.5e-5, t.size)
        fit = fit_time_zero(t, y, np.full(t.size, 1.5e-5))
        assert fit.ok, fit.message
        pulls_t0.append((fit.t0_fs - 37.0) / fit.t0_err_fs)
        pulls_fwhm.append((fit.irf_fwhm_fs - 40.0) / fit.irf_fwhm_err_fs)
    assert abs(np.mean(pulls_t0)) < 0.4 and 0.7 < np.std(pulls_t0) < 1.3
    assert abs(np.mean(pulls_fwhm)) < 0.4 and 0.7 < np.std(pulls_fwhm) < 1.3


@pytest.mark.parametrize("probe_nm", [905.0, 670.0])  # bleach (> 0) and PIA (< 0)
def test_simulated_sample_rise_gives_t0_and_the_40_fs_irf(probe_nm: float) -> None:
    sample = VirtualSample(SampleSettings(preset="cqd"))
    t = np.arange(-200.0, 400.0, 10.0)
    t0 = -23.0  # the stage's zero is off by 23 fs
    amp = np.array([sample.dtt_image(x - t0, 0.045, probe_nm, np.zeros(1), 61)[0] for x in t])
    rng = np.random.default_rng(1)
    y = amp + rng.normal(0, 1e-5, t.size)
    fit = fit_time_zero(t, y, np.full(t.size, 1e-5))
    assert fit.ok
    assert np.sign(fit.amplitude) == np.sign(amp[-1])
    # the kinetics after t₀ are not one exponential: allow a few fs of model error
    assert fit.t0_fs == pytest.approx(t0, abs=3.0)
    assert fit.irf_fwhm_fs == pytest.approx(40.0, rel=0.15)
    step = fit_time_zero(t, y, np.full(t.size, 1e-5), with_decay=False, t_range_fs=(-200, 100))
    assert step.ok and np.isnan(step.decay_tau_fs)
    assert step.t0_fs == pytest.approx(t0, abs=3.0)
    assert step.irf_fwhm_fs == pytest.approx(40.0, rel=0.15)


def test_unweighted_fit_and_unsorted_input() -> None:
    t = np.arange(-200.0, 300.0, 8.0)
    y = rise_model(t, 0.0, 1.0, 5.0, 20.0)
    order = np.random.default_rng(2).permutation(t.size)
    fit = fit_time_zero(t[order], y[order], with_decay=False)
    assert fit.ok
    assert fit.t0_fs == pytest.approx(5.0, abs=1e-3)
    assert fit.irf_fwhm_fs == pytest.approx(20.0 * FWHM_PER_SIGMA, rel=1e-3)
    assert np.isnan(fit.reduced_chi2)  # no errors given


def test_too_few_points_is_reported_not_raised() -> None:
    fit = fit_time_zero([0.0, 10.0, 20.0], [0.0, 1.0, 1.0])
    assert not fit.ok and "at least" in fit.message


def test_non_finite_points_are_dropped() -> None:
    t = np.arange(-200.0, 300.0, 10.0)
    y = rise_model(t, 0.0, 1.0, 0.0, 17.0)
    y[3] = np.nan
    e = np.full(t.size, 0.01)
    e[7] = 0.0
    fit = fit_time_zero(t, y, e, with_decay=False)
    assert fit.ok and fit.t0_fs == pytest.approx(0.0, abs=0.5)


def test_rise_jacobian_matches_finite_differences() -> None:
    """The closed-form derivatives the fit uses, with and without the exponential term."""
    from scipy.optimize._numdiff import approx_derivative

    from tamrig.analysis.timezero import _rise_jacobian

    t = np.linspace(-300.0, 400.0, 57)
    for p in ([0.1, 1.2, 7.0, 18.0, 0.4, 150.0], [-0.05, -2.0, -30.0, 9.0, -0.7, 40.0]):
        theta = np.array(p)
        numeric = approx_derivative(lambda q: rise_model(t, *q), theta, method="3-point")
        assert np.allclose(_rise_jacobian(t, *theta), numeric, atol=1e-8 * np.abs(numeric).max())
        step = approx_derivative(lambda q: rise_model(t, *q), theta[:4], method="3-point")
        assert np.allclose(_rise_jacobian(t, *theta[:4]), step, atol=1e-8 * np.abs(step).max())


def test_a_warm_start_finds_the_same_rise() -> None:
    """Started from an earlier fit (the live monitor's refits) the optimum is the cold one."""
    rng = np.random.default_rng(11)
    t = np.arange(-400.0, 401.0, 20.0)
    truth = dict(c=0.0, a=1e-3, t0=12.0, s=17.0, b=3e-4, tau=150.0)
    e = np.full(t.size, 1.5e-5)
    y = rise_model(t, **truth) + rng.normal(0, 1.5e-5, t.size)
    early = fit_time_zero(t[::2], y[::2], e[::2])
    cold = fit_time_zero(t, y, e)
    warm = fit_time_zero(t, y, e, start=early)
    assert cold.ok and warm.ok
    assert abs(warm.t0_fs - cold.t0_fs) < 0.01 * cold.t0_err_fs
    assert abs(warm.irf_fwhm_fs - cold.irf_fwhm_fs) < 0.01 * cold.irf_fwhm_err_fs
    assert warm.t0_err_fs == pytest.approx(cold.t0_err_fs, rel=1e-3)


def test_a_quick_refit_finds_the_same_rise_or_says_it_did_not() -> None:
    """The live monitor's quick rise refit (unbounded, few steps) from an earlier fit: the
    optimum of the full fit when it converges inside the bounds; not ok otherwise."""
    rng = np.random.default_rng(12)
    t = np.arange(-400.0, 401.0, 20.0)
    truth = dict(c=0.0, a=1e-3, t0=-8.0, s=17.0, b=3e-4, tau=150.0)
    e = np.full(t.size, 1.5e-5)
    y = rise_model(t, **truth) + rng.normal(0, 1.5e-5, t.size)
    early = fit_time_zero(t[::2], y[::2], e[::2])
    full = fit_time_zero(t, y, e)
    quick = fit_time_zero(t, y, e, start=early, quick=True)
    assert full.ok and quick.ok
    assert abs(quick.t0_fs - full.t0_fs) < 0.01 * full.t0_err_fs
    assert abs(quick.irf_fwhm_fs - full.irf_fwhm_fs) < 0.01 * full.irf_fwhm_err_fs
    assert quick.t0_err_fs == pytest.approx(full.t0_err_fs, rel=1e-3)
    flat = fit_time_zero(t[:8], rng.normal(0, 1.5e-5, 8), e[:8], quick=True)
    assert not flat.ok and flat.message  # no rise in the data: says so, no exception


def test_a_quick_refit_that_runs_away_is_quiet() -> None:
    """Unbounded steps may drive the IRF or decay time to zero (noise, or a fast decay with
    few points); the quick fit then says it failed and leaves no overflow warnings."""
    import warnings

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(40):
            t = np.sort(rng.uniform(-400, 400, int(rng.integers(8, 30))))
            if k % 3 == 0:
                y = rng.normal(0, 1e-5, t.size)
            elif k % 3 == 1:
                y = rise_model(t, 0, 1e-3, 0, 17) + rng.normal(0, 1e-5, t.size)
            else:
                y = rise_model(t, 0, 1e-3, 0, 17, 5e-4, 30) + rng.normal(0, 3e-5, t.size)
            e = np.full(t.size, 1e-5)
            half = t.size // 2 + 4
            early = fit_time_zero(t[:half], y[:half], e[:half])
            quick = fit_time_zero(t, y, e, start=early if early.ok else None, quick=True)
            assert quick.ok or quick.message


def test_noise_without_a_rise_resolves_no_time_zero() -> None:
    """A probe wavelength without signal: a step fitted to pure noise once "resolved" a t₀
    (often pinned at the first delay) in 18 % of draws; the rise must stand out of the noise."""
    t = np.arange(-400.0, 401.0, 20.0)
    resolved = 0
    for seed in range(200):
        y = np.random.default_rng(seed).normal(0.0, 1.0, t.size)
        fit = fit_time_zero(t, y, np.ones(t.size))
        resolved += fit.ok
        if not fit.ok and fit.message.startswith("no rise above the noise"):
            assert "needs 5 × its error" in fit.message
    assert resolved <= 2  # ≤ 1 %
    flat = fit_time_zero(t, np.full(t.size, 2.0), np.ones(t.size))
    assert not flat.ok
    # a real rise of 8 noise sd is resolved, and where it is
    rise = rise_model(t, 0.0, 8.0, 15.0, 17.0)
    y = rise + np.random.default_rng(5).normal(0.0, 1.0, t.size)
    fit = fit_time_zero(t, y, np.ones(t.size), with_decay=False)
    assert fit.ok, fit.message
    assert fit.t0_fs == pytest.approx(15.0, abs=4 * fit.t0_err_fs)
