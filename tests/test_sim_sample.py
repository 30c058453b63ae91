"""The virtual sample as docs/simulator.md describes it: transport, presets, spectra, IRF."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from simulators.sample import SampleSettings, VirtualSample
from tamrig.errors import ConfigError
from tamrig.validation import validate_model


def sample(**kw: object) -> VirtualSample:
    return VirtualSample(SampleSettings.model_validate(kw))


def d_peak(s: VirtualSample, n_abs: float = 0.045) -> tuple[float, float, float]:
    """(t, D, L) at the maximum of D(t) = MSD/2t on 50–1000 fs (1 fs grid)."""
    t = np.arange(50.0, 1000.0 + 0.5, 1.0)
    d = s.diffusivity_cm2_s(t, n_abs)
    i = int(np.argmax(d))
    return float(t[i]), float(d[i]), float(math.sqrt(s.msd_nm2(t[i], n_abs)))


def test_cqd_peak_diffusivity_time_and_length() -> None:
    t, d, length = d_peak(sample(preset="cqd"))
    assert t == pytest.approx(300.0, abs=10)
    assert d == pytest.approx(102.0, abs=2.0)
    assert length == pytest.approx(78.0, abs=1.0)


def test_qdip40_peak_diffusivity_time_and_length() -> None:
    t, d, length = d_peak(sample(preset="qdip40"))
    assert t == pytest.approx(382.0, abs=10)
    assert d == pytest.approx(106.0, abs=2.0)
    assert length == pytest.approx(90.0, abs=1.0)


def test_qdip90_has_no_interior_peak() -> None:
    s = sample(preset="qdip90")
    t = np.arange(50.0, 1001.0, 1.0)
    d = s.diffusivity_cm2_s(t)
    assert np.all(np.diff(d) < 0)  # monotonic decrease: no super-diffusive regime
    assert s.superdiffusive_scale() == 0.0


def test_superdiffusive_msd_is_the_integral_of_the_instantaneous_diffusivity() -> None:
    """M_SD(t) = 2∫D_inst, D_inst = D_s (t/τ)^(α−1) e^{−(t/τ)^n}; MSD ∝ t^α early (α > 1)."""
    s = sample(preset="cqd", auger_l2_nm2=0.0, d_hop_cm2_s=0.0)
    d_s, tau = 132.8 * 0.1, 387.0

    def d_inst(t: float) -> float:
        return d_s * (t / tau) ** 0.2 * math.exp(-((t / tau) ** 6))

    for t in (50.0, 300.0, 600.0, 2000.0):
        assert s.msd_nm2(t) == pytest.approx(2 * quad(d_inst, 0, t, limit=200)[0], rel=1e-6)
    t = np.array([10.0, 20.0, 40.0])
    slope = np.diff(np.log(s.msd_nm2(t))) / np.diff(np.log(t))
    assert slope == pytest.approx([1.2, 1.2], abs=0.01)


def test_auger_growth_increases_with_fluence_hopping_does_not() -> None:
    s = sample(preset="cqd")
    growth = [s.msd_nm2(100e3, n) - s.msd_nm2(1e3, n) for n in (0.045, 0.09, 0.18)]
    assert growth[0] < growth[1] < growth[2]
    for n in (0.045, 0.09, 0.18):
        slope = (s.msd_nm2(2e6, n) - s.msd_nm2(150e3, n)) / (2 * (2e6 - 150e3)) / 0.1
        assert slope == pytest.approx(0.020, rel=0.01)


@pytest.mark.parametrize(
    ("phi", "tau", "d_s", "scale"),
    [(0.0, 387.0, 132.8, 1.0), (0.2, 439.9, 135.4, 1.0), (0.4, 492.8, 138.0, 1.0),
     (0.65, 492.8, 138.0, 0.5), (0.9, 492.8, 138.0, 0.0)],
)  # fmt: skip
def test_intermediate_perovskite_fractions(
    phi: float, tau: float, d_s: float, scale: float
) -> None:
    s = sample(preset="custom", perovskite_fraction=phi)
    assert s.settings.tau_s_fs == pytest.approx(tau)
    assert s.settings.d_s_cm2_s == pytest.approx(d_s)
    assert s.superdiffusive_scale() == pytest.approx(scale)


def test_presets_match_the_table_and_explicit_values_win() -> None:
    q40 = sample(preset="qdip40")
    assert (q40.settings.tau_s_fs, q40.settings.d_s_cm2_s) == (492.8, 138.0)
    own = sample(preset="qdip40", tau_s_fs=400.0)
    assert (own.settings.tau_s_fs, own.settings.d_s_cm2_s) == (400.0, 138.0)


def test_bad_sample_setting_names_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        validate_model(
            SampleSettings,
            {"alpah": 1.1},
            file="rig.toml",
            prefix="simulation.sample",
            error=ConfigError,
        )
    assert info.value.field == "simulation.sample.alpah"


def test_amplitude_kinetics() -> None:
    s = sample(preset="cqd")
    a = s.amplitude(np.array([-10.0, 0.0, 200.0, 2e6]), 0.045, 905.0)
    a0 = 1e-3 * s.spectral_factor(905.0)
    assert a[0] == 0.0
    assert a[1] == pytest.approx(0.7 * a0)  # 1 − b at t = 0
    assert a[2] == pytest.approx(a0 * (1 - 0.3 / math.e) * math.exp(-1e-4))
    assert a[3] == pytest.approx(a0 * (1 - 0.3 * math.exp(-1e4)) / math.e)
    assert s.amplitude(200.0, 0.09, 905.0) == pytest.approx(2 * a[2])  # ∝ N_abs


def test_signal_sign_and_size_by_probe_wavelength() -> None:
    cqd, q90 = sample(preset="cqd"), sample(preset="qdip90")
    assert cqd.spectral_factor(905.0) == pytest.approx(1.0, abs=1e-6)  # PbS bleach
    assert cqd.spectral_factor(670.0) < -0.5  # photo-induced absorption
    assert cqd.spectral_factor(690.0) < -0.4  # the paper's PIA probe
    assert abs(cqd.spectral_factor(565.0)) < 0.01  # no perovskite, no 565 nm bleach
    assert q90.spectral_factor(565.0) > 0.4  # perovskite bleach
    assert 0 < cqd.spectral_factor(905.0, bandwidth_nm=40.0) < cqd.spectral_factor(905.0)


def test_image_conserves_population_and_broadens() -> None:
    s = sample(preset="cqd")
    r = np.arange(0.0, 3000.0, 2.0)
    for t in (300.0, 5e4):
        img = s.dtt_image(t, 0.045, 905.0, r**2)
        # ∫ image 2πr dr = A(t) · 2πσ₀², independent of the width
        total = np.trapezoid(img * 2 * np.pi * r, r)
        expected = s.amplitude(t, 0.045, 905.0) * 2 * np.pi * 141.0**2
        assert total == pytest.approx(float(expected), rel=2e-3)


def test_instrument_response_is_a_40_fs_gaussian() -> None:
    """The rise of the population (image integral) is the IRF's step response: an erf with
    40 fs FWHM."""
    s = sample(preset="cqd", auger_b=0.0)
    sd = 40.0 / (2 * math.sqrt(2 * math.log(2)))
    r = np.arange(0.0, 2000.0, 2.0)
    full = float(s.amplitude(0.0, 0.045, 905.0)) * 2 * np.pi * 141.0**2
    for delay in np.arange(-50.0, 51.0, 5.0):
        img = s.dtt_image(delay, 0.045, 905.0, r**2)
        rise = np.trapezoid(img * 2 * np.pi * r, r) / full
        expected = 0.5 * (1 + math.erf(delay / (sd * math.sqrt(2))))
        assert rise == pytest.approx(expected, abs=1e-3)


def test_superdiffusive_d_falls_with_fluence_as_set_by_kappa() -> None:
    """D_s(N) = D_s / (1 + κ (N/0.045 − 1)), τ_s unchanged; κ = 0 turns it off."""
    s = sample(preset="cqd", kappa=0.1)
    assert s.d_s_cm2_s(0.045) == pytest.approx(132.8)
    assert s.d_s_cm2_s(0.18) == pytest.approx(132.8 / 1.3)
    assert sample(preset="cqd", kappa=0.0).d_s_cm2_s(0.18) == pytest.approx(132.8)
    assert sample(preset="cqd").settings.kappa == 0.05  # the default
    off = sample(preset="cqd", kappa=0.0, auger_l2_nm2=0.0, d_hop_cm2_s=0.0)
    on = sample(preset="cqd", kappa=0.1, auger_l2_nm2=0.0, d_hop_cm2_s=0.0)
    for t in (50.0, 300.0, 2000.0):  # the whole M_SD scales with D_s: τ_s is untouched
        assert on.msd_nm2(t, 0.18) == pytest.approx(off.msd_nm2(t, 0.18) / 1.3, rel=1e-12)
    with pytest.raises(ValueError):
        SampleSettings(kappa=1.0)


def test_peak_truth_matches_a_dense_grid_search() -> None:
    from simulators.sample import peak_truths

    settings = SampleSettings(preset="cqd")
    truths = peak_truths(settings, (0.045, 0.09, 0.18))
    for truth in truths:
        t, d, length = d_peak(VirtualSample(settings), truth.n_abs)
        assert truth.t_peak_fs == pytest.approx(t, abs=1.0)
        assert truth.d_peak_cm2_s == pytest.approx(d, abs=1e-3)
        assert truth.length_nm == pytest.approx(length, abs=0.05)
    peaks = [t.d_peak_cm2_s for t in truths]
    assert peaks == pytest.approx([102.0, 97.56, 89.94], abs=0.02)
    (none,) = peak_truths(SampleSettings(preset="qdip90"), [0.045])  # no interior peak
    assert math.isnan(none.t_peak_fs) and math.isnan(none.d_peak_cm2_s)
    assert math.isnan(none.length_nm)
