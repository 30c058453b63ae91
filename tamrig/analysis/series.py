"""One transport curve: σ(t) of a probe wavelength and fluence, turned into MSD(t) and D(t).

Repeated delays (several sweeps) are merged by inverse-variance means before the analysis;
σ₀ comes from the raw points around time zero. The MSD errors kept here are the per-point
(statistical) part only; σ₀'s error is common to every point and is carried separately so
that each analysis can treat it as the correlated systematic it is.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tamrig.analysis.sigma0 import Sigma0, diffusivity_cm2_s, estimate_sigma0, weighted_mean

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TransportSeries:
    """MSD(t) of one series, sorted by delay; ``msd_err_nm2`` excludes σ₀'s error."""

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
    def sigma0_shift_nm2(self) -> float:
        """One standard error of σ₀ expressed as the shift it causes in every MSD (2σ₀δσ₀)."""
        return 2.0 * self.sigma0.value_nm * self.sigma0.err_nm

    def msd_total_err_nm2(self) -> FloatArray:
        """Per-point error with σ₀'s (correlated) error added in quadrature."""
        return np.hypot(self.msd_err_nm2, self.sigma0_shift_nm2)

    def diffusivity(self) -> tuple[FloatArray, FloatArray]:
        """D(t) = MSD/2t in cm²/s with the full error (σ₀ included); NaN for t ≤ 0."""
        return diffusivity_cm2_s(self.delay_fs, self.msd_nm2, self.msd_total_err_nm2())

    def with_sigma0_correction(self, correction_nm2: float, err_nm2: float) -> TransportSeries:
        """The series with σ₀² raised by ``correction_nm2`` (e.g. from a fit of the whole
        early curve), σ₀'s error then being that of the correction."""
        s0_sq = self.sigma0.value_nm**2 + correction_nm2
        if not (math.isfinite(correction_nm2) and s0_sq > 0):
            return self
        s0 = math.sqrt(s0_sq)
        err = abs(err_nm2) / (2 * s0) if math.isfinite(err_nm2) else self.sigma0.err_nm
        return dataclasses.replace(
            self,
            msd_nm2=self.msd_nm2 - correction_nm2,
            sigma0=Sigma0(s0, err, self.sigma0.n_points, self.sigma0.birge_ratio),
        )

    def select(self, t_min: float, t_max: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(t, MSD, MSD error) with t_min ≤ t ≤ t_max."""
        use = (self.delay_fs >= t_min) & (self.delay_fs <= t_max)
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
    sigma0_window_fs: tuple[float, float] = (-60.0, 60.0),
    sigma0_method: str = "mean",
    sigma0: Sigma0 | None = None,
    n_abs: float = float("nan"),
    probe_wavelength_nm: float = float("nan"),
) -> TransportSeries:
    """MSD(t) = σ² − σ₀² from fitted widths; σ₀ from the window (see estimate_sigma0) unless given.

    Raises ValueError when σ₀ cannot be determined (no usable point inside the window).
    """
    if sigma0 is None:
        sigma0 = estimate_sigma0(
            delay_fs, sigma_nm, sigma_err_nm, sigma0_window_fs, method=sigma0_method
        )
        if sigma0 is None or not math.isfinite(sigma0.value_nm):
            raise ValueError(
                f"series {label!r}: no usable width inside the σ₀ window {sigma0_window_fs} fs"
            )
    t, s, e = merge_repeats(delay_fs, sigma_nm, sigma_err_nm)
    msd = s**2 - sigma0.value_nm**2
    return TransportSeries(
        label=label,
        delay_fs=t,
        msd_nm2=msd,
        msd_err_nm2=2 * s * e,
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
        sigma0=Sigma0(float(sigma0_nm), float(sigma0_err_nm), 0),
        n_abs=n_abs,
        probe_wavelength_nm=probe_wavelength_nm,
    )


__all__ = [
    "TransportSeries",
    "merge_repeats",
    "series_from_msd",
    "series_from_sigma",
    "weighted_mean",
]
