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
from tamrig.analysis.timezero import TimeZeroFit, fit_time_zero, population_signal
from tamrig.analysis.transport_model import ModelSettings

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AnalysisSettings:
    """Every choice the analysis makes (times in fs); defaults fit the default delay grid."""

    #: instrument response (FWHM) used when the rise of the signal does not resolve it
    irf_fwhm_fs: float = 40.0
    model: ModelSettings = field(default_factory=ModelSettings)
    peak: PeakSettings = field(default_factory=PeakSettings)
    early_fit_fs: tuple[float, float] = (20.0, 250.0)  # power law of the super-diffusive rise
    auger_fs: tuple[float, float] = (1_000.0, 100_000.0)
    hopping_min_fs: float = 150_000.0
    time_zero_range_fs: tuple[float, float] = (-400.0, 400.0)  # delays for the rise fit
    d_hop_tolerance: float = 0.15  # D_hop "the same at every fluence" within this fraction
    #: points whose spot amplitude is below min_snr × its error carry no width information
    #: (before time zero there is no spot; a fit there finds noise): not significant
    min_snr: float = 5.0


@dataclass(frozen=True)
class Estimate:
    """A number with its standard error (NaN when not determined)."""

    value: float
    err: float

    @property
    def ok(self) -> bool:
        return math.isfinite(self.value) and math.isfinite(self.err)


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
    #: exponent α of the super-diffusive rise, fitted with σ₀ in the σ(τ) model (the
    #: power law over early_fit_fs when the model has no super-diffusive term)
    alpha: Estimate = field(default_factory=lambda: Estimate(math.nan, math.nan))
    n_points: int = 0  # points of the series in the file
    n_significant: int = 0  # of which carry a significant spot (the rest are not data)

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
    """Every regime of one series whose σ₀ (and σ(τ) model) is already fitted."""
    cfg = settings or AnalysisSettings()
    hop = hopping_diffusivity(series, cfg.hopping_min_fs)
    early = fit_power_law(series, *cfg.early_fit_fs)
    model = series.model
    if model is not None and model.ok and model.kind == "superdiffusive":
        alpha = Estimate(model.value("alpha"), model.error("alpha"))
    elif early.ok:
        alpha = Estimate(early.alpha, early.alpha_total_err)
    else:
        alpha = Estimate(math.nan, math.nan)
    return SeriesAnalysis(
        series=series,
        peak=superdiffusive_peak(series, cfg.peak),
        early_power_law=early,
        auger_power_law=fit_power_law(series, *cfg.auger_fs),
        local_exponent=local_exponent(series),
        auger=auger_regime(series, *cfg.auger_fs, hopping=hop),
        hopping=hop,
        alpha=alpha,
    )


def series_label(probe_nm: float, fluence_label: str, n_abs: float) -> str:
    name = fluence_label or (f"N={n_abs:.3g}" if math.isfinite(n_abs) else "?")
    return f"{probe_nm:g} nm / {name}" if math.isfinite(probe_nm) else name


def significant_spots(
    amplitude: npt.ArrayLike, amplitude_err: npt.ArrayLike, min_snr: float
) -> npt.NDArray[np.bool_]:
    """Points whose fitted spot stands out of the noise: |A| ≥ min_snr·δA.

    Before time zero (or at a probe wavelength without signal) a Gaussian fit still finds
    the largest noise feature and reports a 'width'; such points are not data.
    """
    a = np.asarray(amplitude, dtype=float)
    e = np.asarray(amplitude_err, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(a) & np.isfinite(e) & (e > 0) & (np.abs(a) >= min_snr * e))


def analyse_points(
    points: Mapping[str, npt.ArrayLike], settings: AnalysisSettings | None = None
) -> ScanAnalysis:
    """Analyse the per-point columns of a scan (see ScanFile.points()), grouped into series.

    Needs ``delay_fs``, ``sigma_nm`` and ``sigma_err_nm``; uses ``delay_fs_measured`` when
    present and finite, groups by ``probe_wavelength_nm`` and ``fluence_label`` (or
    ``n_abs``) when present. With ``amplitude``/``amplitude_err`` it fits time zero and the
    instrument response to the rise of the signal, measures every delay from that time zero
    (the file keeps the stage's delays) and uses only significant spots (a ``significant``
    column, when present, must agree too). σ₀ and the transport come from the σ(τ) model
    of each series; repeated sweeps are merged.
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
    amplitude: FloatArray | None = None
    amplitude_err = np.full(n, np.nan)
    significant = np.isfinite(sigma) & np.isfinite(sigma_err) & (sigma_err > 0)
    if "amplitude" in points and "amplitude_err" in points:
        amplitude = np.asarray(points["amplitude"], dtype=float)
        amplitude_err = np.asarray(points["amplitude_err"], dtype=float)
        significant &= significant_spots(amplitude, amplitude_err, cfg.min_snr)
        if "significant" in points:
            significant &= np.asarray(points["significant"]).astype(bool)
    elif "significant" in points:
        significant &= np.asarray(points["significant"]).astype(bool)
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
        tz = None
        t0, irf, t0_err, irf_err = 0.0, cfg.irf_fwhm_fs, 0.0, 0.0
        if amplitude is not None:
            pop, pop_err = population_signal(
                amplitude[idx], amplitude_err[idx], sigma[idx], sigma_err[idx], significant[idx]
            )
            ok_pop = np.isfinite(pop) & np.isfinite(pop_err)
            tz = fit_time_zero(
                delay[idx][ok_pop], pop[ok_pop], pop_err[ok_pop], t_range_fs=cfg.time_zero_range_fs
            )
            if tz.ok:
                t0, irf = tz.t0_fs, tz.irf_fwhm_fs
                t0_err, irf_err = tz.t0_err_fs, tz.irf_fwhm_err_fs
        tau = delay[idx] - t0
        use = significant[idx]
        try:
            series = series_from_sigma(
                tau[use],
                sigma[idx][use],
                sigma_err[idx][use],
                label=label,
                irf_fwhm_fs=irf,
                irf_err_fs=irf_err,
                t0_err_fs=t0_err,
                model=cfg.model,
                n_abs=na,
                probe_wavelength_nm=p,
            )
        except ValueError as exc:
            skipped[label] = str(exc)
            continue
        result = dataclasses.replace(
            analyse_series(series, cfg),
            time_zero=tz,
            n_points=int(idx.size),
            n_significant=int(use.sum()),
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
