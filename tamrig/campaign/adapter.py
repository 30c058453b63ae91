"""The single place the campaign calls the per-scan analysis.

Everything else in the campaign works on the rows and curves built from its result, so a
change of the analysis entry point is a change of this module only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tamrig.analysis import AnalysisSettings, ScanAnalysis, analyse_points
from tamrig.analysis.peak import PeakSettings


@dataclass(frozen=True)
class CampaignSettings:
    """The analysis choices of a campaign (what ``tamrig analyze`` offers, same defaults).

    ``temperature_k`` None: each file's rig temperature, else 300 K. Part of the cache key:
    change one and every series is analysed again.
    """

    #: instrument response (FWHM, fs) where the signal's rise does not measure it; None:
    #: each file's rig setting, else 40 fs
    irf_fwhm_fs: float | None = None
    dot_pitch_nm: float = 3.0
    temperature_k: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CampaignSettings:
        temperature = data.get("temperature_k")
        irf = data.get("irf_fwhm_fs")
        return cls(
            irf_fwhm_fs=None if irf is None else float(irf),
            dot_pitch_nm=float(data.get("dot_pitch_nm", 3.0)),
            temperature_k=None if temperature is None else float(temperature),
        )

    def analysis_settings(
        self, rig_temperature_k: float | None, rig_irf_fwhm_fs: float | None = None
    ) -> AnalysisSettings:
        """The per-scan analysis settings, built exactly as ``tamrig analyze`` builds them."""
        temperature = self.temperature_k or rig_temperature_k or 300.0
        return AnalysisSettings(
            irf_fwhm_fs=self.irf_fwhm_fs or rig_irf_fwhm_fs or 40.0,
            peak=PeakSettings(dot_pitch_nm=self.dot_pitch_nm, temperature_k=temperature),
        )


def analyse(
    points: Mapping[str, npt.ArrayLike], settings: AnalysisSettings | None = None
) -> ScanAnalysis:
    """Analyse the per-point columns of one series (the public per-scan entry point)."""
    return analyse_points(usable_points(points), settings)


def usable_points(points: Mapping[str, npt.ArrayLike]) -> dict[str, np.ndarray]:
    """Points with a converged fit and a finite width (as ``tamrig analyze`` keeps them)."""
    arrays = {k: np.asarray(v) for k, v in points.items()}
    n = len(arrays.get("delay_fs", []))
    keep = np.ones(n, dtype=bool)
    for flag in ("has_fit", "converged"):
        if flag in arrays:
            keep &= arrays[flag].astype(bool)
    for key in ("sigma_nm", "sigma_err_nm"):
        if key in arrays:
            keep &= np.isfinite(arrays[key].astype(float))
    return {k: v[keep] for k, v in arrays.items() if v.ndim == 1 and len(v) == n}


def rig_temperature(rig: Mapping[str, Any]) -> float | None:
    """``[rig] temperature_k`` of a stored rig file, if it has one."""
    for section in (rig.get("rig", {}), rig):
        value = section.get("temperature_k") if isinstance(section, Mapping) else None
        if isinstance(value, int | float) and math.isfinite(value) and value > 0:
            return float(value)
    return None


def rig_irf(rig: Mapping[str, Any]) -> float | None:
    """``[rig] irf_fwhm_fs`` of a stored rig file (fs), if it states one."""
    for section in (rig.get("rig", {}), rig):
        value = section.get("irf_fwhm_fs") if isinstance(section, Mapping) else None
        if isinstance(value, int | float) and math.isfinite(value) and value > 0:
            return float(value)
    return None
