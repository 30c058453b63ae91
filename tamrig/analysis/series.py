"""One transport curve: σ(t) of a probe wavelength and fluence, turned into MSD(t) and D(t).

Repeated delays (several sweeps) are merged by inverse-variance means before the analysis;
σ₀ comes from the σ(τ) model fitted to the raw points. The MSD errors kept here are the per-point
(statistical) part only; σ₀'s error is common to every point and is carried separately so
that each analysis can treat it as the correlated systematic it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tamrig.analysis.sigma0 import Sigma0, estimate_sigma0, msd_from_sigma, per_2t_cm2_s
from tamrig.analysis.transport_model import ModelSettings, TransportModelFit

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TransportSeries:
    """MSD(t) of one series, sorted by delay (from time zero); ``msd_err_nm2`` excludes σ₀'s
    error, which is common to every point (``sigma0.err_nm``)."""

    label: str
    delay_fs: FloatArray
    msd_nm2: FloatArray
    msd_err_nm2: FloatArray
    sigma0: Sigma0
    n_abs: float = float("nan")
    probe_wavelength_nm: float = float("nan")
    sigma_nm: FloatArray | None = None
    sigma_err_nm: FloatArray | None = None

    @property
    def model(self) -> TransportModelFit | None:
        """The σ(τ) model fit σ₀ came from (None when σ₀ was given)."""
        return self.sigma0.model

    @property
    def sigma0_shift_nm2(self) -> float:
        """One standard error of σ₀ expressed as the shift it causes in every MSD (2σ₀δσ₀)."""
        return 2.0 * self.sigma0.value_nm * self.sigma0.err_nm

    def msd_total_err_nm2(self) -> FloatArray:
        """Per-point error with σ₀'s (correlated) error added in quadrature, for display."""
        return np.hypot(self.msd_err_nm2, self.sigma0_shift_nm2)

    def diffusivity(self) -> tuple[FloatArray, FloatArray]:
        """D(t) = MSD/2t in cm²/s with the full error (σ₀ included); NaN for t ≤ 0."""
        scale = per_2t_cm2_s(self.delay_fs)
        return self.msd_nm2 * scale, self.msd_total_err_nm2() * scale

    def select(self, t_min: float, t_max: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(t, MSD, MSD error) with t_min ≤ t ≤ t_max; the edges are widened by a relative
        1e-9 so a delay merged from sweeps (250.00000000001 fs) still counts as 250 fs."""
        lo = t_min - 1e-9 * max(abs(t_min), 1.0)
        hi = t_max + 1e-9 * max(abs(t_max), 1.0)
        use = (self.delay_fs >= lo) & (self.delay_fs <= hi)
        return self.delay_fs[use], self.msd_nm2[use], self.msd_err_nm2[use]


def merge_repeats(
    delay_fs: npt.ArrayLike,
    values: npt.ArrayLike,
    errors: npt.ArrayLike,
    tolerance_fs: float = 0.5,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Inverse-variance mean of values measured at the same delay (within ``tolerance_fs``).

    Points with a non-finite value or a non-positive error are dropped.
    """
    t = np.asarray(delay_fs, dtype=float)
    v = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    good = np.isfinite(t) & np.isfinite(v) & np.isfinite(e) & (e > 0)
    t, v, e = t[good], v[good], e[good]
    order = np.argsort(t, kind="stable")
    t, v, e = t[order], v[order], e[order]
    groups = np.split(np.arange(t.size), np.nonzero(np.diff(t) > tolerance_fs)[0] + 1)
    out_t, out_v, out_e = [], [], []
    for g in groups:
        if g.size == 0:
            continue
        w = 1.0 / e[g] ** 2
        out_t.append(float(np.sum(w * t[g]) / np.sum(w)))
        out_v.append(float(np.sum(w * v[g]) / np.sum(w)))
        out_e.append(1.0 / math.sqrt(float(np.sum(w))))
    return np.array(out_t), np.array(out_v), np.array(out_e)


def series_from_sigma(
    delay_fs: npt.ArrayLike,
    sigma_nm: npt.ArrayLike,
    sigma_err_nm: npt.ArrayLike,
    *,
    label: str = "",
    sigma0: Sigma0 | None = None,
    irf_fwhm_fs: float = 40.0,
    irf_err_fs: float = 0.0,
    t0_err_fs: float = 0.0,
    model: ModelSettings | None = None,
    n_abs: float = float("nan"),
    probe_wavelength_nm: float = float("nan"),
) -> TransportSeries:
    """MSD(t) = σ² − σ₀² from significant widths (delays from time zero); σ₀ from the σ(τ)
    model (see :func:`tamrig.analysis.sigma0.estimate_sigma0`) unless given.

    Raises ValueError when σ₀ cannot be determined (the model does not converge).
    """
    if sigma0 is None:
        sigma0 = estimate_sigma0(
            delay_fs,
            sigma_nm,
            sigma_err_nm,
            irf_fwhm_fs,
            model,
            irf_err_fs=irf_err_fs,
            t0_err_fs=t0_err_fs,
        )
        if sigma0 is None:
            raise ValueError(
                f"series {label!r}: σ₀ undetermined (the σ(τ) model needs significant widths "
                "around and after time zero)"
            )
    t, s, e = merge_repeats(delay_fs, sigma_nm, sigma_err_nm)
    columns = msd_from_sigma(t, s, e, sigma0)
    return TransportSeries(
        label=label,
        delay_fs=t,
        msd_nm2=columns.msd_nm2,
        msd_err_nm2=columns.msd_err_nm2,
        sigma0=sigma0,
        n_abs=n_abs,
        probe_wavelength_nm=probe_wavelength_nm,
        sigma_nm=s,
        sigma_err_nm=e,
    )


def series_from_msd(
    delay_fs: npt.ArrayLike,
    msd_nm2: npt.ArrayLike,
    msd_err_nm2: npt.ArrayLike,
    sigma0_nm: float,
    sigma0_err_nm: float,
    *,
    label: str = "",
    n_abs: float = float("nan"),
    probe_wavelength_nm: float = float("nan"),
) -> TransportSeries:
    """A series from MSD values whose errors do not include σ₀'s error."""
    t, m, e = merge_repeats(delay_fs, msd_nm2, msd_err_nm2)
    return TransportSeries(
        label=label,
        delay_fs=t,
        msd_nm2=m,
        msd_err_nm2=e,
        sigma0=Sigma0(float(sigma0_nm), float(sigma0_err_nm), 0, "given"),
        n_abs=n_abs,
        probe_wavelength_nm=probe_wavelength_nm,
    )


__all__ = [
    "TransportSeries",
    "merge_repeats",
    "series_from_msd",
    "series_from_sigma",
]
