"""σ₀, the width at time zero, and the MSD = σ² − σ₀² it anchors (shared by live and offline).

σ₀ dominates early-time D (1 nm of σ₀ moves D(300 fs) by ~4.7 cm²/s). A mean of the widths
around time zero is biased upwards by the spreading that the instrument response already
mixes in (~+2 nm for ±60 fs), so σ₀ is the σ₀ of the σ(τ) model
(:mod:`tamrig.analysis.transport_model`), fitted jointly with the transport it anchors.
The live monitor and ``tamrig analyze`` both call :func:`estimate_sigma0` and
:func:`msd_from_sigma`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tamrig.analysis.transport_model import ModelSettings, TransportModelFit, fit_transport_model
from tamrig.units import NM2_PER_FS_PER_CM2_S

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sigma0:
    """σ₀ and its standard error; ``method`` names the model it came from.

    ``model`` is the σ(τ) fit that produced it ("superdiffusive" or "linear"), None when σ₀
    was given from outside.
    """

    value_nm: float
    err_nm: float
    n_points: int
    method: str = "given"
    model: TransportModelFit | None = field(default=None, repr=False, compare=False)


def estimate_sigma0(
    tau_fs: npt.ArrayLike,
    sigma_nm: npt.ArrayLike,
    sigma_err_nm: npt.ArrayLike,
    irf_fwhm_fs: float,
    settings: ModelSettings | None = None,
    *,
    start: TransportModelFit | None = None,
    irf_err_fs: float = 0.0,
    t0_err_fs: float = 0.0,
    quick: bool = False,
) -> Sigma0 | None:
    """σ₀ of the σ(τ) model fitted to significant widths (delays from time zero); None if
    the model does not converge (e.g. no width after time zero yet). The errors of a
    measured IRF and t₀ are propagated into σ₀'s (and every model quantity's) error.
    ``quick``: one start with few evaluations (see :func:`fit_transport_model`)."""
    fit = fit_transport_model(
        tau_fs,
        sigma_nm,
        sigma_err_nm,
        irf_fwhm_fs,
        settings,
        start=start,
        irf_err_fs=irf_err_fs,
        t0_err_fs=t0_err_fs,
        quick=quick,
    )
    if not fit.ok:
        return None
    return Sigma0(fit.value("sigma0_nm"), fit.error("sigma0_nm"), fit.n_points, fit.kind, fit)


def per_2t_cm2_s(delay_fs: npt.ArrayLike) -> FloatArray:
    """The factor that turns an MSD (nm²) at delay t (fs) into D = MSD/2t in cm²/s
    (1 cm²/s = 0.1 nm²/fs); NaN for t ≤ 0, where no D is defined."""
    t = np.asarray(delay_fs, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(t > 0, 1.0 / (2 * t * NM2_PER_FS_PER_CM2_S), np.nan))


@dataclass(frozen=True)
class TransportColumns:
    """MSD and D of each point with the point's own error (σ₀'s error is not included)."""

    msd_nm2: FloatArray
    msd_err_nm2: FloatArray
    diffusivity_cm2_s: FloatArray
    diffusivity_err_cm2_s: FloatArray


def msd_from_sigma(
    delay_fs: npt.ArrayLike,
    sigma_nm: npt.ArrayLike,
    sigma_err_nm: npt.ArrayLike,
    sigma0: Sigma0,
) -> TransportColumns:
    """MSD = σ² − σ₀² and D = MSD/2t (cm²/s; NaN for t ≤ 0), the one place they are computed.

    The errors are each point's own, 2σ·δσ (and /2t): σ₀'s error is common to every point of
    a series — it shifts all MSDs together by 2σ₀·δσ₀ — so it is kept apart (``Sigma0.err_nm``,
    the file's ``sigma0_err_nm``), and an analysis treats it as the correlated error it is
    instead of adding it to each point as if independent.
    """
    t = np.asarray(delay_fs, dtype=float)
    s = np.asarray(sigma_nm, dtype=float)
    e = np.asarray(sigma_err_nm, dtype=float)
    msd = s**2 - sigma0.value_nm**2
    msd_err = 2 * np.abs(s) * e
    scale = per_2t_cm2_s(t)
    return TransportColumns(
        np.asarray(msd, dtype=float),
        np.asarray(msd_err, dtype=float),
        np.asarray(msd * scale, dtype=float),
        np.asarray(msd_err * scale, dtype=float),
    )
