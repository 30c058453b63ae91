"""Gaussian fit: precision at the Cramér–Rao bound, honest errors, robustness."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamrig.analysis import fitting
from tamrig.analysis.fitting import (
    WARM_ITERATIONS,
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
    # Every result says how the fit ended, in words the operator can act on.
    endings = ("converged", "no convergence", "no spot", "singular curvature matrix")
    assert all(r.message.startswith(endings) for r in results)
    assert all(r.message.startswith("converged after") for r in results if r.converged)


@pytest.mark.parametrize("image", [np.zeros((32, 32)), np.full((32, 32), 5.0)])
def test_flat_images_are_not_converged(image: np.ndarray) -> None:
    fit = fit_gaussian(image, PIXEL_NM)
    assert not fit.converged
    # No spot: every width leaves χ² unchanged, the curvature matrix has no inverse.
    assert re.fullmatch(
        r"singular curvature matrix: no spot to fit after \d+ iterations", fit.message
    )
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


def least_squares_reference(
    image: np.ndarray,
    weights: np.ndarray | None,
    anisotropic: bool = False,
    centre: tuple[float, float] = (31.0, 31.0),
) -> tuple[np.ndarray, np.ndarray]:
    """The minimum of Σ w·(data − model)² from scipy's trust-region solver, to full precision,
    and the parameters' standard errors from its Jacobian ((JᵀWJ)⁻¹, scaled by χ²/dof when
    there are no weights): [A, x0, y0, σ(x), (σy,) c] in pixels (x0, y0 at pixel centres)."""
    from scipy.optimize import least_squares

    ny, nx = image.shape
    y, x = np.mgrid[0:ny, 0:nx].astype(float)
    sw = np.ones_like(image) if weights is None else np.sqrt(weights)

    def residuals(p: np.ndarray) -> np.ndarray:
        a, x0, y0, sx = p[:4]
        sy = p[4] if anisotropic else sx
        model = a * np.exp(-0.5 * (((x - x0) / sx) ** 2 + ((y - y0) / sy) ** 2)) + p[-1]
        return ((image - model) * sw).ravel()

    start = [AMPLITUDE, *centre, 3.0, *([3.0] if anisotropic else []), 0.0]
    found = least_squares(residuals, start, xtol=1e-14, ftol=1e-14, gtol=1e-14, x_scale="jac")
    cov = np.linalg.inv(found.jac.T @ found.jac)
    if weights is None:
        cov *= 2 * found.cost / (image.size - len(start))
    return found.x, cov


@pytest.mark.parametrize("case", ["plain", "weighted", "anisotropic", "border"])
def test_fit_lands_on_the_least_squares_minimum(case: str) -> None:
    """Every parameter within 5 % of its error of the exact minimum (the convergence
    tolerance leaves ~1 %), every error as from the exact curvature, and χ²/dof that of the
    returned parameters."""
    rng = np.random.default_rng(51)
    anisotropic = case == "anisotropic"
    # "border": a spot cut by the left edge, so its x and y errors differ
    centre = (2.0, 30.6) if case == "border" else (31.3, 30.6)
    sigma = (120.0, 170.0) if anisotropic else SIGMA_NM
    image = spot(sigma_nm=sigma, centre_px=centre, offset=OFFSET)
    x = np.arange(64, dtype=float)[None, :] * np.ones((64, 1))
    uneven = case in ("weighted", "anisotropic")
    noise_map = NOISE * (0.5 + x / 64.0) if uneven else np.full((64, 64), NOISE)
    image = image + rng.normal(0, 1, image.shape) * noise_map
    weights = noise_map**-2 if uneven else None
    fit = fit_gaussian(image, PIXEL_NM, weights=weights, anisotropic=anisotropic)
    assert fit.converged, fit.message
    ref, cov = least_squares_reference(image, weights, anisotropic, centre=(centre[0], 31.0))
    err = np.sqrt(np.diag(cov))
    assert fit.amplitude == pytest.approx(ref[0], abs=0.05 * fit.amplitude_err)
    assert fit.x0_nm == pytest.approx((ref[1] + 0.5) * PIXEL_NM, abs=0.05 * fit.x0_err_nm)
    assert fit.y0_nm == pytest.approx((ref[2] + 0.5) * PIXEL_NM, abs=0.05 * fit.y0_err_nm)
    assert fit.offset == pytest.approx(ref[-1], abs=0.05 * fit.offset_err)
    assert fit.amplitude_err == pytest.approx(err[0], rel=0.01)
    assert fit.x0_err_nm == pytest.approx(err[1] * PIXEL_NM, rel=0.01)
    if case == "border":
        assert fit.x0_err_nm > 1.2 * fit.y0_err_nm  # half the spot is outside the frame
    assert fit.y0_err_nm == pytest.approx(err[2] * PIXEL_NM, rel=0.01)
    assert fit.offset_err == pytest.approx(err[-1], rel=0.01)
    if anisotropic:
        sx, sy = ref[3], ref[4]
        assert fit.sigma_x_nm == pytest.approx(sx * PIXEL_NM, rel=1e-3)
        assert fit.sigma_y_nm == pytest.approx(sy * PIXEL_NM, rel=1e-3)
        sigma_ref = math.sqrt(sx * sy) * PIXEL_NM
        grad = np.array([math.sqrt(sy / sx) / 2, math.sqrt(sx / sy) / 2])  # ∂√(σxσy)/∂σx,y
        sigma_err_ref = math.sqrt(grad @ cov[3:5, 3:5] @ grad) * PIXEL_NM
    else:
        sigma_ref, sigma_err_ref = ref[3] * PIXEL_NM, err[3] * PIXEL_NM
    assert fit.sigma_nm == pytest.approx(sigma_ref, abs=0.05 * fit.sigma_err_nm)
    assert fit.sigma_err_nm == pytest.approx(sigma_err_ref, rel=0.01)
    if weights is not None:
        n_params = 6 if anisotropic else 5
        sx_nm, sy_nm = (fit.sigma_x_nm, fit.sigma_y_nm) if anisotropic else (fit.sigma_nm,) * 2
        residuals = image - spot(
            amplitude=fit.amplitude,
            sigma_nm=(sx_nm, sy_nm),  # type: ignore[arg-type]
            centre_px=(fit.x0_nm / PIXEL_NM - 0.5, fit.y0_nm / PIXEL_NM - 0.5),
            offset=fit.offset,
        )
        chi2 = float(np.sum(weights * residuals**2))
        assert fit.reduced_chi2 == pytest.approx(chi2 / (64 * 64 - n_params), rel=1e-4)


def test_only_relative_weights_matter_for_the_parameters() -> None:
    """Weights 1/err² scaled by a constant (errors all off by the same factor): the same
    parameters, errors scaled by 1/√factor, and χ²/dof by the factor."""
    rng = np.random.default_rng(52)
    image = spot() + rng.normal(0, NOISE, (64, 64))
    honest = fit_gaussian(image, PIXEL_NM, weights=np.full((64, 64), NOISE**-2))
    for factor in (4.0, 0.25):
        scaled = fit_gaussian(image, PIXEL_NM, weights=np.full((64, 64), factor * NOISE**-2))
        assert scaled.converged, scaled.message
        assert scaled.sigma_nm == pytest.approx(honest.sigma_nm, rel=1e-6)
        assert scaled.amplitude == pytest.approx(honest.amplitude, rel=1e-6)
        assert scaled.sigma_err_nm == pytest.approx(honest.sigma_err_nm / factor**0.5, rel=1e-6)
        assert scaled.reduced_chi2 == pytest.approx(factor * honest.reduced_chi2, rel=1e-6)
    assert honest.reduced_chi2 == pytest.approx(1.0, abs=0.08)


def test_image_units_do_not_change_the_fit() -> None:
    """ΔT/T in units of 1e-4 (amplitude 10, weights 1/err² below 1): the same spot."""
    rng = np.random.default_rng(55)
    image = spot() + rng.normal(0, NOISE, (64, 64))
    weights = np.full((64, 64), NOISE**-2)
    fit = fit_gaussian(image, PIXEL_NM, weights=weights)
    scaled = fit_gaussian(image * 1e4, PIXEL_NM, weights=weights * 1e-8)
    assert scaled.converged, scaled.message
    assert scaled.sigma_nm == pytest.approx(fit.sigma_nm, rel=1e-6)
    assert scaled.sigma_err_nm == pytest.approx(fit.sigma_err_nm, rel=1e-6)
    assert scaled.amplitude == pytest.approx(1e4 * fit.amplitude, rel=1e-6)
    assert scaled.amplitude_err == pytest.approx(1e4 * fit.amplitude_err, rel=1e-6)
    assert scaled.reduced_chi2 == pytest.approx(fit.reduced_chi2, rel=1e-6)


def test_pixels_with_unusable_weights_are_left_out() -> None:
    """Zero, negative, NaN and infinite weights mark a pixel as unusable: the fit is the one
    of the image with those pixels missing."""
    rng = np.random.default_rng(53)
    image = spot(offset=OFFSET) + rng.normal(0, NOISE, (64, 64))
    weights = np.full((64, 64), NOISE**-2)
    bad = [(30, 30), (31, 33), (0, 5), (12, 40)]
    for (yy, xx), w in zip(bad, [0.0, -1.0, np.nan, np.inf]):
        weights[yy, xx] = w
        image[yy, xx] = 1.0  # a wild value that would pull the fit if it counted
    fit = fit_gaussian(image, PIXEL_NM, weights=weights)
    holes = image.copy()
    for yy, xx in bad:
        holes[yy, xx] = np.nan
    same = fit_gaussian(holes, PIXEL_NM, weights=np.full((64, 64), NOISE**-2))
    assert fit.converged, fit.message
    assert fit.sigma_nm == pytest.approx(same.sigma_nm, rel=1e-9)
    assert fit.amplitude == pytest.approx(same.amplitude, rel=1e-9)
    assert fit.offset == pytest.approx(same.offset, rel=1e-9)
    assert fit.reduced_chi2 == pytest.approx(same.reduced_chi2, rel=1e-9)
    assert abs(fit.sigma_nm - SIGMA_NM) < 4 * fit.sigma_err_nm


def test_too_few_valid_pixels_for_five_parameters() -> None:
    image = spot((16, 16), centre_px=(7.5, 7.5))
    weights = np.zeros((16, 16))
    weights[7:9, 6:9] = 1.0  # 6 pixels: one more than the 5 parameters
    six = fit_gaussian(image, PIXEL_NM, weights=weights)
    assert "valid pixels" not in six.message
    weights[8, 8] = 0.0  # 5 pixels: no degree of freedom left
    five = fit_gaussian(image, PIXEL_NM, weights=weights)
    assert not five.converged
    assert five.message == "too few valid pixels for a Gaussian fit"
    assert math.isnan(five.sigma_nm) and math.isnan(five.sigma_err_nm)


def test_smallest_image_and_any_positive_pixel_size() -> None:
    rng = np.random.default_rng(54)
    image = spot((3, 3), centre_px=(1.0, 1.0), sigma_nm=60.0) + rng.normal(0, 1e-5, (3, 3))
    for pixel in (PIXEL_NM, 0.5):  # lengths scale with the pixel; 0.5 nm is a valid pixel
        fit = fit_gaussian(image, pixel)
        assert fit.converged, fit.message
        assert fit.sigma_nm == pytest.approx(60.0 / PIXEL_NM * pixel, abs=4 * fit.sigma_err_nm)
        assert fit.sigma_err_nm < 0.2 * fit.sigma_nm
        assert fit.x0_nm == pytest.approx(1.5 * pixel, abs=3 * fit.x0_err_nm)
    with pytest.raises(ValueError, match="pixel_size_nm"):
        fit_gaussian(image, 0.0)


def test_no_convergence_is_reported_with_the_iterations_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A noise fit whose χ² has stopped falling ends as soon as that is clear, with the
    verdict the run to the iteration cap gives: no spot."""
    noise = np.random.default_rng(4).normal(0, NOISE, (64, 64))
    fit = fit_gaussian(noise, PIXEL_NM)
    assert not fit.converged
    assert fit.message == "no spot: chi2 stopped falling after 39 iterations"
    monkeypatch.setattr(fitting, "STALL_ITERATIONS", 10**6)
    full = fit_gaussian(noise, PIXEL_NM)
    assert not full.converged
    assert full.message == "no convergence after 60 iterations"


def test_start_values_of_a_clean_spot() -> None:
    """Peak pixel, half width from the smoothed profile (smoothing taken out), height."""
    a, x0, y0, s, c = start_values(spot(offset=OFFSET))
    assert (x0, y0) == (31.0, 31.0)  # the brightest pixel of (31.3, 30.6)
    assert s == pytest.approx(SIGMA_NM / PIXEL_NM, rel=0.02)
    assert a == pytest.approx(AMPLITUDE, rel=0.03)
    assert c == pytest.approx(OFFSET, abs=1e-9)
    a, x0, y0, s, c = start_values(spot(sigma_nm=400.0, centre_px=(20.0, 40.0)))
    assert (x0, y0) == (20.0, 40.0)
    assert s == pytest.approx(8.0, rel=0.02)
    assert a == pytest.approx(AMPLITUDE, rel=0.01)
    a, *_ = start_values(-spot())  # photo-induced absorption: a negative start
    assert a == pytest.approx(-AMPLITUDE, rel=0.03)
    # Narrower than a pixel after smoothing: the width is not clamped far above 0.8 px.
    assert start_values(spot(sigma_nm=40.0))[3] == pytest.approx(0.8, rel=0.25)


def test_start_values_bridge_unusable_pixels_in_the_spot() -> None:
    image = spot()
    weights = np.ones((64, 64))
    weights[29:34, 30:33] = 0.0  # dead pixels across the peak, reading nonsense
    image[weights == 0] = 5.0
    a, x0, y0, s, c = start_values(image, weights)
    assert abs(x0 - 31.3) <= 1 and abs(y0 - 30.6) <= 1
    assert s == pytest.approx(SIGMA_NM / PIXEL_NM, rel=0.1)
    assert a == pytest.approx(AMPLITUDE, rel=0.2)
    assert abs(c) < 1e-12


def test_start_offset_is_the_median_of_the_outermost_pixels() -> None:
    image = spot(offset=0.0)
    ring = np.zeros((64, 64), bool)
    ring[[0, -1], :] = ring[:, [0, -1]] = True
    levels = 2e-4 + 1e-6 * (np.arange(252) - 126)  # 252 border pixels, median 2e-4
    image[ring] = np.random.default_rng(56).permutation(levels)
    image[~ring] += 2e-4
    inner = image[1:-1, 1:-1]  # the ring one pixel further in
    inner[[0, -1], :] = inner[:, [0, -1]] = 5e-4
    assert start_values(image)[-1] == 2e-4
    weights = np.ones((64, 64))
    weights[0, :40] = 0.0  # unusable border pixels do not vote
    voters = np.sort(image[ring & (weights > 0)])
    image[0, :40] = 1.0
    assert start_values(image, weights)[-1] == voters[voters.size // 2]
    a, x0, y0, s, _ = start_values(image, weights)
    assert (x0, y0) == (31.0, 31.0) and s == pytest.approx(SIGMA_NM / PIXEL_NM, rel=0.05)
    assert a == pytest.approx(AMPLITUDE, rel=0.05)
    weights[[0, -1], :] = weights[:, [0, -1]] = 0.0  # no usable border: no background guess
    assert start_values(image, weights)[-1] == 0.0


def test_start_values_without_a_spot_are_the_frame_centre() -> None:
    a, x0, y0, s, c = start_values(np.full((30, 40), 2.0))
    assert (a, x0, y0, s, c) == (0.0, 19.5, 14.5, 5.0, 2.0)


def test_a_spot_at_the_low_signal_end_converges_in_a_few_iterations() -> None:
    """The live fit must never hold up a point: from its start values the damped
    Gauss–Newton loop reaches the minimum in at most 5 iterations at a peak SNR of 4."""
    rng = np.random.default_rng(57)
    clean = spot(offset=OFFSET)
    spent = []
    for _ in range(40):
        fit = fit_gaussian(clean + rng.normal(0, NOISE, (64, 64)), PIXEL_NM)
        found = re.fullmatch(r"converged after (\d+) iterations", fit.message)
        assert found, fit.message
        spent.append(int(found.group(1)))
    assert max(spent) <= 5
    assert np.median(spent) <= 3


def test_a_single_bright_pixel_is_refused_not_fitted_as_a_narrow_spot() -> None:
    # One hot pixel 500 noise sd above the background: without the width floor this fit
    # converges on σ ≈ 0.26 pixel with |A|/δA ≈ 60, a "significant spot" that would pull σ₀
    # down.
    image = np.random.default_rng(5).normal(0.0, 2e-5, (64, 64))
    image[13, 20] = 1e-2
    fit = fit_gaussian(image, PIXEL_NM)
    assert not fit.converged
    assert fit.message.startswith("converged after")
    assert fit.message.endswith(
        "; width below 0.5 pixel: a hot pixel or a one-pixel streak, not a spot"
    )


def test_a_streak_narrower_than_half_a_pixel_is_refused_by_the_anisotropic_fit() -> None:
    rng = np.random.default_rng(6)
    image = spot(sigma_nm=(15.0, 120.0)) + rng.normal(0.0, 1e-5, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM, anisotropic=True)
    assert not fit.converged
    assert fit.sigma_x_nm == pytest.approx(15.0, abs=5.0)  # measured, then refused
    assert fit.message.endswith(
        "width below 0.5 pixel: a hot pixel or a one-pixel streak, not a spot"
    )


def test_a_spot_of_one_pixel_sigma_is_still_a_spot() -> None:
    # The floor sits at half a pixel: a σ of one pixel (50 nm here) is measured, not refused.
    rng = np.random.default_rng(4)
    image = spot(sigma_nm=PIXEL_NM) + rng.normal(0.0, 1e-5, (64, 64))
    fit = fit_gaussian(image, PIXEL_NM)
    assert fit.converged, fit.message
    assert fit.sigma_nm == pytest.approx(PIXEL_NM, abs=4 * fit.sigma_err_nm)


def test_a_fit_started_from_the_neighbouring_optimum_ends_where_the_image_leads() -> None:
    """The live monitor starts a point's fit from the previous delay's optimum. On random
    truths (the spot grown, dimmed and moved a little between the two delays) that fit
    must end where the image's own start values lead, to a few % of each error, in a few
    steps; started on an image without a spot it gives up after WARM_ITERATIONS."""
    rng = np.random.default_rng(81)
    weights = np.full((64, 64), NOISE**-2)
    spent = []
    for _ in range(30):
        sigma = rng.uniform(120.0, 250.0)
        centre = (rng.uniform(25.0, 38.0), rng.uniform(25.0, 38.0))
        amplitude = rng.uniform(2.0, 8.0) * NOISE * rng.choice([-1.0, 1.0])
        before = spot(amplitude=amplitude * 1.2, sigma_nm=sigma - 10.0, centre_px=centre)
        now = spot(amplitude=amplitude, sigma_nm=sigma, centre_px=(centre[0] + 0.3, centre[1]))
        image = now + OFFSET + rng.normal(0, NOISE, now.shape)
        previous = fit_gaussian(before + OFFSET + rng.normal(0, NOISE, now.shape), PIXEL_NM)
        assert previous.converged, previous.message
        cold = fit_gaussian(image, PIXEL_NM, weights=weights)
        warm = fit_gaussian(image, PIXEL_NM, weights=weights, start=previous)
        assert cold.converged and warm.converged, (cold.message, warm.message)
        for value, error in (
            ("sigma_nm", "sigma_err_nm"),
            ("amplitude", "amplitude_err"),
            ("x0_nm", "x0_err_nm"),
            ("y0_nm", "y0_err_nm"),
            ("offset", "offset_err"),
        ):
            shift = abs(getattr(warm, value) - getattr(cold, value))
            assert shift < 0.1 * getattr(cold, error), (value, warm, cold)
        assert warm.sigma_err_nm == pytest.approx(cold.sigma_err_nm, rel=0.02)
        found = re.fullmatch(r"converged after (\d+) iterations", warm.message)
        assert found, warm.message
        spent.append(int(found.group(1)))
        # started at its own optimum a fit stays there: one step, below its tolerance
        again = fit_gaussian(image, PIXEL_NM, weights=weights, start=cold)
        assert again.message == "converged after 1 iterations"
        assert abs(again.sigma_nm - cold.sigma_nm) < 0.01 * cold.sigma_err_nm
    assert max(spent) <= 5 and np.median(spent) <= 3
    noise = np.random.default_rng(5).normal(0, NOISE, (64, 64))
    gave_up = fit_gaussian(noise, PIXEL_NM, weights=weights, start=previous)
    assert not gave_up.converged
    assert gave_up.message.endswith(f"after {WARM_ITERATIONS} iterations") or (
        "no spot" in gave_up.message
    )


def test_a_noise_fit_stopped_early_is_one_the_full_run_rejects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pixel errors estimated from two pairs (each a draw of χ² with one degree of freedom)
    leave χ² minima at single pixels, and fits crawl there to the iteration cap. The ones
    stopped early must be exactly the ones the full run rejects; every other fit is the
    same fit."""
    rng = np.random.default_rng(23)
    cases = []
    for _ in range(20):
        amplitude = rng.uniform(0.0, 6.0) * NOISE
        clean = spot(amplitude=amplitude, sigma_nm=rng.uniform(120.0, 220.0))
        image = clean + rng.normal(0, NOISE, clean.shape)
        estimated = NOISE * np.abs(rng.normal(size=clean.shape))  # one-pair error estimates
        cases.append((image, 1.0 / estimated**2))
    early = [fit_gaussian(image, PIXEL_NM, weights=w) for image, w in cases]
    monkeypatch.setattr(fitting, "STALL_ITERATIONS", 10**6)
    full = [fit_gaussian(image, PIXEL_NM, weights=w) for image, w in cases]
    stopped = [e.message.startswith("no spot: chi2 stopped falling") for e in early]
    assert sum(stopped) >= 3
    for fit, reference, was_stopped in zip(early, full, stopped, strict=True):
        if was_stopped:
            assert not reference.converged
        else:
            assert repr(fit) == repr(reference)  # (NaN errors of failed fits compare by text)
