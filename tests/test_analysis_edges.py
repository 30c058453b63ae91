"""The analysis numbers at their edges: the errors of the model's peak against a direct
derivative, and quantities that cannot be formed (a reference spot of zero amplitude)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import curve_fit, minimize_scalar
from test_analysis import synthetic
from test_drift import reference_rows

from tamrig.analysis.drift import reference_drift
from tamrig.analysis.fluence_trend import PeakFluenceTrend, fluence_by_series
from tamrig.analysis.linefit import LineFit
from tamrig.analysis.monitor import LiveMonitor
from tamrig.analysis.peak import NO_REGIME, PeakSettings, superdiffusive_peak
from tamrig.analysis.powerlaw import fit_power_law, local_exponent
from tamrig.analysis.series import series_from_msd, series_from_sigma
from tamrig.analysis.sigma0 import estimate_sigma0
from tamrig.analysis.timezero import fit_time_zero, rise_model
from tamrig.analysis.transport_model import (
    FWHM_PER_SD,
    TransportModelFit,
    fit_transport_model,
    model_msd,
    model_peak,
    model_sigma,
)
from tamrig.records import DifferentialImage, GaussianFit
from tamrig.units import NM2_PER_FS_PER_CM2_S

WINDOW = (20.0, 2000.0)


def model_fit(theta: np.ndarray, cov: np.ndarray) -> TransportModelFit:
    free = tuple(bool(v > 0) for v in np.diag(cov))
    return TransportModelFit(
        ok=True,
        message="ok",
        kind="superdiffusive",
        theta=theta,
        cov=cov,
        free=free,
        chi2=10.0,
        dof=10,
        error_scale=1.0,
        irf_fwhm_fs=100.0,
        n_points=17,
        t_max_fs=2000.0,
    )


def direct_peak(theta: np.ndarray) -> tuple[float, float, float, float, float]:
    """D_peak, t_peak, L, D(window start), D(window end): D(t) = MSD/2t maximised anew."""

    def d(t: float) -> float:
        return float(model_msd(np.array([t]), theta)[0]) / (2 * t * NM2_PER_FS_PER_CM2_S)

    res = minimize_scalar(lambda t: -d(t), bounds=WINDOW, method="bounded", options={"xatol": 1e-9})
    t_star = float(res.x)
    length = math.sqrt(float(model_msd(np.array([t_star]), theta)[0]))
    return d(t_star), t_star, length, d(WINDOW[0]), d(WINDOW[1])


def test_peak_errors_match_the_direct_derivative_of_each_number() -> None:
    """Delta method by hand: move each parameter, find the peak again, and propagate the
    covariance (with a correlation) through the moved D_peak, t_peak and L = √MSD(t_peak).
    L moves with t_peak too, so its error checks the MSD slope at the peak."""
    theta = np.array([150.0, 60.0, 400.0, 1.3, 6.0, 2.0, 0.0])
    errs = np.array([1.0, 4.0, 30.0, 0.08, 0.0, 0.5, 0.0])
    corr = np.eye(7)
    corr[1, 2] = corr[2, 1] = -0.6  # D_s and τ_s trade off in a real fit
    cov = corr * np.outer(errs, errs)
    peak = model_peak(model_fit(theta, cov), WINDOW)

    values = np.array(direct_peak(theta))
    grad = np.zeros((values.size, theta.size))
    for j in np.nonzero(errs)[0]:
        up, down = theta.copy(), theta.copy()
        up[j] += 0.01 * errs[j]
        down[j] -= 0.01 * errs[j]
        grad[:, j] = (np.array(direct_peak(up)) - np.array(direct_peak(down))) / (0.02 * errs[j])
    d_err, t_err, l_err = (math.sqrt(g @ cov @ g) for g in grad[:3])
    g_rise, g_fall = grad[0] - grad[3], grad[0] - grad[4]
    rise_z = (values[0] - values[3]) / math.sqrt(g_rise @ cov @ g_rise)
    fall_z = (values[0] - values[4]) / math.sqrt(g_fall @ cov @ g_fall)

    assert peak.interior
    assert peak.d_peak_cm2_s == pytest.approx(values[0], rel=1e-9)
    assert peak.t_peak_fs == pytest.approx(values[1], abs=1e-3)
    assert peak.length_nm == pytest.approx(values[2], rel=1e-7)
    assert peak.d_peak_err_cm2_s == pytest.approx(d_err, rel=1e-3)
    assert peak.t_peak_err_fs == pytest.approx(t_err, rel=1e-3)
    assert peak.length_err_nm == pytest.approx(l_err, rel=1e-3)
    assert (peak.rise_z, peak.fall_z) == pytest.approx((rise_z, fall_z), rel=1e-3)


def test_a_reference_spot_of_zero_amplitude_has_no_amplitude_change() -> None:
    """Every reference fit came back with amplitude 0 (no spot): the fractional change has
    no base, so it is not a number and raises no photodamage warning."""
    result = reference_drift("s", reference_rows(np.zeros(4), 1e-5))
    assert result is not None
    assert math.isnan(result.amplitude_change) and math.isnan(result.amplitude_change_err)
    assert result.warnings == {}
    assert result.describe() == (
        "s: 4 sweeps, σ +0 ± 0.45 nm/sweep, x0 +0 ± 4.5 nm/sweep, y0 +0 ± 4.5 nm/sweep, "
        "centre moved 0.0 ± 13.4 nm"
    )


def test_reference_drift_reports_exact_numbers_and_messages() -> None:
    """Noise-free trends: amplitude 1 − 0.05·sweep (±0.01), centre +15 and −20 nm per sweep
    (±2 nm), a sweep every 10 minutes. Straight-line errors by hand: slope error
    0.01/√10, intercept error 0.01·√0.6, their covariance −2·10⁻⁵."""
    n = 5
    sweeps = np.arange(n, dtype=float)
    rows = {
        "sweep": sweeps,
        "timestamp": 1.7e9 + 600.0 * sweeps,
        "amplitude": 1.0 - 0.05 * sweeps,
        "amplitude_err": np.full(n, 0.01),
        "sigma_nm": 141.0 + 0.5 * sweeps,
        "sigma_err_nm": np.ones(n),
        "x0_nm": 1600.0 + 15.0 * sweeps,
        "x0_err_nm": np.full(n, 2.0),
        "y0_nm": 1600.0 - 20.0 * sweeps,
        "y0_err_nm": np.full(n, 2.0),
    }
    result = reference_drift("905nm ref", rows)
    assert result is not None
    # r = b·4/a at a = 1, b = −0.05: ∂r/∂a = 0.2, ∂r/∂b = 4
    var = (0.2 * 0.01 * math.sqrt(0.6)) ** 2 + (4 * 0.01 / math.sqrt(10)) ** 2
    var += 2 * 0.2 * 4 * -2e-5
    assert result.amplitude_change == pytest.approx(-0.2, rel=1e-9)
    assert result.amplitude_change_err == pytest.approx(math.sqrt(var), rel=1e-9)
    # shift 100 nm (60, −80); each slope error 2/√10 nm per sweep over 4 sweeps
    assert result.centre_shift_nm == pytest.approx(100.0, rel=1e-9)
    assert result.centre_shift_err_nm == pytest.approx(8 / math.sqrt(10), rel=1e-9)
    assert result.warnings == {
        "photodamage": "905nm ref: the reference amplitude fell 20.0 ± 1.1 % over 5 sweeps "
        "(limit 10 %): photodamage or bleaching?",
        "drift": "905nm ref: the reference spot centre moved 100.0 ± 2.5 nm over 5 sweeps "
        "(limit 30 nm)",
    }
    assert result.describe() == (
        "905nm ref: 5 sweeps, amplitude -5 ± 0.32 %/sweep, σ +0.5 ± 0.32 nm/sweep, "
        "x0 +15 ± 0.63 nm/sweep, y0 -20 ± 0.63 nm/sweep, amplitude change -20.0 ± 1.1 %, "
        "centre moved 100.0 ± 2.5 nm"
    )
    assert result.rates("hour") == (
        "amplitude -30 ± 1.9 %/h, σ +3 ± 1.9 nm/h, x0 +90 ± 3.8 nm/h, y0 -1.2e+02 ± 3.8 nm/h"
    )


def rising_fit(delay_fs: float, t0_fs: float = 40.0, irf_fs: float = 40.0) -> GaussianFit:
    """A noise-free live fit: σ of the σ(τ) model (σ₀ 141 nm), amplitude following the rise
    (population A·σ² a step ⊗ IRF with a decay) — time zero at ``t0_fs``."""
    theta = np.array([141.0, 100.0, 350.0, 1.2, 6.0, 0.5, 0.0])
    sigma = float(model_sigma([delay_fs - t0_fs], theta, irf_fs)[0])
    t = np.array([delay_fs])
    population = float(rise_model(t, 0.0, 1.0, t0_fs, irf_fs / FWHM_PER_SD, -0.2, 300.0)[0])
    return GaussianFit(
        sigma_nm=sigma,
        sigma_err_nm=0.3,
        x0_nm=0.0,
        y0_nm=0.0,
        amplitude=1e-3 * population / (sigma / 141.0) ** 2,
        offset=0.0,
        amplitude_err=2e-5,
    )


def test_live_sigma0_is_refit_on_the_delays_from_time_zero_once_the_rise_is_measured() -> None:
    """Until 8 points sample the rise, t₀ = 0 and D = MSD/2·delay; the 8th point measures
    t₀ = 40 fs, and σ₀ is refit at once on τ = delay − t₀ (not only once the widths have
    grown by GROWTH), which recovers the true 141 nm; D then uses τ."""
    mon = LiveMonitor(50.0)
    in_range = [-300.0, -100.0, 0.0, 40.0, 80.0, 150.0, 250.0]  # 7 of the rise's ±400 fs
    late = [450.0 + 50 * k for k in range(30)]
    for delay in in_range + late:
        mon.add_fit(delay_fs=delay, series="a", fit=rising_fit(delay))
    mon.settle("a")  # σ₀ on every width so far (the rise still has only 7 points)
    assert mon.time_zero("a") is None
    before = mon.sigma0("a")
    assert before is not None and before.n_points == 34
    assert abs(before.value_nm - 141.0) > 0.3  # fitted with t₀ = 0, 40 fs off
    p250 = {p.delay_fs: p for p in mon.transport("a")}[250.0]
    assert p250.diffusivity_cm2_s == pytest.approx(
        p250.msd_nm2 / (2 * 250.0 * NM2_PER_FS_PER_CM2_S), rel=1e-12
    )

    mon.add_fit(delay_fs=400.0, series="a", fit=rising_fit(400.0))  # the range's very end
    tz = mon.time_zero("a")
    assert tz is not None and tz.ok
    assert tz.t0_fs == pytest.approx(40.0, abs=0.5)
    after = mon.sigma0("a")
    assert after is not None and after.n_points == 35  # < GROWTH × 34: refit for the new t₀
    assert after.value_nm == pytest.approx(141.0, abs=0.02)
    p250 = {p.delay_fs: p for p in mon.transport("a")}[250.0]
    assert p250.sigma0_nm == after.value_nm
    assert p250.diffusivity_cm2_s == pytest.approx(
        p250.msd_nm2 / (2 * (250.0 - tz.t0_fs) * NM2_PER_FS_PER_CM2_S), rel=1e-12
    )


def test_pixels_without_a_usable_error_carry_no_weight_in_the_live_fit() -> None:
    """Unlit (error ∞), unknown (NaN), zero- or negative-error pixels are left out of the
    fit whatever they hold: the same fit as with those pixels zeroed and out."""
    y, x = np.mgrid[0:48, 0:48].astype(float)
    spot = 1e-3 * np.exp(-((x - 23.6) ** 2 + (y - 24.3) ** 2) * 50.0**2 / (2 * 141.0**2))
    rng = np.random.default_rng(12)
    dtt = spot + rng.normal(0.0, 2.5e-5, spot.shape)
    err = np.full(spot.shape, 2.5e-5)
    err[:, :4] = np.inf
    err[:4, 10:20] = np.nan
    err[40:, 30:] = 0.0
    err[20:24, 40:] = -2.5e-5  # a negative error is no error either
    bad = ~(np.isfinite(err) & (err > 0))
    ones = np.ones(spot.shape)

    def fit(values: np.ndarray, errors: np.ndarray) -> GaussianFit:
        image = DifferentialImage(values, errors, ones, ones, errors, errors, 100, 100)
        fitted, _ = LiveMonitor(50.0).update(delay_fs=0.0, series="a", image=image)
        return fitted

    garbage = fit(np.where(bad, 5.0, dtt), err)  # a ΔT/T of 5 where nothing is known
    clean = fit(np.where(bad, 0.0, dtt), np.where(bad, np.inf, err))
    assert garbage.converged and clean.converged
    assert garbage.sigma_nm == pytest.approx(clean.sigma_nm, rel=1e-9)
    assert garbage.sigma_err_nm == pytest.approx(clean.sigma_err_nm, rel=1e-9)
    assert garbage.amplitude == pytest.approx(clean.amplitude, rel=1e-9)
    assert abs(garbage.sigma_nm - 141.0) < 4 * garbage.sigma_err_nm
    assert garbage.reduced_chi2 == pytest.approx(1.0, abs=0.1)  # weights are 1/err², as given


def test_a_d_falling_from_the_window_start_has_no_rise_at_all() -> None:
    """D ∝ 1/√t: the maximum is the window's first grid point, so there is nothing before
    it to rise from — rise z exactly 0, and no regime."""
    t = np.arange(20.0, 1400.0, 20.0)
    series = series_from_msd(t, 400.0 * np.sqrt(t), np.full(t.size, 1.0), 141.0, 0.1)
    peak = superdiffusive_peak(series, PeakSettings(n_bootstrap=50, method="smooth"))
    assert peak.rise_z == 0.0 and peak.fall_z > 3.0
    assert peak.verdict == f"{NO_REGIME}: D(t) has no interior maximum in 50–1000 fs"
    assert (peak.found, peak.status) == (False, "none")


def trend(slope: float, slope_err: float) -> PeakFluenceTrend:
    line = LineFit(slope, slope_err, 300.0, 10.0, 1.0, 3)
    nan = (math.nan,) * 3
    return PeakFluenceTrend(905.0, (0.05, 0.1, 0.2), nan, nan, nan, nan, nan, line)


@pytest.mark.parametrize(
    ("slope", "verdict"),
    [
        (-90.0, "peak D decreases with fluence (3.0 σ)"),
        (-60.0, "peak D decreases with fluence (2.0 σ)"),  # exactly at the threshold
        (-30.0, "no significant fluence dependence (1.0 σ)"),
        (0.0, "no significant fluence dependence (0.0 σ)"),
        (45.0, "no significant fluence dependence (1.5 σ)"),
        (60.0, "peak D increases with fluence (2.0 σ)"),
        (120.0, "peak D increases with fluence (4.0 σ)"),
    ],
)
def test_fluence_trend_verdict_names_direction_and_significance(slope: float, verdict: str) -> None:
    assert trend(slope, 30.0).verdict == verdict


def test_fluence_trend_without_a_line_is_undetermined() -> None:
    nan = (math.nan,) * 3
    empty = PeakFluenceTrend(905.0, (0.05, 0.1, 0.2), nan, nan, nan, nan, nan, None)
    assert empty.verdict == "undetermined (fewer than two fluences with a super-diffusive peak)"
    assert math.isnan(empty.slope_cm2_s) and math.isnan(empty.slope_err_cm2_s)


def test_bootstrap_error_of_the_smoothed_d_is_unbiased_even_from_three_draws() -> None:
    """The band around the smoothed D(t) is the draws' standard deviation: its square is an
    unbiased variance (n − 1), so its mean over seeds with 3 draws matches 20000 draws."""
    t = np.arange(20.0, 1400.0, 20.0)
    series = series_from_msd(t, 2.0 * t**1.5, np.full(t.size, 30.0), 141.0, 0.5)
    ref = superdiffusive_peak(series, PeakSettings(n_bootstrap=20000, method="smooth"))
    variances = [
        superdiffusive_peak(
            series, PeakSettings(n_bootstrap=3, seed=s, method="smooth")
        ).d_smooth_err_cm2_s
        ** 2
        for s in range(600)
    ]
    ratio = np.mean(variances, axis=0) / ref.d_smooth_err_cm2_s**2
    assert float(np.median(ratio)) == pytest.approx(1.0, abs=0.15)  # (n − 2) would give 2


def test_a_model_peak_short_of_the_required_fall_is_named_at_the_model_peak_time() -> None:
    """The σ(τ) model decides rise and fall; asking for a 100σ fall leaves its maximum
    unconfirmed: the verdict names the grid time nearest the model's peak and its fall, and
    the numbers are the smoothed curve's there."""
    series = series_from_sigma(*synthetic("cqd", seed=5, sweeps=3))
    assert series.model is not None
    truth = model_peak(series.model, (50.0, 1000.0))
    assert truth.interior and 3.0 < truth.fall_z < 100.0
    peak = superdiffusive_peak(series, PeakSettings(n_bootstrap=50, z=100.0))
    i = int(np.argmin(np.abs(peak.t_grid_fs - truth.t_peak_fs)))
    assert peak.verdict == (
        f"{NO_REGIME}: maximum at {peak.t_grid_fs[i]:.0f} fs not significant "
        f"(fall to 1000 fs {truth.fall_z:.1f}σ; need 100.0σ)"
    )
    assert (peak.found, peak.status, peak.method) == (False, "none", "smooth")
    assert (peak.rise_z, peak.fall_z) == (truth.rise_z, truth.fall_z)
    assert peak.t_peak_fs == peak.t_grid_fs[i]
    assert peak.d_peak_cm2_s == peak.d_smooth_cm2_s[i]


def test_power_law_fits_that_fail_say_why() -> None:
    """MSD points that no K·t^α follows: the optimiser's own reason, with its cap; a
    set far smaller than its errors: α undetermined, its error in the message."""
    t = np.array([100.0, 200.0, 300.0, 400.0, 500.0])
    zigzag = series_from_msd(
        t, np.array([-50.0, 30.0, -20.0, -10.0, 40.0]), np.full(5, 10.0), 141.0, 0.0
    )
    fit = fit_power_law(zigzag, 50.0, 600.0)
    assert not fit.ok and fit.n_points == 5
    assert fit.message.endswith("maxfev = 5000.")  # scipy's words, our evaluation cap
    assert math.isnan(fit.alpha) and math.isnan(fit.prefactor_nm2)
    flat = series_from_msd(t, np.array([0.5, 0.8, 1.0, 1.3, 1.5]), np.full(5, 10.0), 141.0, 0.0)
    fit = fit_power_law(flat, 50.0, 600.0)
    assert not fit.ok and fit.message == "α not determined (error 10.6 > 1.0)"
    assert fit.alpha == pytest.approx(0.698, abs=0.001)
    assert fit.alpha_err == pytest.approx(10.55, abs=0.01) and fit.alpha_sys == 0.0


def test_local_exponent_follows_a_changing_slope_within_its_window() -> None:
    """MSD = t·(1 + t/1000 fs): α(t) = 1 + u/(1 + u), u = t/1000, rises from 1 to 2. The
    default ±0.15-decade window tracks it to 0.002; each α is the weighted straight line
    in ln MSD vs ln t through the 7 points of its window (1 % errors: weight 100 in ln)."""
    t = np.geomspace(10.0, 1e5, 105)  # 26 per decade: the 4th neighbour just outside
    msd = t * (1 + t / 1000.0)
    le = local_exponent(series_from_msd(t, msd, 0.01 * msd, 141.0, 0.0))
    u = t / 1000.0
    assert np.max(np.abs(le.alpha - (1 + u / (1 + u)))) < 0.002
    k = 52  # t = 1000 fs, α = 1.5
    near = np.abs(np.log(t / t[k])) <= 0.15 * math.log(10)
    assert int(near.sum()) == 7
    line, cov = np.polyfit(
        np.log(t[near]), np.log(msd[near]), 1, w=np.full(7, 100.0), cov="unscaled"
    )
    assert le.alpha[k] == pytest.approx(line[0], rel=1e-12)
    assert le.alpha_err[k] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-9)


def test_amplitude_rate_is_relative_to_the_first_sweeps_amplitude() -> None:
    """Amplitude 2 − 0.1·sweep: −5 %/sweep of the intercept 2, and the slope's error
    (0.019916/√10 = 0.0063) as 0.315 % of it — printed 0.31, not rounded up."""
    amplitude = 2.0 - 0.1 * np.arange(5.0)
    result = reference_drift("s", reference_rows(amplitude, 0.019916, centre_err=2.0))
    assert result is not None
    assert result.rates("sweep") == (
        "amplitude -5 ± 0.31 %/sweep, σ +0 ± 0.32 nm/sweep, x0 +0 ± 0.63 nm/sweep, "
        "y0 +0 ± 0.63 nm/sweep"
    )


def test_fluence_by_series_needs_both_columns() -> None:
    """A point table without µJ/cm² (or without ⟨N_abs⟩) gives no fluences, not an error."""
    n_abs = np.array([0.05, 0.05, 0.1])
    fluence = np.array([16.0, 17.0, 32.0])
    assert fluence_by_series({"n_abs": n_abs}) == {}
    assert fluence_by_series({"fluence_uj_cm2": fluence}) == {}
    both = {"n_abs": n_abs, "fluence_uj_cm2": fluence, "probe_wavelength_nm": np.full(3, 905.0)}
    assert fluence_by_series(both) == {(905.0, 0.05): 16.5, (905.0, 0.1): 32.0}


def test_the_peak_grid_ends_at_the_step_nearest_the_window_end() -> None:
    """50…1000 fs in steps of 0.5 and 5 ends on 1000; in steps of 7 on 1002, the nearer
    of 995 and 1002."""
    t = np.arange(20.0, 1400.0, 20.0)
    series = series_from_msd(t, 2.0 * t**1.5, np.full(t.size, 1.0), 141.0, 0.1)
    for step, size in ((0.5, 1901), (5.0, 191), (7.0, 137)):
        peak = superdiffusive_peak(series, PeakSettings(n_bootstrap=20, grid_step_fs=step))
        grid = peak.t_grid_fs
        assert (grid[0], grid.size) == (50.0, size)
        assert grid[-1] == pytest.approx(50.0 + step * (size - 1))
        assert abs(grid[-1] - 1000.0) <= step / 2


def test_power_law_fit_from_three_points_and_its_refusals() -> None:
    t = np.array([100.0, 400.0, 1600.0])
    three = series_from_msd(t, 3.0 * t**1.5, 0.01 * 3.0 * t**1.5, 141.0, 0.0)
    fit = fit_power_law(three, 50.0, 2000.0)
    assert fit.ok and fit.n_points == 3
    assert (fit.alpha, fit.prefactor_nm2) == pytest.approx((1.5, 3.0), rel=1e-6)
    # a constant MSD: the optimiser cannot estimate the covariance, and says so
    flat = series_from_msd(t, np.full(3, 5.0), np.ones(3), 141.0, 0.0)
    fit = fit_power_law(flat, 50.0, 2000.0)
    assert not fit.ok and fit.message == "Covariance of the parameters could not be estimated"
    assert math.isnan(fit.alpha)


def test_power_law_errors_scale_with_the_misfit_over_n_minus_2_degrees_of_freedom() -> None:
    """Scatter 10× the stated errors: α's error is scaled by √(χ²/(n − 2)), as scipy's
    relative-σ covariance does."""
    rng = np.random.default_rng(3)
    t = np.geomspace(100.0, 1e4, 8)
    msd = 3.0 * t**1.2
    err = 0.01 * msd
    noisy = msd + rng.normal(0.0, 10 * err)
    fit = fit_power_law(series_from_msd(t, noisy, err, 141.0, 0.0), 50.0, 2e4)
    assert fit.ok and fit.reduced_chi2 > 20
    popt, pcov = curve_fit(lambda x, k, a: k * x**a, t, noisy, p0=[3.0, 1.2], sigma=err)
    assert fit.alpha == pytest.approx(popt[1], rel=1e-6)
    assert fit.alpha_err == pytest.approx(math.sqrt(pcov[1, 1]), rel=1e-4)
    assert fit.reduced_chi2 == pytest.approx(
        np.sum(((noisy - popt[0] * t ** popt[1]) / err) ** 2) / 6, rel=1e-6
    )


def test_local_exponent_leaves_out_time_zero_quietly() -> None:
    """A scan always has delays at and before time zero: their α is NaN, with no warning
    printed (no logarithm of zero taken)."""
    t = np.concatenate([[-100.0, 0.0], np.geomspace(20.0, 2000.0, 41)])
    msd = 50.0 + t.clip(0) * 2.0  # a positive MSD at t = 0 as well
    series = series_from_msd(t, msd, np.full(t.size, 1.0), 141.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        le = local_exponent(series)
    assert np.isnan(le.alpha[:2]).all() and np.isnan(le.alpha_err[:2]).all()
    assert np.isfinite(le.alpha[2:]).all()


def test_sigma0_without_timing_errors_is_the_model_fits_own_and_with_them_larger() -> None:
    """No IRF or t₀ error given: σ₀ ± error is exactly the σ(τ) model fit's; given (from
    the rise fit), both errors widen it. The series takes the same σ₀."""
    t, s, e = synthetic("cqd", seed=4)
    fit = fit_transport_model(t, s, e, 40.0)
    assert fit.ok
    own = estimate_sigma0(t, s, e, 40.0)
    assert own is not None
    assert (own.value_nm, own.err_nm) == (fit.value("sigma0_nm"), fit.error("sigma0_nm"))
    assert (own.n_points, own.method) == (fit.n_points, fit.kind)
    series = series_from_sigma(t, s, e)
    assert (series.sigma0.value_nm, series.sigma0.err_nm) == (own.value_nm, own.err_nm)
    timed = estimate_sigma0(t, s, e, 40.0, irf_err_fs=3.0, t0_err_fs=2.0)
    assert timed is not None and timed.err_nm > own.err_nm
    series = series_from_sigma(t, s, e, irf_err_fs=3.0, t0_err_fs=2.0)
    assert series.sigma0.err_nm == timed.err_nm


def test_rise_fit_reports_every_parameter_of_the_rise() -> None:
    """Noise-free c + A·Φ + B·E: offset 0.1, step 1, t₀ 40 fs, IRF 40 fs FWHM, and the
    fast decay B = −0.2 with τ = 300 fs all come back."""
    t = np.arange(-300.0, 800.0, 20.0)
    sd = 40.0 / FWHM_PER_SD
    y = rise_model(t, 0.1, 1.0, 40.0, sd, -0.2, 300.0)
    fit = fit_time_zero(t, y, np.full(t.size, 1e-3))
    assert fit.ok and fit.message == "ok"
    assert (fit.offset, fit.amplitude, fit.t0_fs) == pytest.approx((0.1, 1.0, 40.0), abs=1e-6)
    assert fit.irf_fwhm_fs == pytest.approx(40.0, rel=1e-6)
    assert fit.decay_amplitude == pytest.approx(-0.2, rel=1e-6)
    assert fit.decay_tau_fs == pytest.approx(300.0, rel=1e-6)


def test_a_fixed_model_parameter_has_no_error() -> None:
    """The linear σ(τ) model holds D_s, τ_s, α, n and the bend fixed: their errors are 0,
    the free σ₀ and D_slow have theirs."""
    t = np.array([0.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0])
    s = model_sigma(t, np.array([141.0, 0.0, 1.0, 1.0, 1.0, 0.5, 0.0]), 40.0)
    fit = fit_transport_model(t, s, np.full(t.size, 0.3), 40.0)
    assert fit.ok and fit.kind == "linear"
    for name in ("d_s_cm2_s", "tau_s_fs", "alpha", "n", "bend_nm2"):
        assert fit.error(name) == 0.0
    assert fit.error("sigma0_nm") > 0 and fit.error("d_slow_cm2_s") > 0
    # and the fixed ones sit at zero: the noise-free line comes back exactly
    assert (fit.value("d_s_cm2_s"), fit.value("bend_nm2")) == (0.0, 0.0)
    assert fit.value("sigma0_nm") == pytest.approx(141.0, rel=1e-6)
    assert fit.value("d_slow_cm2_s") == pytest.approx(0.5, rel=1e-4)
    assert fit.chi2 < 1e-6


def test_the_super_diffusive_form_needs_eight_widths_after_time_zero() -> None:
    """Noise-free widths of a super-diffusive σ(τ): seven after time zero (plus three at or
    before it) get the linear model; an eighth gets the super-diffusive one."""
    theta = np.array([141.0, 100.0, 350.0, 1.2, 6.0, 0.5, 0.0])
    delays = [-40.0, -20.0, 0.0, 20.0, 50.0, 100.0, 200.0, 400.0, 700.0, 1000.0]
    for extra, kind in (([], "linear"), ([1500.0], "superdiffusive")):
        t = np.array(delays + extra)
        fit = fit_transport_model(t, model_sigma(t, theta, 40.0), np.full(t.size, 0.3), 40.0)
        assert (fit.ok, fit.kind, fit.n_points) == (True, kind, t.size)


def test_local_exponent_at_the_edges_of_its_data() -> None:
    """Three points 0.1 decade apart: only the middle one has three in its ±0.15 decades
    (the ends are NaN, and the scan goes on past them); MSDs below 1 nm² count; a signal
    no larger than its errors still gives an α, with a large error."""
    t = 100.0 * 10 ** np.array([0.0, 0.1, 0.2])
    le = local_exponent(series_from_msd(t, 2.0 * t**1.5, 0.01 * t**1.5, 141.0, 0.0))
    assert np.isnan(le.alpha[[0, 2]]).all()
    assert le.alpha[1] == pytest.approx(1.5, rel=1e-12)
    small = np.geomspace(100.0, 1000.0, 30)
    le = local_exponent(series_from_msd(small, 5e-4 * small, 5e-6 * small, 141.0, 0.0))
    assert le.alpha == pytest.approx(np.ones(small.size), rel=1e-9)  # MSD 0.05–0.5 nm²
    noisy = np.geomspace(100.0, 1000.0, 20)
    le = local_exponent(series_from_msd(noisy, 2.0 * noisy, 2.0 * noisy, 141.0, 0.0))
    assert np.isfinite(le.alpha).all() and (le.alpha_err > 1.0).all()


def test_a_model_peak_within_a_femtosecond_of_the_window_edge_is_not_interior() -> None:
    theta = np.array([150.0, 60.0, 400.0, 1.3, 6.0, 2.0, 0.0])
    fit = model_fit(theta, np.diag([1.0, 16.0, 900.0, 0.0064, 0.0, 0.25, 0.0]))
    t_star = model_peak(fit, WINDOW).t_peak_fs
    assert t_star == pytest.approx(330.014, abs=1e-3)
    assert model_peak(fit, (20.0, t_star + 1.5)).interior
    assert not model_peak(fit, (20.0, t_star + 0.5)).interior
    assert model_peak(fit, (t_star - 1.5, 2000.0)).interior
    edge = model_peak(fit, (t_star - 0.5, 2000.0))
    assert not edge.interior and math.isnan(edge.t_peak_err_fs)


def test_a_power_law_with_a_negative_prefactor_is_no_growing_msd() -> None:
    """MSD below zero and shrinking (σ₀ too large, or noise): K·t^α fits with K < 0, which
    describes no spreading at all; the fit says so instead of reporting α."""
    t = np.array([100.0, 150.0, 200.0, 300.0, 400.0, 500.0])
    y = -5.0e4 / t
    series = series_from_msd(t, y, np.full(t.size, 1.0), 141.0, 0.0)
    fit = fit_power_law(series, 50.0, 600.0)
    assert fit.prefactor_nm2 == pytest.approx(-5.0e4, rel=1e-6)
    assert fit.alpha == pytest.approx(-1.0, abs=1e-6)
    assert not fit.ok
    assert fit.message == "no growing MSD in 50–600 fs (prefactor -5e+04)"
