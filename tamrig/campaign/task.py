"""Analyse one series of a campaign: the unit of work a Dask worker runs.

Input and output are plain dicts (picklable, JSON-storable): the spec names the member
files and which of their points belong to the series; the result is one table row (every
quantity with its error, the source files) and the curves the figures draw. Any failure is
caught and returned as a row with ``status = "error"``: one damaged file never stops the
campaign.
"""

from __future__ import annotations

import math
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from tamrig.campaign.adapter import (
    CampaignSettings,
    analyse,
    rig_irf,
    rig_temperature,
    usable_points,
)

#: The D(t) curves keep delays up to this (fs): the super-diffusive figure's range.
CURVE_T_MAX_FS = 1500.0


def series_spec(
    key: str,
    group: Any,
    hashes: dict[Path, str],
    settings: CampaignSettings,
) -> dict[str, Any]:
    """The task input for a :class:`~tamrig.campaign.discovery.SeriesGroup`."""
    return {
        "key": key,
        "sample": group.sample,
        "probe_nm": group.probe_nm,
        "n_abs": group.n_abs,
        "fluence_uj_cm2": group.fluence_uj_cm2,
        "label": group.label,
        "properties": dict(group.properties),
        "settings": settings.to_dict(),
        "members": [
            {
                "path": str(m.path),
                "probe_nm": m.probe_nm,
                "fluence_label": m.fluence_label,
                "status": m.status,
                "hash": hashes[m.path],
            }
            for m in group.members
        ],
    }


def analyse_series_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the analysis of one series; never raises (errors become the row's ``error``)."""
    row = _base_row(spec)
    try:
        row_values, curves = _analyse(spec)
    except Exception as exc:  # any failure is this series' result, not the campaign's
        row.update(status="error", error=_one_line(exc))
        return {"row": row, "curves": {}, "traceback": traceback.format_exc(limit=4)}
    row.update(row_values)
    return {"row": row, "curves": curves}


def _base_row(spec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sample": spec["sample"],
        "probe_wavelength_nm": spec["probe_nm"],
        "n_abs": spec["n_abs"],
        "fluence_uj_cm2": spec["fluence_uj_cm2"],
        "fluence_label": spec["label"],
        "files": ";".join(m["path"] for m in spec["members"]),
        "file_status": ";".join(m["status"] for m in spec["members"]),
        "status": "ok",
        "error": "",
        "cache_key": spec["key"],
    }
    for name, value in spec["properties"].items():
        row[f"sample.{name}"] = value
    return row


def _select(spec: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The series' points from every member file, concatenated under one label, and the
    first member's rig file (its temperature and instrument response)."""
    from tamrig.storage import open_scan

    columns: list[dict[str, np.ndarray]] = []
    rig: dict[str, Any] | None = None
    for m in spec["members"]:
        with open_scan(m["path"]) as scan:
            points = scan.points()
            rig = rig if rig is not None else (scan.rig or {})
        n = len(points["delay_fs"])
        probe = np.asarray(points.get("probe_wavelength_nm", np.full(n, np.nan)), float)
        labels = np.array([str(v) for v in points.get("fluence_label", [""] * n)], dtype=object)
        p = float(m["probe_nm"])
        same_probe = np.isnan(probe) if math.isnan(p) else np.isclose(probe, p, atol=1e-3)
        keep = same_probe & (labels == m["fluence_label"])
        columns.append({k: np.asarray(v)[keep] for k, v in points.items() if len(v) == n})
    shared = set.intersection(*(set(c) for c in columns))
    merged = {k: np.concatenate([c[k] for c in columns]) for k in sorted(shared)}
    n = len(merged["delay_fs"])
    # One series: the same label and probe for every part, whatever each file called it.
    merged["fluence_label"] = np.array([spec["label"]] * n, dtype=object)
    merged["probe_wavelength_nm"] = np.full(n, float(spec["probe_nm"]))
    return merged, rig or {}


def _analyse(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[float]]]:
    settings = CampaignSettings.from_dict(spec["settings"])
    points, rig = _select(spec)
    cfg = settings.analysis_settings(rig_temperature(rig), rig_irf(rig))
    result = analyse(points, cfg)
    if not result.series:
        reasons = "; ".join(result.skipped.values()) or "no usable points"
        raise ValueError(f"{spec['sample']} {spec['label']}: nothing to analyse ({reasons})")
    a = result.series[0]
    s, pk = a.series, a.peak
    shown = pk.status != "none"
    nan = math.nan

    def when(ok: bool, value: float) -> float:
        return float(value) if ok else nan

    t_peak_ps = pk.t_peak_fs / 1000.0
    row = {
        "n_points": int(usable_points(points)["delay_fs"].size),  # measured, all files
        "n_delays": int(s.delay_fs.size),  # after merging repeated delays
        "temperature_k": cfg.peak.temperature_k,
        "sigma0_nm": s.sigma0.value_nm,
        "sigma0_err_nm": s.sigma0.err_nm,
        "regime": pk.verdict,
        "peak_status": pk.status,
        # a regime with numbers: a significant peak, or a significant fall whose rise σ₀'s
        # error leaves unresolved ("none" is the paper's "no super-diffusive regime")
        "super_diffusive": shown,
        "d_peak_cm2_s": when(shown, pk.d_peak_cm2_s),
        "d_peak_err_cm2_s": when(shown, pk.d_peak_err_cm2_s),
        "t_peak_fs": when(shown, pk.t_peak_fs),
        "t_peak_err_fs": when(shown, pk.t_peak_err_fs),
        "length_nm": when(shown, pk.length_nm),
        "length_err_nm": when(shown, pk.length_err_nm),
        "n_dots": when(shown, pk.n_dots),
        "mobility_cm2_vs": when(shown, pk.mobility_cm2_vs),
        "mobility_err_cm2_vs": when(shown, pk.mobility_err_cm2_vs),
        # 1/τ_super: the super-diffusive regime persists until D(t) peaks
        "inv_tau_super_per_ps": when(shown, 1.0 / t_peak_ps),
        "inv_tau_super_err_per_ps": when(shown, pk.t_peak_err_fs / 1000.0 / t_peak_ps**2),
        "alpha": when(a.alpha.ok, a.alpha.value),  # fitted with σ₀ in the σ(τ) model
        "alpha_err": when(a.alpha.ok, a.alpha.err),
        "auger_growth_nm2": when(a.auger.ok, a.auger.growth_nm2),
        "auger_growth_err_nm2": when(a.auger.ok, a.auger.growth_err_nm2),
        "auger_excess_nm2": when(a.auger.ok, a.auger.excess_nm2),
        "auger_excess_err_nm2": when(a.auger.ok, a.auger.excess_err_nm2),
        "d_hop_cm2_s": when(a.hopping.ok, a.hopping.d_hop_cm2_s),
        "d_hop_err_cm2_s": when(a.hopping.ok, a.hopping.d_hop_err_cm2_s),
    }
    d, d_err = s.diffusivity()
    near = (s.delay_fs > 0) & (s.delay_fs <= CURVE_T_MAX_FS)
    curves = {
        "t_fs": _floats(s.delay_fs[near]),
        "d_cm2_s": _floats(d[near]),
        "d_err_cm2_s": _floats(d_err[near]),
        "msd_t_fs": _floats(s.delay_fs),
        "msd_nm2": _floats(s.msd_nm2),
        "msd_err_nm2": _floats(s.msd_err_nm2),
        "smooth_t_fs": _floats(pk.t_grid_fs),
        "smooth_d_cm2_s": _floats(pk.d_smooth_cm2_s),
        "smooth_d_err_cm2_s": _floats(pk.d_smooth_err_cm2_s),
    }
    return row, curves


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float)]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
