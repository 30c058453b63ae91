"""Weights of the spot fit: each pixel's error estimate pooled with its neighbours'.

The accumulator's per-pixel standard error of ΔT/T comes from the scatter of that pixel's
own frames, so its variance has only n_on + n_off − 2 degrees of freedom. With a few pump
on/off pairs per point that estimate is itself wildly uncertain (at 2 pairs it is an
exponential variable: one pixel in a hundred has its variance underestimated 100-fold),
and weights 1/err² then hand the fit to a few "lucky" pixels: χ² has minima at single
pixels and the fit reports narrow, significant spots that are not there.

The variance the estimate scatters about varies smoothly across the image (shot noise
follows the probe profile, read noise is constant; the pump signal changes it by ~ΔT/T),
so the error of a pixel is better estimated with its neighbours' help. The estimate used is
the pooled variance of the pixel's own estimate (d = n_on + n_off − 2 degrees of freedom)
and the mean variance of its neighbours within POOL_RADIUS, counted as d₀ degrees of
freedom, d₀ = min(PRIOR_DOF, d · neighbours):

    s̃² = (d · s² + d₀ · s̄²_neighbours) / (d + d₀)

— the "moderated" variance of empirical-Bayes practice (Smyth 2004, as in limma), with the
neighbourhood as the prior. With few pairs the neighbourhood decides; with many (d ≫
PRIOR_DOF, e.g. 150 pairs: d = 298) the pixel's own, then well-measured, estimate does, so a
pixel that really is noisier than its neighbours (a hot pixel, the edge of a dust shadow)
keeps most of its own error. Pixels without a usable error (not finite or ≤ 0: masked,
unlit, saturated) neither take part in the pooling nor count in the fit.

The stored ``dtt_errors`` stay the raw per-pixel estimates (they are data); every fit of an
image with per-pixel errors (the live monitor, a resumed scan's replay, reprocess, the image
viewer) weights it by :func:`fit_weights`.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: neighbours within this many pixels (a 5×5 square) share their variance estimates
POOL_RADIUS = 2
#: the most degrees of freedom the neighbourhood's variance counts for: beyond ~20 pairs per
#: point a pixel's own estimate carries more weight than its neighbours'
PRIOR_DOF = 40.0


def degrees_of_freedom(n_on: int, n_off: int) -> int:
    """Degrees of freedom of a pixel's variance estimate from n_on and n_off frames (0 when
    the counts are unknown)."""
    return max(int(n_on) + int(n_off) - 2, 0)


def pooled_variance(dtt_err: npt.ArrayLike, dof: float) -> FloatArray:
    """Per-pixel variance of ΔT/T, each pixel's own estimate pooled with its neighbours'.

    ``dtt_err``: the per-pixel standard errors; ``dof``: the degrees of freedom of each
    pixel's variance (:func:`degrees_of_freedom`). Pixels whose error is not finite or not
    > 0 get an infinite variance. ``dof`` ≤ 0 (unknown) returns the raw variances.
    """
    err = np.asarray(dtt_err, dtype=float)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(err) & (err > 0)
    everywhere = bool(valid.all())
    var = err * err if everywhere else np.where(valid, err * err, 0.0)
    if dof <= 0 or not (everywhere or valid.any()):
        return var if everywhere else np.where(valid, var, np.inf)
    # the neighbours' sum and count (the window less the pixel; outside the image is empty)
    around = _window_sums(var) - var
    count = _neighbours(err.shape) if everywhere else _window_sums(valid.astype(float)) - valid
    count = np.rint(count)
    prior = np.minimum(PRIOR_DOF, dof * count)  # 0 where no neighbour has an estimate
    # prior · neighbours' mean, that mean being around / count
    shared = prior * np.maximum(around, 0.0) / np.maximum(count, 1.0)
    pooled = (dof * var + shared) / (dof + prior)
    return pooled if everywhere else np.where(valid, pooled, np.inf)


def _window_sums(image: FloatArray) -> FloatArray:
    """Sums over the (2·POOL_RADIUS + 1)² window around each pixel, zero outside the image:
    shifted sums, cheaper than a general filter on a camera ROI."""
    r = POOL_RADIUS
    h, w = image.shape
    padded = np.zeros((h + 2 * r, w + 2 * r))
    padded[r : r + h, r : r + w] = image
    rows = padded[0:h].copy()
    for k in range(1, 2 * r + 1):
        rows += padded[k : k + h]
    out = rows[:, 0:w].copy()
    for k in range(1, 2 * r + 1):
        out += rows[:, k : k + w]
    return out


@cache
def _neighbours(shape: tuple[int, ...]) -> FloatArray:
    """Neighbours of each pixel inside the image (all pixels valid), cached per shape."""
    ones = np.ones(shape)
    count = _window_sums(ones) - ones
    count.setflags(write=False)
    return count


def fit_weights(dtt_err: npt.ArrayLike, n_on: int, n_off: int) -> FloatArray | None:
    """Weights 1/s̃² of the spot fit (0 where a pixel has no usable error), from the per-pixel
    errors of an image averaged over ``n_on`` pump-on and ``n_off`` pump-off frames; None
    (unit weights) when no pixel has a usable error."""
    var = pooled_variance(dtt_err, degrees_of_freedom(n_on, n_off))
    with np.errstate(divide="ignore"):
        w = 1.0 / var  # an infinite variance weighs 0
    return w if w.any() else None
