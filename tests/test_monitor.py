"""Live monitor: time zero, σ₀ from the σ(τ) model, MSD and D with their errors, noise flagged."""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import pytest

from simulators.sample import SampleSettings, VirtualSample
from tamrig.analysis import analyse_points
from tamrig.analysis.monitor import LiveMonitor
from tamrig.analysis.sigma0 import Sigma0, msd_from_sigma
from tamrig.analysis.transport_model import model_sigma
from tamrig.records import DifferentialImage, GaussianFit

PIXEL_NM = 50.0
NOISE = 2.5e-5  # docs/simulator.md reference noise per pixel


def r2_grid(n: int = 64, centre_px: tuple[float, float] = (31.4, 32.2)) -> np.ndarray:
    y, x = np.mgrid[0:n, 0:n].astype(float)
    return ((x - centre_px[0]) ** 2 + (y - centre_px[1]) ** 2) * PIXEL_NM**2


def diff_image(dtt: np.ndarray, noise: float) -> DifferentialImage:
    err = np.full(dtt.shape, noise)
    ones = np.ones(dtt.shape)
    return DifferentialImage(
        dtt=dtt,
        dtt_err=err,
        on_mean=ones,
        off_mean=ones,
        on_err=err,
        off_err=err,
        n_on=100,
        n_off=100,
    )


def sample_image(
    sample: VirtualSample,
    delay: float,
    rng: np.random.Generator,
    *,
    n_abs: float = 0.045,
    probe_nm: float = 905.0,
    noise: float = NOISE,
) -> DifferentialImage:
    clean = sample.dtt_image(delay, n_abs, probe_nm, r2_grid())
    return diff_image(clean + rng.normal(0, noise, clean.shape), noise)


def fake_fit(sigma: float, err: float, amplitude: float = 1e-3) -> GaussianFit:
    return GaussianFit(
        sigma_nm=sigma,
        sigma_err_nm=err,
        x0_nm=0.0,
        y0_nm=0.0,
        amplitude=amplitude,
        offset=0.0,
        amplitude_err=amplitude / 50,
    )


@pytest.fixture(scope="module")
def cqd() -> VirtualSample:
    return VirtualSample(SampleSettings(preset="cqd"))


def test_noise_before_the_rise_is_flagged_and_never_sets_sigma0(cqd: VirtualSample) -> None:
    rng = np.random.default_rng(1)
    mon = LiveMonitor(PIXEL_NM)
    # Before time zero there is no signal: the fit finds noise, which is not data.
    for delay in (-1000.0, -200.0, -60.0):
        fit, tp = mon.update(
            delay_fs=delay, series="905nm/N=0.045", image=sample_image(cqd, delay, rng)
        )
        assert tp is not None and not tp.significant
        assert math.isnan(tp.sigma0_nm) and math.isnan(tp.msd_nm2)
    assert mon.sigma0("905nm/N=0.045") is None
    fit, tp = mon.update(
        delay_fs=300.0, series="905nm/N=0.045", image=sample_image(cqd, 300.0, rng)
    )
    assert fit.converged and tp is not None and tp.significant
    assert mon.sigma0("905nm/N=0.045") is None  # one width cannot separate σ₀ from spreading
    fit, tp = mon.update(delay_fs=20.0, series="905nm/N=0.045", image=sample_image(cqd, 20.0, rng))
    assert tp is not None and math.isfinite(tp.sigma0_nm)
    s0 = mon.sigma0("905nm/N=0.045")  # the linear σ(τ) model through the two widths
    assert s0 is not None and (s0.n_points, s0.method) == (2, "linear")
    assert s0.value_nm == tp.sigma0_nm
    assert s0.value_nm == pytest.approx(cqd.settings.sigma0_nm, abs=3 * s0.err_nm)
    # now the earlier 300 fs point is evaluated too; the noise points stay flagged
    points = mon.transport("905nm/N=0.045")
    assert {p.delay_fs for p in points if p.significant} == {300.0, 20.0}
    assert all(math.isfinite(p.msd_nm2) for p in points if p.significant)


def sweep(cqd: VirtualSample, mon: LiveMonitor, seed: int, series: str = "s") -> np.ndarray:
    rng = np.random.default_rng(seed)
    delays = np.concatenate([[-1000.0, -500.0], np.arange(-200.0, 1000.0, 20.0), [1500.0]])
    order = rng.permutation(delays)  # randomised delay order, as in a real sweep
    for k, delay in enumerate(order):
        image = sample_image(cqd, delay, rng)
        # the engine settles the last point of a run of a series
        mon.update(delay_fs=float(delay), series=series, image=image, settle=k == order.size - 1)
    return delays


def test_full_sweep_measures_time_zero_and_recovers_sigma0_and_d(cqd: VirtualSample) -> None:
    mon = LiveMonitor(PIXEL_NM)
    sweep(cqd, mon, seed=2)
    tz = mon.time_zero("s")
    assert tz is not None and tz.ok
    assert abs(tz.t0_fs) < 4 * tz.t0_err_fs + 1.0
    assert abs(tz.irf_fwhm_fs - 40.0) < 4 * tz.irf_fwhm_err_fs + 2.0
    s0 = mon.sigma0("s")
    assert s0 is not None and s0.method == "superdiffusive"
    assert abs(s0.value_nm - 141.0) < 3 * s0.err_nm  # unbiased: no window mean any more
    assert 0 < s0.err_nm < 1.5
    points = {p.delay_fs: p for p in mon.transport("s")}
    p300 = points[300.0]
    common = 2 * s0.value_nm * s0.err_nm / (2 * 300.0 * 0.1)  # σ₀'s error, common to all
    model_d = float(cqd.diffusivity_cm2_s(300.0))
    total = math.hypot(p300.diffusivity_err_cm2_s, common)
    assert abs(p300.diffusivity_cm2_s - model_d) < 4 * total
    # MSD errors (the point's own) are honest: pulls against the model have unit spread
    late = [p for t, p in points.items() if 100.0 <= t <= 980.0]
    pulls = [(p.msd_nm2 - float(cqd.msd_nm2(p.delay_fs))) / p.msd_err_nm2 for p in late]
    assert 0.6 < float(np.std(pulls)) < 1.5
    assert all(p.sigma0_nm == s0.value_nm for p in points.values())


def test_monitor_and_analysis_share_one_sigma0_estimator(cqd: VirtualSample) -> None:
    mon = LiveMonitor(PIXEL_NM)
    sweep(cqd, mon, seed=5)
    fits = mon.fits("s")
    columns = {
        "delay_fs": np.array([t for t, _ in fits]),
        "sigma_nm": np.array([f.sigma_nm for _, f in fits]),
        "sigma_err_nm": np.array([f.sigma_err_nm for _, f in fits]),
        "amplitude": np.array([f.amplitude for _, f in fits]),
        "amplitude_err": np.array([f.amplitude_err for _, f in fits]),
    }
    offline = analyse_points(columns).series[0]
    live = mon.sigma0("s")
    assert live is not None
    assert offline.series.sigma0.value_nm == pytest.approx(live.value_nm, abs=0.05 * live.err_nm)
    assert offline.series.sigma0.err_nm == pytest.approx(live.err_nm, rel=0.05)
    assert offline.n_points - offline.n_significant == sum(
        not p.significant for p in mon.transport("s")
    )


def test_transport_columns_arithmetic() -> None:
    s0 = Sigma0(141.0, 0.5, 10)
    c = msd_from_sigma([300.0, -20.0], [150.0, 140.0], [2.0, 1.0], s0)
    assert c.msd_nm2[0] == pytest.approx(150.0**2 - 141.0**2)  # 2619 nm²
    assert c.msd_err_nm2[0] == pytest.approx(2 * 150.0 * 2.0)  # the point's own error
    # D = MSD / 2t, 1 cm²/s = 0.1 nm²/fs; undefined before time zero
    assert c.diffusivity_cm2_s[0] == pytest.approx(2619.0 / 600.0 / 0.1)
    assert c.diffusivity_err_cm2_s[0] == pytest.approx(600.0 / 600.0 / 0.1)
    assert math.isnan(c.diffusivity_cm2_s[1])


def test_sigma0_is_refined_as_points_arrive_and_earlier_points_follow() -> None:
    theta = np.array([141.0, 100.0, 350.0, 1.2, 6.0, 0.5, 0.0])
    delays = np.array([-40.0, -20.0, 0.0, 20.0, 40.0, 60.0, 100.0, 200.0, 300.0, 450.0, 700.0])
    sigma = model_sigma(delays, theta, 40.0)
    mon = LiveMonitor(PIXEL_NM)
    history = []
    for k, (t, s) in enumerate(zip(delays, sigma, strict=True)):
        last = k == delays.size - 1  # the run's last point settles the series
        mon.add_fit(delay_fs=float(t), series="a", fit=fake_fit(float(s), 0.3), settle=last)
        s0 = mon.sigma0("a")
        history.append(None if s0 is None else s0.value_nm)
    final = mon.sigma0("a")
    assert final is not None and final.method == "superdiffusive"
    assert final.n_points == delays.size  # settled: fitted to every width
    assert final.value_nm == pytest.approx(141.0, abs=0.01)  # noise-free widths: exact
    assert len({round(h, 6) for h in history if h is not None}) > 2  # refined point by point
    again = {p.delay_fs: p for p in mon.transport("a")}[300.0]
    assert again.sigma0_nm == final.value_nm
    assert again.msd_nm2 == pytest.approx(sigma[8] ** 2 - final.value_nm**2)


def test_series_are_independent_per_fluence_and_wavelength(cqd: VirtualSample) -> None:
    rng = np.random.default_rng(3)
    mon = LiveMonitor(PIXEL_NM)
    for n_abs, probe, name in ((0.045, 905.0, "905/0.045"), (0.18, 670.0, "670/0.18")):
        for delay in (0.0, 20.0, 50_000.0):  # 50 ps: Auger-assisted regime
            fit, _ = mon.update(
                delay_fs=delay,
                series=name,
                image=sample_image(cqd, delay, rng, n_abs=n_abs, probe_nm=probe),
            )
            assert fit.converged
            if probe == 670.0:
                assert fit.amplitude < 0  # photo-induced absorption band
    assert mon.series() == ["905/0.045", "670/0.18"]
    late = {name: mon.transport(name)[-1] for name in mon.series()}
    # more Auger-assisted spreading at the higher fluence (outweighs its lower super-diffusive D)
    assert late["670/0.18"].msd_nm2 > late["905/0.045"].msd_nm2
    assert len(mon.fits("670/0.18")) == 3


def test_failed_fit_gives_no_transport_but_is_kept() -> None:
    mon = LiveMonitor(PIXEL_NM)
    mon.add_fit(delay_fs=0.0, series="a", fit=fake_fit(141.0, 0.5))
    fit, tp = mon.update(delay_fs=100.0, series="a", image=diff_image(np.zeros((32, 32)), 1e-5))
    assert not fit.converged and tp is None
    assert len(mon.fits("a")) == 2 and len(mon.transport("a")) == 1


def test_pixel_errors_weight_the_fit() -> None:
    """A hot, noisy region flagged by large dtt_err must not pull the width."""
    rng = np.random.default_rng(4)
    clean = 1e-3 * np.exp(-r2_grid() / (2 * 141.0**2))
    err = np.full(clean.shape, NOISE)
    err[:, :8] = 50 * NOISE
    image = clean + rng.normal(0, 1, clean.shape) * err
    mon = LiveMonitor(PIXEL_NM)
    fit, _ = mon.update(delay_fs=0.0, series="a", image=diff_image(image, NOISE))
    weighted = diff_image(image, NOISE)
    weighted.dtt_err = err
    fit_w, _ = mon.update(delay_fs=0.0, series="b", image=weighted)
    assert abs(fit_w.sigma_nm - 141.0) < 4 * fit_w.sigma_err_nm
    assert fit_w.reduced_chi2 == pytest.approx(1.0, abs=0.1)
    assert fit_w.sigma_err_nm < 0.7 * fit.sigma_err_nm  # the hot columns no longer count


def test_concurrent_updates_are_safe(cqd: VirtualSample) -> None:
    mon = LiveMonitor(PIXEL_NM)
    images = [sample_image(cqd, 0.0, np.random.default_rng(i)) for i in range(8)]

    def worker(k: int) -> None:
        for i, image in enumerate(images):
            mon.update(delay_fs=float(i * 10 - 40), series=f"s{k % 2}", image=image)
            mon.transport(f"s{(k + 1) % 2}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(mon.series()) == ["s0", "s1"]
    assert len(mon.fits("s0")) == 16 and len(mon.transport("s1")) == 16


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_invalid_pixel_size(bad: float) -> None:
    with pytest.raises(ValueError, match="pixel_size_nm"):
        LiveMonitor(bad)


def test_invalid_irf() -> None:
    with pytest.raises(ValueError, match="irf_fwhm_fs"):
        LiveMonitor(PIXEL_NM, irf_fwhm_fs=-40.0)


def test_refits_are_amortised_and_a_settle_catches_up() -> None:
    """σ₀ is refitted when its widths have grown by GROWTH (a handful of fits for a long
    run, so the cost per point stays flat), and in full when the run ends."""
    from tamrig.analysis import monitor as monitor_module

    theta = np.array([141.0, 100.0, 350.0, 1.2, 6.0, 0.5, 0.0])
    delays = np.arange(0.0, 1000.0, 10.0)
    sigma = model_sigma(delays, theta, 40.0)
    mon = LiveMonitor(PIXEL_NM)
    fitted: list[int] = []
    for t, s in zip(delays, sigma, strict=True):
        mon.add_fit(delay_fs=float(t), series="a", fit=fake_fit(float(s), 0.3))
        s0 = mon.sigma0("a")
        if s0 is not None and (not fitted or s0.n_points != fitted[-1]):
            fitted.append(s0.n_points)
    growth = monitor_module.GROWTH
    assert all(b >= growth * a for a, b in itertools.pairwise(fitted))
    assert len(fitted) <= 2 + math.log(delays.size) / math.log(growth)
    stale = mon.sigma0("a")
    assert stale is not None and stale.n_points < delays.size
    mon.settle("a")  # e.g. a scan stopped mid-run: the final values catch up
    settled = mon.sigma0("a")
    assert settled is not None and settled.n_points == delays.size
    assert settled.value_nm == pytest.approx(141.0, abs=0.01)
    assert all(p.sigma0_nm == settled.value_nm for p in mon.transport("a"))


def warm_and_cold_fits(
    cqd: VirtualSample, error_scale: float, seed: int
) -> tuple[list[GaussianFit], list[GaussianFit], int]:
    """The monitor's fits of a randomised sweep beside fits from each image's own start
    values; the third item counts the fits the monitor started from the previous spot."""
    from tamrig.analysis import monitor as live

    rng = np.random.default_rng(seed)
    delays = rng.permutation(np.concatenate([[-800.0, -300.0], np.arange(-100.0, 900.0, 25.0)]))
    mon = LiveMonitor(PIXEL_NM)
    started = 0
    original = live.fit_gaussian

    def counting(*args: object, **kwargs: object) -> GaussianFit:
        nonlocal started
        started += kwargs.get("start") is not None
        return original(*args, **kwargs)  # type: ignore[arg-type]

    live.fit_gaussian = counting  # type: ignore[assignment]
    monitor_fits, own_start_fits = [], []
    try:
        for delay in delays:
            image = sample_image(cqd, float(delay), rng)
            image.dtt_err = image.dtt_err * error_scale
            monitor_fits.append(mon.update(delay_fs=float(delay), series="s", image=image)[0])
            # the same pixel weights as the monitor's (the errors pooled with neighbours')
            weights = live._weights(image)
            own_start_fits.append(original(image.dtt, PIXEL_NM, weights=weights))
    finally:
        live.fit_gaussian = original  # type: ignore[assignment]
    return monitor_fits, own_start_fits, started


def test_a_fit_started_from_the_previous_spot_ends_where_the_image_leads(
    cqd: VirtualSample,
) -> None:
    """Honest pixel errors: most points start from the previous spot and every fit ends
    where the image's own start values lead (a few % of its errors; the same fits fail)."""
    monitor_fits, own, started = warm_and_cold_fits(cqd, 1.0, seed=12)
    assert started >= 0.6 * len(own)
    for fit, reference in zip(monitor_fits, own, strict=True):
        assert fit.converged == reference.converged
        if reference.converged:
            for value, error in (
                ("sigma_nm", "sigma_err_nm"),
                ("amplitude", "amplitude_err"),
                ("x0_nm", "x0_err_nm"),
                ("offset", "offset_err"),
            ):
                shift = abs(getattr(fit, value) - getattr(reference, value))
                assert shift < 0.1 * getattr(reference, error), (value, fit, reference)


def test_pixel_errors_that_understate_the_scatter_keep_the_images_own_start(
    cqd: VirtualSample,
) -> None:
    """Pixel errors 3x too small (χ²_red ≈ 9, as with very few pairs per point): χ² then has
    minima at single pixels and the start decides between them, so every fit starts from
    the image's own start values and is the very fit made without the monitor."""
    monitor_fits, own, started = warm_and_cold_fits(cqd, 1 / 3, seed=13)
    assert started == 0
    assert monitor_fits == own
