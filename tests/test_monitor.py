"""Live monitor: σ₀ from the window around time zero, MSD and D with propagated errors."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from simulators.sample import SampleSettings, VirtualSample
from tamrig.analysis.monitor import LiveMonitor
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


def test_no_transport_until_sigma0_is_known(cqd: VirtualSample) -> None:
    rng = np.random.default_rng(1)
    mon = LiveMonitor(PIXEL_NM)
    # Before time zero there is no signal: such points must not define σ₀.
    for delay in (-1000.0, -200.0, -60.0):
        fit, tp = mon.update(
            delay_fs=delay, series="905nm/N=0.045", image=sample_image(cqd, delay, rng)
        )
        assert tp is None
    assert mon.sigma0("905nm/N=0.045") is None
    fit, tp = mon.update(
        delay_fs=300.0, series="905nm/N=0.045", image=sample_image(cqd, 300.0, rng)
    )
    assert fit.converged and tp is None
    assert mon.transport("905nm/N=0.045") == []
    fit, tp = mon.update(delay_fs=20.0, series="905nm/N=0.045", image=sample_image(cqd, 20.0, rng))
    assert tp is not None
    assert mon.sigma0("905nm/N=0.045") is not None
    # now the earlier 300 fs point is evaluated too; the no-signal points are left out
    delays = [p.delay_fs for p in mon.transport("905nm/N=0.045")]
    assert 300.0 in delays and 20.0 in delays


def test_full_sweep_recovers_sigma0_and_diffusivity(cqd: VirtualSample) -> None:
    rng = np.random.default_rng(2)
    mon = LiveMonitor(PIXEL_NM)
    delays = np.concatenate([[-1000.0, -500.0], np.arange(-200.0, 1000.0, 20.0)])
    order = rng.permutation(delays)  # randomised delay order, as in a real sweep
    for delay in order:
        mon.update(delay_fs=float(delay), series="s", image=sample_image(cqd, float(delay), rng))
    s0 = mon.sigma0("s")
    assert s0 is not None
    assert s0.value_nm == pytest.approx(141.0, abs=3.0)  # docs/simulator.md: σ₀ = 141 ± 3 nm
    assert 0 < s0.err_nm < 1.5
    points = {p.delay_fs: p for p in mon.transport("s")}
    p300 = points[300.0]
    model_d = float(cqd.diffusivity_cm2_s(300.0))
    assert p300.diffusivity_cm2_s == pytest.approx(model_d, abs=4 * p300.diffusivity_err_cm2_s)
    assert p300.diffusivity_err_cm2_s < 15.0
    # MSD errors are honest: pulls against the model have about unit spread
    late = [p for t, p in points.items() if 100.0 <= t <= 980.0]
    pulls = [(p.msd_nm2 - float(cqd.msd_nm2(p.delay_fs))) / p.msd_err_nm2 for p in late]
    assert 0.5 < float(np.std(pulls)) < 1.6
    assert all(p.sigma0_nm == s0.value_nm for p in points.values())


def test_msd_and_diffusivity_arithmetic_and_error_propagation() -> None:
    mon = LiveMonitor(PIXEL_NM)
    assert mon.add_fit(delay_fs=0.0, series="a", fit=fake_fit(141.0, 0.5)) is not None
    tp = mon.add_fit(delay_fs=300.0, series="a", fit=fake_fit(150.0, 2.0))
    assert tp is not None
    assert tp.sigma0_nm == 141.0 and tp.sigma0_err_nm == pytest.approx(0.5)
    assert tp.msd_nm2 == pytest.approx(150.0**2 - 141.0**2)  # 2619 nm²
    expected_err = math.hypot(2 * 150.0 * 2.0, 2 * 141.0 * 0.5)  # σ₀'s error included
    assert tp.msd_err_nm2 == pytest.approx(expected_err)
    # D = MSD / 2t, 1 cm²/s = 0.1 nm²/fs
    assert tp.diffusivity_cm2_s == pytest.approx(2619.0 / 600.0 / 0.1)
    assert tp.diffusivity_err_cm2_s == pytest.approx(expected_err / 600.0 / 0.1)


def test_sigma0_is_the_weighted_mean_and_earlier_points_are_re_evaluated() -> None:
    mon = LiveMonitor(PIXEL_NM)
    mon.add_fit(delay_fs=-20.0, series="a", fit=fake_fit(140.0, 1.0))
    first = mon.add_fit(delay_fs=500.0, series="a", fit=fake_fit(160.0, 1.0))
    assert first is not None and first.sigma0_nm == pytest.approx(140.0)
    mon.add_fit(delay_fs=40.0, series="a", fit=fake_fit(143.0, 2.0))
    s0 = mon.sigma0("a")
    assert s0 is not None
    w = np.array([1.0, 0.25])
    mean = float(np.sum(w * [140.0, 143.0]) / w.sum())
    birge = math.sqrt(float(np.sum(w * (np.array([140.0, 143.0]) - mean) ** 2)))
    assert s0.value_nm == pytest.approx(mean)
    assert s0.err_nm == pytest.approx(birge / math.sqrt(w.sum()))  # scatter > errors: inflated
    again = {p.delay_fs: p for p in mon.transport("a")}[500.0]
    assert again.sigma0_nm == pytest.approx(mean)
    assert again.msd_nm2 == pytest.approx(160.0**2 - mean**2)
    # outside the window: σ₀ unchanged
    mon.add_fit(delay_fs=80.0, series="a", fit=fake_fit(170.0, 0.1))
    assert mon.sigma0("a") == s0


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


def test_invalid_window() -> None:
    with pytest.raises(ValueError, match="sigma0_window_fs"):
        LiveMonitor(PIXEL_NM, sigma0_window_fs=(60.0, -60.0))
