"""The super-diffusive peak search at its edges: too few points, a smoothing that cannot be
determined, σ₀'s error in the peak's errors, and which estimate (model or smoothed) reports."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_analysis import synthetic
from test_drift import reference_rows

from simulators.sample import SampleSettings, VirtualSample
from tamrig.analysis.drift import reference_drift
from tamrig.analysis.peak import NO_REGIME, PeakSettings, SuperDiffusivePeak, superdiffusive_peak
from tamrig.analysis.powerlaw import local_exponent
from tamrig.analysis.regimes import AugerRegime, HoppingRegime, auger_regime, fluence_dependence
from tamrig.analysis.series import TransportSeries, series_from_msd, series_from_sigma
from tamrig.analysis.transport_model import PARAMS, model_msd
from tamrig.units import einstein_mobility_cm2_vs


def msd_series(delays: list[float], sigma0_err_nm: float = 0.5) -> TransportSeries:
    t = np.asarray(delays, dtype=float)
    return series_from_msd(t, 100.0 * t, np.full(t.size, 50.0), 141.0, sigma0_err_nm)


def assert_nothing_reported(peak: SuperDiffusivePeak) -> None:
    assert not peak.found and peak.status == "none"
    numbers = (peak.d_peak_cm2_s, peak.t_peak_fs, peak.length_nm, peak.mobility_cm2_vs)
    assert all(np.isnan(x) for x in numbers)
    assert np.isnan(peak.d_peak_err_cm2_s) and np.isnan(peak.rise_z)


@pytest.mark.parametrize(
    "delays",
    [[100.0, 300.0, 600.0], [-50.0, 100.0, 300.0, 600.0, 2000.0]],  # 3 inside, after t₀
)
def test_too_few_points_in_the_window(delays: list[float]) -> None:
    peak = superdiffusive_peak(msd_series(delays), PeakSettings(n_bootstrap=20))
    assert peak.verdict == f"{NO_REGIME}: too few points in the window"
    assert_nothing_reported(peak)


def test_smoothing_undetermined_in_the_window() -> None:
    """Four points bunched past the window's end: no local quadratic anywhere inside."""
    peak = superdiffusive_peak(msd_series([1300.0, 1310.0, 1315.0, 1320.0]))
    assert peak.verdict == f"{NO_REGIME}: smoothing undetermined in the window"
    assert_nothing_reported(peak)


def test_a_flat_d_has_its_maximum_reported_as_not_significant() -> None:
    """D constant (MSD ∝ t): whatever maximum noise-free rounding finds is not a regime."""
    peak = superdiffusive_peak(msd_series([1100.0, 1150.0, 1200.0, 1250.0]))
    assert not peak.found and peak.status == "none"
    assert peak.verdict.startswith(f"{NO_REGIME}: maximum at ")
    assert peak.verdict.endswith("fs not significant (fall to 1000 fs 0.0σ; need 3.0σ)")
    assert peak.d_peak_cm2_s == pytest.approx(
        500.0
    )  # MSD = 100 nm²/fs · t: D = 50 nm²/fs = 500 cm²/s


def test_sigma0_error_widens_the_peak_errors_and_can_leave_the_rise_unresolved() -> None:
    """The same MSD points with σ₀ known better or worse: σ₀'s error shifts every early MSD
    together, so it dominates the peak's errors and, when large, hides the rise."""
    vs = VirtualSample(SampleSettings(preset="cqd"))
    t = np.arange(20.0, 1400.0, 20.0)
    msd = vs.msd_nm2(t)

    def peak(sigma0_err_nm: float) -> SuperDiffusivePeak:
        series = series_from_msd(t, msd, np.full(t.size, 30.0), 141.0, sigma0_err_nm)
        return superdiffusive_peak(series, PeakSettings(n_bootstrap=200))

    exact, good, poor = peak(0.0), peak(0.5), peak(3.0)
    assert exact.status == good.status == "peak" and exact.found and good.found
    assert exact.d_peak_cm2_s == good.d_peak_cm2_s == poor.d_peak_cm2_s  # same points
    assert exact.method == good.method == poor.method == "smooth"  # no σ(τ) model given
    assert good.d_peak_err_cm2_s > 5 * exact.d_peak_err_cm2_s
    assert poor.d_peak_err_cm2_s > 5 * good.d_peak_err_cm2_s
    assert good.rise_z < exact.rise_z / 3
    assert poor.status == "unresolved" and not poor.found and poor.fall_z > 3.0
    assert poor.verdict == (
        f"super-diffusive regime unresolved: D(t) peaks at {poor.t_peak_fs:.0f} fs and falls "
        f"by {poor.fall_z:.1f}σ, but its rise before is only {poor.rise_z:.1f}σ (need 1.0σ; "
        "σ₀ ± 3.0 nm limits the early D)"
    )
    assert good.verdict == f"super-diffusive peak at {good.t_peak_fs:.0f} fs"
    assert good.mobility_err_cm2_vs == pytest.approx(
        good.mobility_cm2_vs * good.d_peak_err_cm2_s / good.d_peak_cm2_s
    )


def test_peak_numbers_come_from_the_sigma_tau_model_unless_asked_otherwise() -> None:
    series = series_from_sigma(*synthetic("cqd", seed=5, sweeps=3))
    assert series.model is not None
    model = superdiffusive_peak(series, PeakSettings(n_bootstrap=100))
    smooth = superdiffusive_peak(series, PeakSettings(n_bootstrap=100, method="smooth"))
    assert model.found and smooth.status != "none"
    assert (model.method, smooth.method) == ("model", "smooth")
    assert model.d_peak_cm2_s != smooth.d_peak_cm2_s
    # the smoothed numbers are the smoothed curve's maximum on its grid
    i = int(np.argmin(np.abs(smooth.t_grid_fs - smooth.t_peak_fs)))
    assert smooth.d_peak_cm2_s == smooth.d_smooth_cm2_s[i]
    # both estimate the same peak
    assert model.d_peak_cm2_s == pytest.approx(smooth.d_peak_cm2_s, rel=0.15)
    assert model.d_peak_err_cm2_s < smooth.d_peak_err_cm2_s


def test_a_d_still_rising_at_the_window_end_has_no_interior_maximum() -> None:
    t = np.arange(20.0, 1400.0, 20.0)
    msd = 2.0 * t**1.5  # D ∝ √t: rising through the whole window
    series = series_from_msd(t, msd, np.full(t.size, 1.0), 141.0, 0.1)
    peak = superdiffusive_peak(series, PeakSettings(n_bootstrap=50))
    assert peak.verdict == f"{NO_REGIME}: D(t) has no interior maximum in 50–1000 fs"
    assert not peak.found and peak.status == "none"
    assert peak.t_grid_fs[0] == 50.0 and peak.t_grid_fs[-1] == 1000.0
    assert peak.t_grid_fs.size == 476  # 50…1000 fs in 2 fs steps


def test_peak_mobility_is_the_einstein_mobility_at_the_settings_temperature() -> None:
    vs = VirtualSample(SampleSettings(preset="cqd"))
    t = np.arange(20.0, 1400.0, 20.0)
    series = series_from_msd(t, vs.msd_nm2(t), np.full(t.size, 30.0), 141.0, 0.5)
    for kelvin in (300.0, 77.0):
        peak = superdiffusive_peak(series, PeakSettings(n_bootstrap=50, temperature_k=kelvin))
        assert peak.mobility_cm2_vs == pytest.approx(
            einstein_mobility_cm2_vs(peak.d_peak_cm2_s, kelvin)
        )
    assert PeakSettings().temperature_k == 300.0


def test_nothing_found_carries_no_curve() -> None:
    peak = superdiffusive_peak(msd_series([100.0, 300.0, 600.0]))
    assert peak.t_grid_fs.size == peak.d_smooth_cm2_s.size == peak.d_smooth_err_cm2_s.size == 0


def test_reference_amplitude_change_has_honest_errors_in_real_units() -> None:
    """ΔT/T amplitudes of ~1e-3 (not 1): the fractional change and its error must not
    depend on the amplitude's unit."""
    rng = np.random.default_rng(61)
    pulls = []
    for _ in range(400):
        n = int(rng.integers(3, 8))
        slope = rng.uniform(-0.08, 0.02)
        sweeps = np.arange(n, dtype=float)
        amp0 = 8e-4
        amplitude = amp0 * (1 + slope * sweeps + rng.normal(0, 0.03, n))
        result = reference_drift("s", reference_rows(amplitude, 0.03 * amp0))
        assert result is not None
        truth = slope * (n - 1)
        pulls.append((result.amplitude_change - truth) / result.amplitude_change_err)
    assert 0.85 < float(np.std(pulls, ddof=1)) < 1.15
    assert abs(float(np.mean(pulls))) < 0.15


def test_auger_excess_over_hopping_carries_both_errors() -> None:
    """Growth of the MSD from 1 to 100 ps minus what hopping alone gives (2·D_hop·Δt), with
    the errors of both in quadrature."""
    t = np.array([1000.0, 100_000.0])
    series = series_from_msd(t, [500.0, 2500.0], [20.0, 30.0], 141.0, 0.5)
    hopping = HoppingRegime(150_000.0, math.inf, 0.05, 0.01, 0.0, 1.0, 5)
    auger = auger_regime(series, hopping=hopping)
    assert auger.growth_nm2 == pytest.approx(2000.0)
    assert auger.growth_err_nm2 == pytest.approx(math.hypot(20.0, 30.0))
    span = 99_000.0
    hop_rate = 2 * 0.05 * 0.1  # nm²/fs: 1 cm²/s is 0.1 nm²/fs
    assert auger.excess_nm2 == pytest.approx(2000.0 - hop_rate * span)
    rate_err = 2 * 0.01 * 0.1
    assert auger.excess_err_nm2 == pytest.approx(
        math.hypot(math.hypot(20.0, 30.0), rate_err * span)
    )


def test_local_exponent_leaves_out_a_zero_msd() -> None:
    t = np.geomspace(100.0, 10_000.0, 41)
    msd = 3.0 * t
    msd[20] = 0.0  # no spreading measured at one delay: no logarithm there
    series = series_from_msd(t, msd, 0.01 * msd + 1.0, 141.0, 0.0)
    alpha = local_exponent(series)
    assert np.isnan(alpha.alpha[20])
    inner = np.r_[5:20, 21:36]
    np.testing.assert_allclose(alpha.alpha[inner], 1.0, atol=0.02)


def test_fluence_dependence_numbers() -> None:
    """D_hop's mean is inverse-variance weighted; the Auger growth exponent is the log-log
    slope over the positive growths; one usable fluence gives no exponent."""
    auger = [AugerRegime(1e3, 1e5, 0.0, g, g, 10.0, g, 10.0) for g in (400.0, 800.0, 1600.0)]
    hop = [
        HoppingRegime(1.5e5, 2e6, d, e, 0.0, 1.0, 10)
        for d, e in ((0.020, 0.001), (0.026, 0.002), (0.023, 0.004))
    ]
    dep = fluence_dependence(
        [0.18, 0.045, 0.09], [auger[2], auger[0], auger[1]], [hop[2], hop[0], hop[1]]
    )
    np.testing.assert_allclose(dep.n_abs, [0.045, 0.09, 0.18])
    assert dep.growth_increases_with_n_abs
    assert dep.growth_exponent == pytest.approx(1.0)  # growth doubles with N_abs
    w = np.array([1 / 0.001**2, 1 / 0.002**2, 1 / 0.004**2])
    mean = float(np.sum(w * [0.020, 0.026, 0.023]) / w.sum())
    assert dep.d_hop_mean_cm2_s == pytest.approx(mean)
    assert dep.d_hop_max_deviation == pytest.approx(abs(0.026 - mean) / mean)
    single = fluence_dependence([0.09], [auger[1]], [hop[1]])
    assert math.isnan(single.growth_exponent) and not single.d_hop_consistent
    same_n = fluence_dependence([0.09, 0.09], auger[:2], hop[:2])
    assert math.isnan(same_n.growth_exponent)  # no spread of N_abs: no slope


def test_diffusivity_of_a_series_is_msd_over_two_t() -> None:
    series = msd_series([100.0, 400.0, 900.0], sigma0_err_nm=0.0)
    d, d_err = series.diffusivity()
    np.testing.assert_allclose(d, 500.0)  # 100 nm²/fs · t / 2t = 50 nm²/fs = 500 cm²/s
    np.testing.assert_allclose(d_err, 50.0 / (2 * np.array([100.0, 400.0, 900.0])) / 0.1)


def test_model_msd_of_the_slow_term_alone_is_two_d_t() -> None:
    """With no super-diffusive part, MSD(u) = 2·D_slow·u (1 cm²/s = 0.1 nm²/fs), zero before
    the carriers exist."""
    theta = np.zeros(len(PARAMS))
    theta[PARAMS.index("d_slow_cm2_s")] = 0.02
    u = np.array([-50.0, 0.0, 1000.0, 1e5])
    np.testing.assert_allclose(model_msd(u, theta), [0.0, 0.0, 4.0, 400.0])
