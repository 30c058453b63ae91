"""Whole-curve and whole-scan analysis: every regime of every series, and the fluence trends.

Plain arrays in (the per-point columns a data file holds), dataclasses out, so the same code
serves ``tamrig analyze``, notebooks and tests.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tamrig.analysis.peak import PeakSettings, SuperDiffusivePeak, superdiffusive_peak
from tamrig.analysis.powerlaw import LocalExponent, PowerLawFit, fit_power_law, local_exponent
from tamrig.analysis.regimes import (
    AugerRegime,
    FluenceDependence,
    HoppingRegime,
    auger_regime,
    fluence_dependence,
    hopping_diffusivity,
)
from tamrig.analysis.series import TransportSeries, series_from_sigma
from tamrig.analysis.timezero import TimeZeroFit, fit_time_zero

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AnalysisSettings:
    """Every choice the analysis makes (times in fs); defaults fit the default delay grid."""

    sigma0_window_fs: tuple[float, float] = (-60.0, 60.0)
    sigma0_method: str = "mean"  # or "intercept" (see tamrig.analysis.sigma0)
    peak: PeakSettings = field(default_factory=PeakSettings)
    early_fit_fs: tuple[float, float] = (20.0, 250.0)  # power law of the super-diffusive rise
    auger_fs: tuple[float, float] = (1_000.0, 100_000.0)
    hopping_min_fs: float = 150_000.0
    time_zero_range_fs: tuple[float, float] = (-400.0, 400.0)  # delays for the rise fit
    d_hop_tolerance: float = 0.15  # D_hop "the same at every fluence" within this fraction
    #: points whose spot amplitude is below min_snr × its error carry no width information
    #: (before time zero there is no spot; a fit there finds noise) and are left out
    min_snr: float = 5.0


@dataclass(frozen=True)
class SeriesAnalysis:
    series: TransportSeries
    peak: SuperDiffusivePeak
    early_power_law: PowerLawFit
    auger_power_law: PowerLawFit
    local_exponent: LocalExponent
    auger: AugerRegime
    hopping: HoppingRegime
    time_zero: TimeZeroFit | None = None  # from the signal rise, when amplitudes are known

    @property
    def label(self) -> str:
        return self.series.label


@dataclass(frozen=True)
class ScanAnalysis:
    series: list[SeriesAnalysis]
    fluence: dict[float, FluenceDependence]  # per probe wavelength (nm)
    skipped: dict[str, str] = field(default_factory=dict)  # series label -> reason


def analyse_series(
    series: TransportSeries, settings: AnalysisSettings | None = None
) -> SeriesAnalysis:
    cfg = settings or AnalysisSettings()
    peak = superdiffusive_peak(series, cfg.peak)
    if math.isfinite(peak.sigma0_correction_nm2):
        # The model fit of the whole early curve pins σ₀ better than the mean over the
        # window (which spreading inside the window biases upwards): adopt it, so that every
        # regime below and the plotted D(t) use the same σ₀; the refit then finds c ≈ 0.
        series = series.with_sigma0_correction(
            peak.sigma0_correction_nm2, peak.sigma0_correction_err_nm2
        )
        refit = superdiffusive_peak(series, cfg.peak)
        if refit.found and refit.method == "model":
            peak = dataclasses.replace(
                refit,
                sigma0_correction_nm2=peak.sigma0_correction_nm2,
                sigma0_correction_err_nm2=peak.sigma0_correction_err_nm2,
            )
        else:  # keep the model's numbers, show the model-free curve of the corrected data
            peak = dataclasses.replace(
                peak,
                t_grid_fs=refit.t_grid_fs,
                d_smooth_cm2_s=refit.d_smooth_cm2_s,
                d_smooth_err_cm2_s=refit.d_smooth_err_cm2_s,
            )
    hop = hopping_diffusivity(series, cfg.hopping_min_fs)
    return SeriesAnalysis(
        series=series,
        peak=peak,
        early_power_law=fit_power_law(series, *cfg.early_fit_fs),
        auger_power_law=fit_power_law(series, *cfg.auger_fs),
        local_exponent=local_exponent(series),
        auger=auger_regime(series, *cfg.auger_fs, hopping=hop),
        hopping=hop,
    )


def series_label(probe_nm: float, fluence_label: str, n_abs: float) -> str:
    name = fluence_label or (f"N={n_abs:.3g}" if math.isfinite(n_abs) else "?")
    return f"{probe_nm:g} nm / {name}" if math.isfinite(probe_nm) else name


def analyse_points(
    points: Mapping[str, npt.ArrayLike], settings: AnalysisSettings | None = None
) -> ScanAnalysis:
    """Analyse the per-point columns of a scan (see ScanFile.points()), grouped into series.

    Needs ``delay_fs``, ``sigma_nm`` and ``sigma_err_nm``; uses ``delay_fs_measured`` when
    present and finite, groups by ``probe_wavelength_nm`` and ``fluence_label`` (or
    ``n_abs``) when present, and with ``amplitude``/``amplitude_err`` drops points without a
    significant spot. σ and MSD are recomputed from the widths so repeated sweeps are merged
    and σ₀ uses all of them.
    """
    cfg = settings or AnalysisSettings()
    for key in ("delay_fs", "sigma_nm", "sigma_err_nm"):
        if key not in points:
            raise ValueError(f"points: column {key!r} missing (have {sorted(points)})")
    delay = np.asarray(points["delay_fs"], dtype=float)
    n = delay.size
    if "delay_fs_measured" in points:
        measured = np.asarray(points["delay_fs_measured"], dtype=float)
        delay = np.where(np.isfinite(measured), measured, delay)
    sigma = np.asarray(points["sigma_nm"], dtype=float)
    sigma_err = np.asarray(points["sigma_err_nm"], dtype=float)
    population: FloatArray | None = None
    population_err = np.full(n, np.nan)
    if "amplitude" in points and "amplitude_err" in points:
        amplitude = np.asarray(points["amplitude"], dtype=float)
        amplitude_err = np.asarray(points["amplitude_err"], dtype=float)
        # Signal integral A·σ² (∝ carrier population; the peak A alone also falls as the
        # spot spreads) for the time-zero fit; σ in units of 100 nm only sets the scale.
        s2 = (sigma / 100.0) ** 2
        population = amplitude * s2
        population_err = np.hypot(amplitude_err * s2, 2 * amplitude * s2 * sigma_err / sigma)
        with np.errstate(invalid="ignore"):
            weak = ~(np.abs(amplitude) >= cfg.min_snr * amplitude_err)
        sigma = np.where(weak, np.nan, sigma)  # dropped by the series builder
    probe = _column(points, "probe_wavelength_nm", n, float("nan"))
    n_abs = _column(points, "n_abs", n, float("nan"))
    if "fluence_label" in points:
        flabel = np.array([_text(v) for v in np.asarray(points["fluence_label"]).ravel()])
    else:
        flabel = np.array([f"N={v:.3g}" if math.isfinite(v) else "" for v in n_abs])
    keys: dict[tuple[float, str], list[int]] = {}
    for i in range(n):
        p = float(probe[i])
        keys.setdefault((round(p, 3) if math.isfinite(p) else math.nan, str(flabel[i])), []).append(
            i
        )
    analysed: list[SeriesAnalysis] = []
    skipped: dict[str, str] = {}
    for (p, fl), idx_list in keys.items():
        idx = np.array(idx_list)
        na = float(np.nanmedian(n_abs[idx])) if np.isfinite(n_abs[idx]).any() else math.nan
        label = series_label(p, fl, na)
        try:
            series = series_from_sigma(
                delay[idx],
                sigma[idx],
                sigma_err[idx],
                label=label,
                sigma0_window_fs=cfg.sigma0_window_fs,
                sigma0_method=cfg.sigma0_method,
                n_abs=na,
                probe_wavelength_nm=p,
            )
        except ValueError as exc:
            skipped[label] = str(exc)
            continue
        result = analyse_series(series, cfg)
        if population is not None:
            result = dataclasses.replace(
                result,
                time_zero=fit_time_zero(
                    delay[idx],
                    population[idx],
                    population_err[idx],
                    t_range_fs=cfg.time_zero_range_fs,
                ),
            )
        analysed.append(result)
    analysed.sort(key=lambda a: (a.series.probe_wavelength_nm, a.series.n_abs, a.label))
    return ScanAnalysis(analysed, fluence_trends(analysed, cfg), skipped)


def fluence_trends(
    analysed: list[SeriesAnalysis], settings: AnalysisSettings | None = None
) -> dict[float, FluenceDependence]:
    """Per probe wavelength with at least two fluences: Auger ordering and D_hop agreement."""
    cfg = settings or AnalysisSettings()
    by_probe: dict[float, list[SeriesAnalysis]] = {}
    for a in analysed:
        if math.isfinite(a.series.n_abs):
            by_probe.setdefault(a.series.probe_wavelength_nm, []).append(a)
    out = {}
    for probe, group in by_probe.items():
        if len(group) < 2:
            continue
        out[probe] = fluence_dependence(
            [a.series.n_abs for a in group],
            [a.auger for a in group],
            [a.hopping for a in group],
            cfg.d_hop_tolerance,
        )
    return out


def _column(points: Mapping[str, npt.ArrayLike], key: str, n: int, fill: float) -> FloatArray:
    if key not in points:
        return np.full(n, fill)
    return np.asarray(points[key], dtype=float)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
