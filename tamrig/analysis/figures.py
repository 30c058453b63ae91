"""Figures of a transport analysis as PNG files (matplotlib, Agg backend: no display needed).

Per probe wavelength: MSD vs t (log-log, regimes shaded, fits drawn), D(t) around the
super-diffusive peak, and L(t) = √MSD; each with one curve per fluence. One figure per
sample and fluence set, named so a report folder reads in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tamrig.analysis.summary import AnalysisSettings, ScanAnalysis, SeriesAnalysis


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "scan"


def write_figures(
    scan: ScanAnalysis,
    folder: str | Path,
    *,
    sample: str = "scan",
    settings: AnalysisSettings | None = None,
) -> list[Path]:
    """Write the report figures into ``folder`` (created); returns the files written."""
    cfg = settings or AnalysisSettings()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    by_probe: dict[float, list[SeriesAnalysis]] = {}
    for a in scan.series:
        by_probe.setdefault(a.series.probe_wavelength_nm, []).append(a)
    written = []
    for probe, group in by_probe.items():
        tag = _slug(f"{sample}_{probe:g}nm" if np.isfinite(probe) else sample)
        title = f"{sample} — probe {probe:g} nm" if np.isfinite(probe) else sample
        written.append(_msd_figure(group, out / f"{tag}_msd.png", title, cfg))
        written.append(_diffusivity_figure(group, out / f"{tag}_diffusivity.png", title, cfg))
        written.append(_length_figure(group, out / f"{tag}_length.png", title, cfg))
    return written


def _colors(n: int) -> Sequence[tuple[float, float, float, float]]:
    plt = _pyplot()
    cmap = plt.get_cmap("viridis")
    return [cmap(x) for x in np.linspace(0.0, 0.85, max(n, 1))]


def _points(ax: Any, x: Any, y: Any, err: Any, color: Any, label: str) -> None:
    """Measured points with error bars, in the one style every figure uses."""
    ax.errorbar(x, y, yerr=err, fmt="o", ms=3, color=color, elinewidth=0.6, label=label)


def _save(fig: Any, ax: Any, path: Path, ylabel: str, title: str) -> Path:
    """Label a delay-axis figure, write it to ``path`` and release it."""
    ax.set_xlabel("delay t (fs)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    _pyplot().close(fig)
    return path


#: A log-delay axis cannot place points a few fs from time zero (within t₀'s own error):
#: MSD and L figures start here.
MIN_LOG_DELAY_FS = 10.0

#: Delays inside the instrument response carry no diffusivity: MSD/2t there divides the
#: noise of a near-zero MSD by a near-zero t and would set the whole figure's scale.
MIN_D_DELAY_FS = 25.0


def _d_points(a: SeriesAnalysis, upto_fs: float) -> tuple[Any, Any, Any]:
    """Delays, D and its error of the points a D(t) figure draws: from one IRF FWHM after
    time zero (at least ``MIN_D_DELAY_FS``) up to ``upto_fs``."""
    s = a.series
    d, d_err = s.diffusivity()
    tz = a.time_zero
    start = max(MIN_D_DELAY_FS, tz.irf_fwhm_fs if tz is not None and tz.ok else 0.0)
    keep = (s.delay_fs >= start) & (s.delay_fs <= upto_fs) & np.isfinite(d)
    return s.delay_fs[keep], d[keep], d_err[keep]


def _d_range(ax: Any, points: list[Any], curves: list[Any]) -> None:
    """A y-range that shows the D(t) curves: from the smoothed curves and the bulk of the
    points (90th percentile), never from error bars or a single wild point, which would
    flatten everything else."""
    top, bottom = 0.0, 0.0
    for values, q in ((points, 90.0), (curves, 100.0)):
        flat = np.concatenate([np.asarray(v, float).ravel() for v in values]) if values else None
        if flat is None:
            continue
        flat = flat[np.isfinite(flat)]
        if flat.size:
            top = max(top, float(np.percentile(flat, q)))
            bottom = min(bottom, float(np.percentile(flat, 100.0 - q)))
    if top > bottom:
        pad = 0.2 * (top - bottom)
        ax.set_ylim(bottom - (pad if bottom < 0 else 0.0), top + pad)


def _msd_figure(group: list[SeriesAnalysis], path: Path, title: str, cfg: AnalysisSettings) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    regimes: list[tuple[float, float | None, str, str]] = [
        (*cfg.early_fit_fs, "super-diffusive", "#f4c2c2"),
        (*cfg.auger_fs, "Auger-assisted", "#c2d7f4"),
        (cfg.hopping_min_fs, None, "hopping", "#c9f4c2"),
    ]
    t_all = np.concatenate([a.series.delay_fs for a in group])
    t_max = float(np.max(t_all)) if t_all.size else 1e6
    for lo, hi, name, shade in regimes:
        ax.axvspan(lo, hi if hi is not None else t_max * 1.2, color=shade, alpha=0.4, lw=0)
        ax.text(lo * 1.1, 0.97, name, transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    for a, color in zip(group, _colors(len(group)), strict=True):
        s = a.series
        pos = (s.delay_fs >= MIN_LOG_DELAY_FS) & (s.msd_nm2 > 0)
        _points(ax, s.delay_fs[pos], s.msd_nm2[pos], s.msd_err_nm2[pos], color, s.label)
        for fit in (a.early_power_law,):
            if fit.ok:
                tt = np.geomspace(fit.t_min_fs, fit.t_max_fs, 50)
                # with the shift the fit attributes to σ₀'s error, as the points carry it
                curve = fit.prefactor_nm2 * tt**fit.alpha + fit.common_shift_nm2
                ax.plot(
                    tt,
                    np.where(curve > 0, curve, np.nan),
                    "--",
                    color=color,
                    lw=1,
                    label=f"α = {fit.alpha:.2f} ± {fit.alpha_total_err:.2f}",
                )
        if a.hopping.ok:
            tt = np.geomspace(a.hopping.t_min_fs, a.hopping.t_max_fs, 30)
            d_nm2_fs = a.hopping.d_hop_cm2_s * 0.1
            ax.plot(tt, a.hopping.intercept_nm2 + 2 * d_nm2_fs * tt, ":", color=color, lw=1.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, ax, path, "MSD = σ² − σ₀² (nm²)", f"{title}: mean squared displacement")


def _diffusivity_figure(
    group: list[SeriesAnalysis], path: Path, title: str, cfg: AnalysisSettings
) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    lo, hi = cfg.peak.window_fs
    shown: list[Any] = []
    curves: list[Any] = []
    for a, color in zip(group, _colors(len(group)), strict=True):
        s = a.series
        t, d, d_err = _d_points(a, 1.5 * hi)
        _points(ax, t, d, d_err, color, s.label)
        shown.append(d)
        curves.append(a.peak.d_smooth_cm2_s)
        pk = a.peak
        if pk.t_grid_fs.size:
            ax.plot(pk.t_grid_fs, pk.d_smooth_cm2_s, "-", color=color, lw=1)
            ax.fill_between(
                pk.t_grid_fs,
                pk.d_smooth_cm2_s - pk.d_smooth_err_cm2_s,
                pk.d_smooth_cm2_s + pk.d_smooth_err_cm2_s,
                color=color,
                alpha=0.2,
            )
        if pk.status != "none":
            what = "peak" if pk.found else "unresolved peak"
            ax.errorbar(
                [pk.t_peak_fs],
                [pk.d_peak_cm2_s],
                xerr=[pk.t_peak_err_fs],
                yerr=[pk.d_peak_err_cm2_s],
                fmt="*",
                ms=12,
                color=color,
                label=f"{what} {pk.d_peak_cm2_s:.0f} cm²/s at {pk.t_peak_fs:.0f} fs",
            )
        else:
            ax.plot([], [], " ", label="no super-diffusive regime")
    ax.axvspan(lo, hi, color="0.9", zorder=0)
    ax.set_xlim(0, 1.5 * hi)
    _d_range(ax, shown, curves)
    ax.legend(fontsize=7)
    return _save(fig, ax, path, "D(t) = MSD / 2t (cm²/s)", f"{title}: apparent diffusivity")


def _length_figure(
    group: list[SeriesAnalysis], path: Path, title: str, cfg: AnalysisSettings
) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    for a, color in zip(group, _colors(len(group)), strict=True):
        s = a.series
        pos = (s.delay_fs >= MIN_LOG_DELAY_FS) & (s.msd_nm2 > 0)
        length = np.sqrt(s.msd_nm2[pos])
        err = s.msd_total_err_nm2()[pos] / (2 * length)
        _points(ax, s.delay_fs[pos], length, err, color, s.label)
        if a.peak.status != "none":
            ax.errorbar(
                [a.peak.t_peak_fs],
                [a.peak.length_nm],
                yerr=[a.peak.length_err_nm],
                fmt="*",
                ms=12,
                color=color,
                label=f"L = {a.peak.length_nm:.0f} nm ({a.peak.n_dots:.0f} dots)",
            )
    ax.set_xscale("log")
    ax.legend(fontsize=7)
    return _save(fig, ax, path, "L(t) = √MSD (nm)", f"{title}: transport length")


def write_comparison(
    samples: list[tuple[str, ScanAnalysis]],
    folder: str | Path,
    settings: AnalysisSettings | None = None,
) -> list[Path]:
    """Samples side by side: MSD(t) and D(t) of each sample's lowest-fluence series."""
    cfg = settings or AnalysisSettings()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    chosen = []
    for name, scan in samples:
        if not scan.series:
            continue
        low = min(scan.series, key=lambda a: (a.series.n_abs, a.label))
        chosen.append((name, low))
    plt = _pyplot()
    fig, (ax_msd, ax_d) = plt.subplots(1, 2, figsize=(12, 5), dpi=110)
    shown: list[Any] = []
    curves: list[Any] = []
    for (name, a), color in zip(chosen, _colors(len(chosen)), strict=True):
        s = a.series
        pos = (s.delay_fs >= MIN_LOG_DELAY_FS) & (s.msd_nm2 > 0)
        _points(
            ax_msd, s.delay_fs[pos], s.msd_nm2[pos], s.msd_err_nm2[pos], color, f"{name}: {s.label}"
        )
        t, d, d_err = _d_points(a, cfg.peak.window_fs[1] * 1.5)
        _points(ax_d, t, d, d_err, color, f"{name}: {a.peak.verdict}")
        shown.append(d)
        curves.append(a.peak.d_smooth_cm2_s)
        if a.peak.t_grid_fs.size:
            ax_d.plot(a.peak.t_grid_fs, a.peak.d_smooth_cm2_s, "-", color=color, lw=1)
    ax_msd.set_xscale("log")
    ax_msd.set_yscale("log")
    ax_msd.set_xlabel("delay t (fs)")
    ax_msd.set_ylabel("MSD (nm²)")
    ax_msd.legend(fontsize=7)
    ax_d.set_xlim(0, cfg.peak.window_fs[1] * 1.5)
    _d_range(ax_d, shown, curves)
    ax_d.set_xlabel("delay t (fs)")
    ax_d.set_ylabel("D(t) (cm²/s)")
    ax_d.legend(fontsize=7)
    fig.suptitle("samples compared (lowest fluence)")
    fig.tight_layout()
    path = out / "samples_compared.png"
    fig.savefig(path)
    plt.close(fig)
    return [path]
