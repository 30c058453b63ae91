"""Data records passed between acquisition, live monitor, engine, storage and front ends.

Plain dataclasses of numbers and arrays (no devices, no Qt, no h5py) so every layer can
produce or consume them and tests can build them by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float64]


@dataclass
class DifferentialImage:
    """ΔT/T of one scan point with per-pixel standard errors and the means it came from.

    ``on_mean`` / ``off_mean`` are dark-subtracted, probe-normalised mean counts of the
    pump-on / pump-off frames; ``dark_mean`` the dark frame used.
    """

    dtt: FloatImage
    dtt_err: FloatImage
    on_mean: FloatImage
    off_mean: FloatImage
    on_err: FloatImage
    off_err: FloatImage
    n_on: int
    n_off: int
    dark_mean: FloatImage | None = None
    dark_err: FloatImage | None = None
    dropped_frames: int = 0


@dataclass(frozen=True)
class GaussianFit:
    """Result of :func:`tamrig.analysis.fit_gaussian` (its contract: docs/architecture.md).

    Positions from the image's pixel-0 corner (image indexed [y, x]); for an anisotropic fit
    ``sigma_nm`` is the geometric mean √(σx σy) and ``sigma_x_nm``/``sigma_y_nm`` are set.
    """

    sigma_nm: float
    sigma_err_nm: float
    x0_nm: float
    y0_nm: float
    amplitude: float
    offset: float
    amplitude_err: float = float("nan")
    x0_err_nm: float = float("nan")
    y0_err_nm: float = float("nan")
    offset_err: float = float("nan")
    sigma_x_nm: float | None = None
    sigma_y_nm: float | None = None
    reduced_chi2: float = float("nan")
    converged: bool = True
    message: str = ""


@dataclass(frozen=True)
class TransportPoint:
    """Live transport numbers of one point: σ², MSD = σ² − σ₀², D = MSD / 2t.

    MSD and D errors are the point's own; σ₀'s error, common to the whole series, is
    ``sigma0_err_nm``. σ₀, MSD and D are NaN until the series has a σ₀. ``significant`` is
    False for a point whose spot does not stand out of the noise or that lies before the
    rise of the signal: its width is no measurement.
    """

    delay_fs: float
    sigma_nm: float
    sigma_err_nm: float
    sigma0_nm: float
    sigma0_err_nm: float
    msd_nm2: float
    msd_err_nm2: float
    diffusivity_cm2_s: float
    diffusivity_err_cm2_s: float
    significant: bool = True


@dataclass
class PointRecord:
    """Everything measured at one scan point, as handed from the engine to storage and UIs.

    ``index`` is the point's position in the plan's flattened order (0-based, unique);
    ``grid`` its coordinates (sweep, wavelength index, fluence index, delay index).
    Fluences are always in fixed units whatever unit the plan used: ``fluence_uj_cm2`` the
    target peak pump fluence in µJ/cm², ``n_abs`` the target ⟨N_abs⟩, ``attenuator_setting``
    the attenuator's read-back; the ``*_measured`` values come from the point's power-meter
    reading through the fluence calibration. NaN means unknown (e.g. no calibration).
    ``series`` names the live-monitor curve the point belongs to; ``reference`` marks the
    delay re-measured at the start of every sweep (photodamage and drift check).
    """

    index: int
    grid: tuple[int, int, int, int]
    delay_fs: float
    delay_fs_measured: float
    fluence_label: str
    fluence_uj_cm2: float
    n_abs: float
    attenuator_setting: float
    probe_wavelength_nm: float
    image: DifferentialImage
    fit: GaussianFit | None = None
    transport: TransportPoint | None = None
    power_w: float | None = None
    power_time: float = math.nan  # epoch s at the middle of the power reading (NaN: none)
    positions: dict[str, float] = field(default_factory=dict)
    timestamp: float = 0.0
    series: str = ""
    reference: bool = False
    fluence_measured_uj_cm2: float = math.nan
    n_abs_measured: float = math.nan
