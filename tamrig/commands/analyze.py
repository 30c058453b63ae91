"""``tamrig analyze FILE.h5 [FILE.h5 ...] [--report DIR]``: transport analysis of scan files.

Prints one table row per series (probe wavelength × fluence) — σ₀, the super-diffusive peak
of D(t) with its time, length, number of dots and Einstein mobility, the early power law,
the Auger-assisted growth and the hopping diffusivity — and the fluence trends. With
``--report`` it also writes the figures (PNG) and a JSON summary. Several files (e.g. one
per sample) are analysed alike and compared in extra figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from tamrig.analysis.summary import AnalysisSettings
from tamrig.errors import EXIT_OK, InputError

#: Drift rates per hour are printed only when the reference points span this long.
MIN_SPAN_FOR_HOURLY_S = 300.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE.h5",
        help="scan data file (finished or running); several files (samples) are compared",
    )
    parser.add_argument("--report", metavar="DIR", help="write figures and summary.json here")
    parser.add_argument(
        "--dot-pitch-nm",
        type=float,
        default=3.0,
        help="centre-to-centre dot distance for 'number of dots' (default 3.0 nm)",
    )
    parser.add_argument(
        "--temperature-k",
        type=float,
        default=None,
        help="temperature for the Einstein mobility (default: the rig file's, else 300 K)",
    )
    parser.add_argument(
        "--irf-fwhm",
        type=float,
        default=None,
        metavar="FS",
        help="instrument response FWHM (fs) where the rise of the signal does not measure it "
        "(default: the rig file's, else 40)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from tamrig.analysis.drift import drift_from_points
    from tamrig.analysis.fluence_trend import fluence_by_series, peak_fluence_trends
    from tamrig.analysis.peak import PeakSettings
    from tamrig.analysis.summary import analyse_points
    from tamrig.storage import open_scan
    from tamrig.storage.soundness import check_readable_scan

    paths = [Path(f) for f in args.files]
    for path in paths:  # every file checked read-only before any is analysed
        check_readable_scan(path)
    if not (math.isfinite(args.dot_pitch_nm) and args.dot_pitch_nm > 0):
        raise InputError(
            f"got {args.dot_pitch_nm}", field="--dot-pitch-nm", expected="a length > 0 in nm"
        )
    results: list[tuple[str, Any, AnalysisSettings, dict[str, Any]]] = []
    for path in paths:
        with open_scan(path) as scan:
            points = scan.points()
            plan = scan.plan or {}
            rig = scan.rig or {}
            metadata = scan.metadata or {}
            status = scan.status
        temperature = args.temperature_k or _rig_temperature(rig) or 300.0
        if not (math.isfinite(temperature) and temperature > 0):
            raise InputError(f"got {temperature}", field="--temperature-k", expected="T > 0 K")
        irf = args.irf_fwhm or _rig_irf(rig) or 40.0
        if not (math.isfinite(irf) and irf > 0):
            raise InputError(f"got {irf}", field="--irf-fwhm", expected="a duration > 0 in fs")
        settings = AnalysisSettings(
            irf_fwhm_fs=irf,
            peak=PeakSettings(dot_pitch_nm=args.dot_pitch_nm, temperature_k=temperature),
        )
        usable = _usable_points(points)
        if usable["delay_fs"].size == 0:
            raise InputError(
                "no fitted points to analyse", file=path, expected="points with a converged fit"
            )
        analysis = analyse_points(usable, settings)
        sample = _sample_name(metadata, rig, path)
        if any(sample == r[0] for r in results):
            sample = f"{sample} ({path.stem})"
        summary = _summary(analysis, sample, path, status, temperature, args.dot_pitch_nm)
        trends = peak_fluence_trends(analysis.series, fluence_by_series(usable))
        summary["peak_fluence_trend"] = {f"{k:g}": _plain(v) for k, v in trends.items()}
        drift = drift_from_points(points, _drift_limits(plan, path))
        summary["reference_drift"] = {k: _plain(v) for k, v in drift.items()}
        results.append((sample, analysis, settings, summary))
        if not args.json:
            _print_tables(analysis, sample, path, status)
            _print_peak_trends(trends)
            _print_drift(drift)
    combined: dict[str, Any] = (
        results[0][3] if len(results) == 1 else {"samples": [r[3] for r in results]}
    )
    if args.json:
        print(json.dumps(combined, indent=2, default=_jsonable))
    if args.report:
        from tamrig.analysis.figures import write_comparison, write_figures

        folder = Path(args.report)
        files = []
        for sample, analysis, settings, _ in results:
            files += write_figures(analysis, folder, sample=sample, settings=settings)
        if len(results) > 1:
            files += write_comparison([(r[0], r[1]) for r in results], folder, results[0][2])
        (folder / "summary.json").write_text(json.dumps(combined, indent=2, default=_jsonable))
        if not args.json:
            print(f"report: {len(files)} figures and summary.json in {folder}")
    return EXIT_OK


def _usable_points(points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Points with a converged fit and a finite width."""
    n = len(points.get("delay_fs", []))
    keep = np.ones(n, dtype=bool)
    for flag in ("has_fit", "converged"):
        if flag in points:
            keep &= np.asarray(points[flag]).astype(bool)
    for key in ("sigma_nm", "sigma_err_nm"):
        if key in points:
            keep &= np.isfinite(np.asarray(points[key], dtype=float))
    return {k: np.asarray(v)[keep] for k, v in points.items() if len(v) == n}


def _rig_temperature(rig: dict[str, Any]) -> float | None:
    for section in (rig.get("rig", {}), rig):
        value = section.get("temperature_k") if isinstance(section, dict) else None
        if isinstance(value, int | float):
            return float(value)
    return None


def _rig_irf(rig: dict[str, Any]) -> float | None:
    """The rig file's instrument response (FWHM, fs), if it states one."""
    for section in (rig.get("rig", {}), rig):
        value = section.get("irf_fwhm_fs") if isinstance(section, dict) else None
        if isinstance(value, int | float):
            return float(value)
    return None


def _sample_name(metadata: dict[str, Any], rig: dict[str, Any], path: Path) -> str:
    sample = metadata.get("sample")
    if isinstance(sample, dict):
        for key in ("name", "preset", "label"):
            if sample.get(key):
                return str(sample[key])
    sim = rig.get("simulation", {}) if isinstance(rig, dict) else {}
    preset = sim.get("sample", {}).get("preset") if isinstance(sim, dict) else None
    return str(preset) if preset else path.stem


def _fmt(value: float, err: float | None = None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if err is None or not math.isfinite(err):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ± {err:.{digits}f}"


def _time_zero_text(tz: Any) -> str:
    if tz is None or not tz.ok:
        return "not resolved"
    return f"{tz.t0_fs:+.1f} ± {tz.t0_err_fs:.1f} / {tz.irf_fwhm_fs:.0f} ± {tz.irf_fwhm_err_fs:.0f}"


def _print_tables(analysis: Any, sample: str, path: Path, status: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=240)
    table = Table(title=f"{sample}: transport ({path.name}, scan {status})")
    columns = (
        "series",
        "N_abs",
        "σ₀ (nm)",
        "peak D (cm²/s)",
        "t_peak (fs)",
        "L (nm)",
        "dots",
        "μ (cm²/Vs)",
        "α",
        "Auger ΔMSD (nm²)",
        "D_hop (cm²/s)",
        "t₀ / IRF (fs)",
        "regime",
    )
    for name in columns:
        table.add_column(name, overflow="fold")
    for a in analysis.series:
        pk, s0 = a.peak, a.series.sigma0
        shown = pk.status != "none"
        table.add_row(
            a.label,
            _fmt(a.series.n_abs, digits=3),
            _fmt(s0.value_nm, s0.err_nm),
            _fmt(pk.d_peak_cm2_s, pk.d_peak_err_cm2_s) if shown else "–",
            _fmt(pk.t_peak_fs, pk.t_peak_err_fs, 0) if shown else "–",
            _fmt(pk.length_nm, pk.length_err_nm) if shown else "–",
            _fmt(pk.n_dots, digits=0) if shown else "–",
            f"{pk.mobility_cm2_vs:.3g}" if shown else "–",
            _fmt(a.alpha.value, a.alpha.err, 2) if a.alpha.ok else "–",
            _fmt(a.auger.growth_nm2, a.auger.growth_err_nm2, 0) if a.auger.ok else "–",
            _fmt(a.hopping.d_hop_cm2_s, a.hopping.d_hop_err_cm2_s, 4) if a.hopping.ok else "–",
            _time_zero_text(a.time_zero),
            pk.verdict,
        )
    console.print(table)
    for a in analysis.series:
        left = a.n_points - a.n_significant
        if left:
            console.print(
                f"{a.label}: {left} of {a.n_points} points not significant (no spot above "
                "the noise, or before the rise): not used"
            )
    for label, reason in analysis.skipped.items():
        console.print(f"skipped {label}: {reason}")
    for probe, dep in analysis.fluence.items():
        trend = Table(title=f"fluence dependence, probe {probe:g} nm")
        for name in ("N_abs", "Auger ΔMSD (nm²)", "D_hop (cm²/s)"):
            trend.add_column(name)
        for i, n_abs in enumerate(dep.n_abs):
            trend.add_row(
                f"{n_abs:.3g}",
                _fmt(dep.auger_growth_nm2[i], dep.auger_growth_err_nm2[i], 0),
                _fmt(dep.d_hop_cm2_s[i], dep.d_hop_err_cm2_s[i], 4),
            )
        console.print(trend)
        n_growth = int(np.isfinite(dep.auger_growth_nm2).sum())
        n_hop = int(np.isfinite(dep.d_hop_cm2_s).sum())
        if n_growth >= 2:
            grows = "yes" if dep.growth_increases_with_n_abs else "no"
            console.print(
                f"  Auger growth increases with N_abs: {grows}"
                f" (growth ∝ N_abs^{dep.growth_exponent:.2f})"
            )
        else:
            console.print("  Auger growth vs N_abs: undetermined (fewer than two fluences)")
        if n_hop >= 2:
            same = (
                "the same at every fluence within the errors"
                if dep.d_hop_consistent
                else "NOT the same"
            )
            console.print(
                f"  D_hop = {dep.d_hop_mean_cm2_s:.4f} cm²/s, max deviation "
                f"{100 * dep.d_hop_max_deviation:.0f} % ({same})"
            )
        else:
            console.print("  D_hop vs N_abs: undetermined (fewer than two fluences)")


def _print_peak_trends(trends: dict[float, Any]) -> None:
    """Peak D per fluence and the slope of its straight-line trend, per probe wavelength."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=240)
    for probe, trend in trends.items():
        table = Table(title=f"super-diffusive peak vs fluence, probe {probe:g} nm")
        for name in ("N_abs", "F₀ (µJ/cm²)", "peak D (cm²/s)", "t_peak (fs)"):
            table.add_column(name)
        for i, n_abs in enumerate(trend.n_abs):
            table.add_row(
                f"{n_abs:.3g}",
                _fmt(trend.fluence_uj_cm2[i], digits=1),
                _fmt(trend.d_peak_cm2_s[i], trend.d_peak_err_cm2_s[i]),
                _fmt(trend.t_peak_fs[i], trend.t_peak_err_fs[i], 0),
            )
        console.print(table)
        line = trend.line
        if line is not None:
            chi2 = "" if math.isnan(line.reduced_chi2) else f", χ²/dof {line.reduced_chi2:.2f}"
            console.print(
                f"  dD_peak/dN_abs = {line.slope:.1f} ± {line.slope_err:.1f} cm²/s per N_abs "
                f"({line.n_points} fluences{chi2}): {trend.verdict}"
            )
        else:
            console.print(f"  peak D vs N_abs: {trend.verdict}")


def _drift_limits(plan: dict[str, Any], path: Path) -> Any:
    """The photodamage / drift limits the scan's plan set (defaults for older files)."""
    from pydantic import ValidationError

    from tamrig.plan.drift import DriftChecks

    try:
        return DriftChecks.model_validate(plan.get("drift") or {}).limits()
    except ValidationError as exc:
        reason = exc.errors(include_url=False)[0]["msg"]
        raise InputError(reason, file=path, field="plan.drift", expected="valid limits") from None


def _print_drift(drift: dict[str, Any]) -> None:
    """Per curve: the reference spot's trends over the sweeps, and any limit crossed."""
    if not drift:
        return
    from rich.console import Console

    console = Console(width=240)
    console.print("reference delay, sweep by sweep (photodamage and drift):")
    for result in drift.values():
        console.print(f"  {result.describe()}")
        if result.amplitude.per_hour is not None:
            hourly = result.span_s >= MIN_SPAN_FOR_HOURLY_S  # else an extrapolation
            console.print(
                f"    per hour: {result.rates('hour')}"
                if hourly
                else f"    per hour: not shown, the reference points span "
                f"{result.span_s:.0f} s (< {MIN_SPAN_FOR_HOURLY_S / 60:g} min)"
            )
        for kind, message in result.warnings.items():
            console.print(f"  [yellow]{kind}[/yellow]: {message}")


def _plain(obj: Any) -> Any:
    """A dataclass as nested dicts (properties that explain it included), for the JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        for name in ("slope_cm2_s", "slope_err_cm2_s", "verdict", "warnings"):
            if hasattr(type(obj), name):
                out[name] = getattr(obj, name)
        return out
    return obj


def _summary(
    analysis: Any, sample: str, path: Path, status: str, temperature: float, pitch: float
) -> dict[str, Any]:
    def plain(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {
                f.name: plain(getattr(obj, f.name))
                for f in dataclasses.fields(obj)
                if f.repr and f.name != "series"
            }
        return obj

    rows = []
    for a in analysis.series:
        rows.append(
            {
                "label": a.label,
                "n_abs": a.series.n_abs,
                "probe_wavelength_nm": a.series.probe_wavelength_nm,
                "sigma0": plain(a.series.sigma0),
                "peak": plain(a.peak),
                "early_power_law": plain(a.early_power_law),
                "auger_power_law": plain(a.auger_power_law),
                "auger": plain(a.auger),
                "hopping": plain(a.hopping),
                "time_zero": plain(a.time_zero),
                "alpha": plain(a.alpha),
                "n_points": a.n_points,
                "n_significant": a.n_significant,
            }
        )
    return {
        "file": str(path),
        "sample": sample,
        "status": status,
        "temperature_k": temperature,
        "dot_pitch_nm": pitch,
        "series": rows,
        "skipped": analysis.skipped,
        "fluence": {f"{k:g}": plain(v) for k, v in analysis.fluence.items()},
    }


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)
