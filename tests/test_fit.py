"""Gaussian fit: precision at the Cramér–Rao bound, honest errors, robustness."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamrig.analysis.fitting import (
    cramer_rao_centre_nm,
    cramer_rao_sigma_nm,
    fit_gaussian,
    start_values,
)

PIXEL_NM = 50.0
SIGMA_NM = 141.0
AMPLITUDE = 1.0e-3
NOISE = 2.5e-4  # peak SNR 4: the low-signal end of a real scan
OFFSET = 4e-4  # a residual ΔT/T background (scattered pump, heating)


def spot(
    shape: tuple[int, int] = (64, 64),
    *,
    amplitude: float = AMPLITUDE,
    sigma_nm: float | tuple[float, float] = SIGMA_NM,
    centre_px: tuple[float, float] = (31.3, 30.6),
    offset: float = 0.0,
) -> np.ndarray:
    """Noise-free image; ``centre_px`` is (x, y) in pixel indices (the centre of pixel 0 is
    0, i.e. a/2 from the image corner); ``sigma_nm`` may be (σx, σy)."""
    sx, sy = (sigma_nm, sigma_nm) if np.isscalar(sigma_nm) else sigma_nm  # type: ignore[misc]
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    r2 = ((x - centre_px[0]) / (sx / PIXEL_NM)) ** 2 + ((y - centre_px[1]) / (sy / PIXEL_NM)) ** 2
    return amplitude * np.exp(-0.5 * r2) + offset


@dataclass
class Draws:
    sigma: np.ndarray
    sigma_err: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x0_err: np.ndarray
    y0_err: np.ndarray
    amplitude: np.ndarray
    amplitude_err: np.ndarray
    offset: np.ndarray
    offset_err: np.ndarray
    reduced_chi2: np.ndarray
    converged: np.ndarray


FIELDS = (
    "sigma_nm",
    "sigma_err_nm",
    "x0_nm",
    "y0_nm",
    "x0_err_nm",
    "y0_err_nm",
    "amplitude",
    "amplitude_err",
    "offset",
    "offset_err",
    "reduced_chi2",
)


def repeated_fits(
    n: int, seed: int, noise_map: np.ndarray, use_weights: bool, *, offset: float = 0.0
) -> Draws:
    rng = np.random.default_rng(seed)
    clean = spot(offset=offset)
    rows = []
    for _ in range(n):
        image = clean + rng.normal(0.0, 1.0, clean.shape) * noise_map
        weights = 1.0 / noise_map**2 if use_weights else None
        fit = fit_gaussian(image, PIXEL_NM, weights=weights)
        rows.append((*(getattr(fit, name) for name in FIELDS), fit.converged))
    arr = np.array(rows, dtype=float)
    columns = [arr[:, i] for i in range(len(FIELDS))]
    return Draws(*columns, converged=arr[:, -1].astype(bool))


def assert_unit_pulls(values: np.ndarray, errors: np.ndarray, truth: float) -> None:
    """Errors that match the scatter: pulls (value − truth)/error with mean 0 and sd 1."""
    pulls = (values - truth) / errors
    assert 0.85 < np.std(pulls, ddof=1) < 1.15
    assert abs(np.mean(pulls)) < 0.2


@pytest.fixture(scope="module")
def white_noise_draws() -> Draws:
    return repeated_fits(
        240, seed=7, noise_map=np.full((64, 64), NOISE), use_weights=False, offset=OFFSET
    )


def test_sigma_precision_reaches_cramer_rao_bound(white_noise_draws: Draws) -> None:
    d = white_noise_draws
    assert d.converged.all()
    bound = cramer_rao_sigma_nm(NOISE, PIXEL_NM, AMPLITUDE)
    assert bound == pytest.approx(7.052, abs=1e-3)
    assert np.std(d.sigma, ddof=1) == pytest.approx(bound, rel=0.15)
    # Maximum likelihood is nearly unbiased even at a peak SNR of 4.
    assert abs(np.mean(d.sigma) - SIGMA_NM) < 0.25 * bound


def test_sigma_errors_are_honest(white_noise_draws: Draws) -> None:
    d = white_noise_draws
    pulls = (d.sigma - SIGMA_NM) / d.sigma_err
    assert 0.85 < np.std(pulls, ddof=1) < 1.15
    assert abs(np.mean(pulls)) < 0.2
    # The reported error itself sits at the bound, not just its scatter.
    bound = cramer_rao_sigma_nm(NOISE, PIXEL_NM, AMPLITUDE)
    assert np.median(d.sigma_err) == pytest.approx(bound, rel=0.15)


def test_centre_precision_reaches_bound(white_noise_draws: Draws) -> None:
    d = white_noise_draws
    bound = cramer_rao_centre_nm(NOISE, PIXEL_NM, AMPLITUDE)
    assert bound == pytest.approx(10.0)
    assert np.std(d.x0, ddof=1) == pytest.approx(bound, rel=0.15)
    assert np.std(d.y0, ddof=1) == pytest.approx(bound, rel=0.15)
    assert abs(np.mean(d.x0) - 31.8 * PIXEL_NM) < 0.3 * bound
    assert abs(np.mean(d.y0) - 31.1 * PIXEL_NM) < 0.3 * bound
    assert_unit_pulls(d.x0, d.x0_err, 31.8 * PIXEL_NM)
    assert_unit_pulls(d.y0, d.y0_err, 31.1 * PIXEL_NM)


def test_amplitude_and_offset_errors_match_their_scatter(white_noise_draws: Draws) -> None:
    d = white_noise_draws
    assert_unit_pulls(d.amplitude, d.amplitude_err, AMPLITUDE)
    assert_unit_pulls(d.offset, d.offset_err, OFFSET)
    # Without per-pixel weights there is no χ² scale to report.
    assert np.isnan(d.reduced_chi2).all()


def test_weighted_fit_with_uneven_noise_has_unit_pulls() -> None:
    """Per-pixel errors (as from the accumulator) enter as weights 1/err²."""
    x = np.arange(64, dtype=float)[None, :] * np.ones((64, 1))
    noise_map = NOISE * (0.5 + x / 64.0)  # noise grows across the frame
    d = repeated_fits(200, seed=11, noise_map=noise_map, use_weights=True, offset=-OFFSET)
    assert d.converged.all()
    assert_unit_pulls(d.sigma, d.sigma_err, SIGMA_NM)
    assert_unit_pulls(d.amplitude, d.amplitude_err, AMPLITUDE)
    assert_unit_pulls(d.offset, d.offset_err, -OFFSET)
    assert_unit_pulls(d.x0, d.x0_err, 31.8 * PIXEL_NM)
    # With the true per-pixel errors as weights, χ²/dof scatters about 1 by √(2/dof) ≈ 0.022.
    assert np.mean(d.reduced_chi2) == pytest.approx(1.0, abs=0.01)
    assert 0.015 < np.std(d.reduced_chi2, ddof=1) < 0.03


def test_weights_twice_too_large_show_in_reduced_chi2() -> None:
    """Errors underestimated by 2 (weights ×4): χ²/dof ≈ 4 says so, the σ error shrinks."""
    rng = np.random.default_rng(21)
    image = spot() + rng.normal(0.0, NOISE, (64, 64))
    honest = fit_gaussian(image, PIXEL_NM, weights=np.full((64, 64), NOISE**-2))
    tight = fit_gaussian(image, PIXEL_NM, weights=np.full((64, 64), 4 * NOISE**-2))
    assert honest.reduced_chi2 == pytest.approx(1.0, abs=0.08)
    assert tight.reduced_chi2 == pytest.approx(4 * honest.reduced_chi2, rel=1e-6)
    assert tight.sigma_nm == pytest.approx(honest.sigma_nm, rel=1e-6)
    assert tight.sigma_err_nm == pytest.approx(honest.sigma_err_nm / 2, rel=1e-6)


def test_negative_photoinduced_absorption_spot() -> None:
    rng = np.random.default_rng(3)
    image = spot(amplitude=-6e-4, centre_px=(28.0, 35.5)) + rng.normal(0, NOISE / 2, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged, fit.message
    assert fit.amplitude < 0
    assert abs(fit.sigma_nm - SIGMA_NM) < 4 * fit.sigma_err_nm
    assert abs(fit.x0_nm - 28.5 * PIXEL_NM) < 4 * fit.x0_err_nm
    assert abs(fit.y0_nm - 36.0 * PIXEL_NM) < 4 * fit.y0_err_nm


def test_offset_is_fitted_not_absorbed_into_width() -> None:
    rng = np.random.default_rng(4)
    image = spot(offset=3e-3) + rng.normal(0, NOISE / 5, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged
    assert fit.offset == pytest.approx(3e-3, abs=5 * fit.offset_err)
    assert fit.amplitude == pytest.approx(AMPLITUDE, abs=5 * fit.amplitude_err)
    assert abs(fit.sigma_nm - SIGMA_NM) < 5 * fit.sigma_err_nm


def test_spot_wider_than_the_frame_keeps_the_true_background() -> None:
    """The border no longer shows the background (the start value is 2e-4 too high): the
    fitted offset must still find it, not keep the border's median."""
    rng = np.random.default_rng(31)
    wide = 20 * PIXEL_NM
    image = spot(sigma_nm=wide, offset=3e-3) + rng.normal(0, NOISE / 5, (64, 64))
    assert start_values(image)[-1] - 3e-3 > 1.5e-4
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged, fit.message
    assert fit.offset == pytest.approx(3e-3, abs=4 * fit.offset_err)
    assert fit.offset_err < 2e-5
    assert fit.amplitude == pytest.approx(AMPLITUDE, abs=4 * fit.amplitude_err)
    assert fit.sigma_nm == pytest.approx(wide, abs=4 * fit.sigma_err_nm)


def test_sloped_background_leaves_the_spot_unbiased() -> None:
    """A background tilted across the frame (uneven probe): its odd part does not bias the
    spot's width and height, and the offset is the background's mean level."""
    rng = np.random.default_rng(32)
    y, x = np.mgrid[0:64, 0:64].astype(float)
    tilt = 3e-4 * (x - 31.5) / 64 - 2e-4 * (y - 31.5) / 64
    image = spot(offset=1e-3) + tilt + rng.normal(0, NOISE / 5, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged, fit.message
    assert fit.sigma_nm == pytest.approx(SIGMA_NM, abs=4 * fit.sigma_err_nm)
    assert fit.amplitude == pytest.approx(AMPLITUDE, abs=4 * fit.amplitude_err)
    assert fit.offset == pytest.approx(1e-3, abs=4 * fit.offset_err)
    assert fit.offset_err < 2e-6


def test_off_centre_spot_partly_outside_the_frame() -> None:
    rng = np.random.default_rng(5)
    image = spot(centre_px=(4.0, 58.5), offset=-1e-3) + rng.normal(0, NOISE / 5, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged, fit.message
    assert abs(fit.sigma_nm - SIGMA_NM) < 5 * fit.sigma_err_nm
    assert fit.amplitude == pytest.approx(AMPLITUDE, abs=5 * fit.amplitude_err)
    assert fit.offset == pytest.approx(-1e-3, abs=5 * fit.offset_err)
    assert fit.x0_nm == pytest.approx(4.5 * PIXEL_NM, abs=5 * fit.x0_err_nm)
    assert fit.y0_nm == pytest.approx(59.0 * PIXEL_NM, abs=5 * fit.y0_err_nm)


def test_anisotropic_mode_recovers_two_widths() -> None:
    rng = np.random.default_rng(6)
    image = spot(sigma_nm=(110.0, 190.0)) + rng.normal(0, NOISE / 5, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM, anisotropic=True)
    assert fit.converged
    assert fit.sigma_x_nm == pytest.approx(110.0, rel=0.03)
    assert fit.sigma_y_nm == pytest.approx(190.0, rel=0.03)
    assert fit.sigma_nm == pytest.approx(math.sqrt(110.0 * 190.0), abs=5 * fit.sigma_err_nm)
    iso = fit_gaussian(image, PIXEL_NM)
    assert iso.sigma_x_nm is None and iso.sigma_y_nm is None


def test_anisotropic_fit_of_round_spot_agrees_with_isotropic() -> None:
    rng = np.random.default_rng(8)
    image = spot() + rng.normal(0, NOISE, (64, 64))
    iso = fit_gaussian(image, PIXEL_NM)
    aniso = fit_gaussian(image, PIXEL_NM, anisotropic=True)
    assert aniso.sigma_nm == pytest.approx(iso.sigma_nm, abs=0.5 * iso.sigma_err_nm)
    assert aniso.sigma_err_nm == pytest.approx(iso.sigma_err_nm, rel=0.2)


def test_rectangular_image_and_larger_frame() -> None:
    rng = np.random.default_rng(9)
    image = spot((48, 128), centre_px=(80.2, 20.7), sigma_nm=250.0)
    image = image + rng.normal(0, NOISE / 5, image.shape)
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged
    assert fit.x0_nm == pytest.approx(80.7 * PIXEL_NM, abs=5 * fit.x0_err_nm)
    assert fit.y0_nm == pytest.approx(21.2 * PIXEL_NM, abs=5 * fit.y0_err_nm)
    assert fit.sigma_nm == pytest.approx(250.0, abs=5 * fit.sigma_err_nm)


def test_non_finite_pixels_are_ignored() -> None:
    rng = np.random.default_rng(10)
    image = spot() + rng.normal(0, NOISE / 5, (64, 64))
    image[30, 28:34] = np.nan  # a dead row segment through the spot
    image[0, 0] = np.inf
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged
    assert abs(fit.sigma_nm - SIGMA_NM) < 5 * fit.sigma_err_nm


def test_pure_noise_is_flagged_not_raised() -> None:
    rng = np.random.default_rng(12)
    results = [fit_gaussian(rng.normal(0, NOISE, (64, 64)), PIXEL_NM) for _ in range(20)]
    # A spot may appear by chance, but never one with a well determined 141 nm width.
    good = [r for r in results if r.converged and r.sigma_err_nm < 0.1 * r.sigma_nm]
    assert len(good) <= 2
    assert all(isinstance(r.message, str) and r.message for r in results)


@pytest.mark.parametrize("image", [np.zeros((32, 32)), np.full((32, 32), 5.0)])
def test_flat_images_are_not_converged(image: np.ndarray) -> None:
    fit = fit_gaussian(image, PIXEL_NM)
    assert not fit.converged
    # No spot: every width leaves χ² unchanged, the curvature matrix has no inverse.
    assert fit.message.startswith("singular curvature matrix: no spot to fit")
    assert math.isnan(fit.sigma_err_nm) and math.isnan(fit.amplitude_err)


def test_width_with_an_error_larger_than_itself_is_flagged() -> None:
    """Noise that happens to look like a faint narrow spot: the fit converges numerically
    but the width is undetermined, and the user is told so."""
    image = np.random.default_rng(10).normal(0, NOISE, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM)
    assert not fit.converged
    assert fit.message.startswith("converged")
    assert fit.message.endswith("; width not determined (error larger than the width)")
    assert fit.sigma_err_nm > fit.sigma_nm > 0


def test_all_pixels_invalid_is_flagged() -> None:
    fit = fit_gaussian(np.full((16, 16), np.nan), PIXEL_NM)
    assert not fit.converged
    assert "valid pixels" in fit.message
    assert math.isnan(fit.sigma_nm)


@pytest.mark.parametrize(
    ("image", "pixel", "match"),
    [
        (np.zeros(64), PIXEL_NM, "ndim=1"),
        (np.zeros((2, 64, 64)), PIXEL_NM, "ndim=3"),
        (np.zeros((2, 64)), PIXEL_NM, "at least 3"),
        (np.zeros((16, 16)), float("nan"), "pixel_size_nm"),
        (np.zeros((16, 16)), float("inf"), "pixel_size_nm"),
        (np.zeros((16, 16)), -50.0, "pixel_size_nm"),
    ],
)
def test_invalid_input_raises_value_error(image: np.ndarray, pixel: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_gaussian(image, pixel)


def test_weights_of_wrong_shape_raise() -> None:
    with pytest.raises(ValueError, match="weights"):
        fit_gaussian(np.zeros((16, 16)), PIXEL_NM, weights=np.ones((8, 8)))


def test_start_values_find_the_spot_at_low_snr() -> None:
    rng = np.random.default_rng(13)
    image = spot(centre_px=(12.0, 45.0), amplitude=-AMPLITUDE) + rng.normal(0, 3.3e-4, (64, 64))
    a, x0, y0, s, _ = start_values(image)
    assert a < 0
    assert abs(x0 - 12.0) < 3 and abs(y0 - 45.0) < 3
    assert 0.5 * SIGMA_NM / PIXEL_NM < s < 2 * SIGMA_NM / PIXEL_NM


def fisher_bound_sigma_nm(
    shape: tuple[int, int], amp: float, s_px: float, x0: float, y0: float, c: float, noise: float
) -> float:
    """Exact Cramér–Rao bound on σ for this frame (finite differences of the model)."""
    params = np.array([amp, s_px * PIXEL_NM, x0, y0, c])
    steps = np.array([abs(amp) * 1e-4, 1e-3, 1e-4, 1e-4, abs(amp) * 1e-4])

    def model(p: np.ndarray) -> np.ndarray:
        return spot(shape, amplitude=p[0], sigma_nm=p[1], centre_px=(p[2], p[3]), offset=p[4])

    columns = []
    for i, h in enumerate(steps):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        columns.append(((model(up) - model(down)) / (2 * h)).ravel())
    jac = np.stack(columns, axis=1)
    cov = np.linalg.inv(jac.T @ jac) * noise**2
    return float(np.sqrt(cov[1, 1]))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    amplitude=st.floats(2e-4, 5e-3) | st.floats(-5e-3, -2e-4),
    sigma_px=st.floats(1.2, 8.0),
    x0=st.floats(8.0, 40.0),
    y0=st.floats(8.0, 40.0),
    offset=st.floats(-2e-3, 2e-3),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_random_gaussians_are_recovered(
    amplitude: float, sigma_px: float, x0: float, y0: float, offset: float, seed: int
) -> None:
    noise = abs(amplitude) / 20.0
    image = spot(
        (48, 48),
        amplitude=amplitude,
        sigma_nm=sigma_px * PIXEL_NM,
        centre_px=(x0, y0),
        offset=offset,
    )
    image = image + np.random.default_rng(seed).normal(0, noise, image.shape)
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged, fit.message
    bound = fisher_bound_sigma_nm((48, 48), amplitude, sigma_px, x0, y0, offset, noise)
    assert fit.sigma_err_nm == pytest.approx(bound, rel=0.3)
    assert abs(fit.sigma_nm - sigma_px * PIXEL_NM) < 6 * fit.sigma_err_nm
    assert abs(fit.x0_nm - (x0 + 0.5) * PIXEL_NM) < 6 * fit.x0_err_nm
    assert abs(fit.y0_nm - (y0 + 0.5) * PIXEL_NM) < 6 * fit.y0_err_nm
    assert abs(fit.amplitude - amplitude) < 6 * fit.amplitude_err
    assert np.sign(fit.amplitude) == np.sign(amplitude)


@pytest.mark.parametrize(("x0_nm", "y0_nm"), [(1600.0, 1600.0), (1234.0, 987.0), (25.0, 3175.0)])
def test_centre_is_measured_from_the_pixel_0_corner(x0_nm: float, y0_nm: float) -> None:
    """The centre of pixel (i, j) is at ((i + ½)a, (j + ½)a): a spot drawn at a known position
    in those coordinates is found there (the middle of a 64-pixel frame is 32a, not 31.5a)."""
    a = PIXEL_NM
    y, x = (np.mgrid[0:64, 0:64] + 0.5) * a
    image = AMPLITUDE * np.exp(-((x - x0_nm) ** 2 + (y - y0_nm) ** 2) / (2 * SIGMA_NM**2))
    fit = fit_gaussian(image + 1e-9 * np.random.default_rng(0).normal(size=image.shape), a)
    assert fit.converged, fit.message
    assert fit.x0_nm == pytest.approx(x0_nm, abs=0.01)
    assert fit.y0_nm == pytest.approx(y0_nm, abs=0.01)
    assert fit.sigma_nm == pytest.approx(SIGMA_NM, abs=0.01)
