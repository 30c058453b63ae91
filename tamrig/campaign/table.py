"""The campaign table (one row per series) and the trends read off it.

Written as CSV (for people and spreadsheets) and Parquet (typed, for pandas / polars /
notebooks). Every quantity sits next to its error (``*_err_*``) and ``files`` names the
scan files each row came from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Columns in this order first; sample properties (``sample.*``) follow, then the rest.
LEADING = (
    "sample",
    "probe_wavelength_nm",
    "n_abs",
    "fluence_uj_cm2",
    "fluence_label",
    "status",
    "regime",
    "d_peak_cm2_s",
    "d_peak_err_cm2_s",
    "t_peak_fs",
    "t_peak_err_fs",
    "length_nm",
    "length_err_nm",
    "sigma0_nm",
    "sigma0_err_nm",
    "alpha",
    "alpha_err",
    "auger_growth_nm2",
    "auger_growth_err_nm2",
    "d_hop_cm2_s",
    "d_hop_err_cm2_s",
)


def build_table(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=list(LEADING))
    props = sorted(c for c in frame.columns if c.startswith("sample."))
    first = [c for c in LEADING if c in frame.columns]
    rest = [c for c in frame.columns if c not in first and c not in props]
    frame = frame[first + props + rest]
    for column in frame.columns:  # one type per column (error rows leave gaps)
        if frame[column].dtype == object:
            present = [v for v in frame[column] if not _missing(v)]
            if present and all(isinstance(v, bool | np.bool_) for v in present):
                frame[column] = frame[column].map(lambda v: False if _missing(v) else bool(v))
            else:
                frame[column] = frame[column].map(lambda v: "" if _missing(v) else str(v))
    return frame.sort_values(
        ["status", "sample", "probe_wavelength_nm", "n_abs"], na_position="last"
    ).reset_index(drop=True)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def write_table(frame: pd.DataFrame, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    csv, parquet = folder / "campaign.csv", folder / "campaign.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return [csv, parquet]


def ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty or "status" not in frame:
        return frame
    return frame[frame["status"] == "ok"]


def lowest_fluence(frame: pd.DataFrame) -> pd.DataFrame:
    """Each sample's lowest-fluence series (per probe wavelength): the paper's comparison."""
    good = ok_rows(frame)
    if good.empty:
        return good
    order = good.assign(_n=good["n_abs"].fillna(good["fluence_uj_cm2"]).fillna(np.inf))
    order = order.sort_values(["sample", "probe_wavelength_nm", "_n"])
    return order.groupby(["sample", "probe_wavelength_nm"], dropna=False).head(1).drop(columns="_n")


def x_property(frame: pd.DataFrame, wanted: str | None = None) -> str | None:
    """The sample property for the cross-sample x axis: ``wanted`` if given, else
    ``perovskite_fraction`` if recorded, else the first numeric property that differs
    between samples."""
    props = [c for c in frame.columns if c.startswith("sample.")]
    if wanted:
        name = wanted if wanted.startswith("sample.") else f"sample.{wanted}"
        return name if name in props else None
    if "sample.perovskite_fraction" in props:
        return "sample.perovskite_fraction"
    for column in props:
        per_sample = frame.groupby("sample")[column].first()
        if per_sample.notna().sum() >= 2 and per_sample.nunique() >= 2:
            return column
    return None


def disorder_property(frame: pd.DataFrame) -> str | None:
    """A recorded energetic-disorder property (σ_inh or ΔE), if any sample has one."""
    for column in frame.columns:
        name = column.lower()
        recorded = column.startswith("sample.") and ("sigma_inh" in name or "disorder" in name)
        if recorded and frame[column].notna().any():
            return str(column)
    return None


def trends(frame: pd.DataFrame, x_name: str | None) -> dict[str, Any]:
    """The campaign's headline numbers: per sample at its lowest fluence, the sample with
    the highest peak D and L, samples without a super-diffusive regime, where L peaks on
    the x property (the volcano) and whether Auger growth rises with ⟨N_abs⟩ per sample."""
    low = lowest_fluence(frame)
    out: dict[str, Any] = {"x_property": x_name, "samples": {}}
    for _, r in low.iterrows():
        entry: dict[str, Any] = {
            "probe_wavelength_nm": _num(r["probe_wavelength_nm"]),
            "n_abs": _num(r["n_abs"]),
            "regime": r.get("regime", ""),
            "super_diffusive": bool(r.get("super_diffusive", False)),
            "d_peak_cm2_s": [_num(r["d_peak_cm2_s"]), _num(r["d_peak_err_cm2_s"])],
            "length_nm": [_num(r["length_nm"]), _num(r["length_err_nm"])],
            "t_peak_fs": [_num(r["t_peak_fs"]), _num(r["t_peak_err_fs"])],
        }
        if x_name:
            entry[x_name] = _num(r.get(x_name, math.nan))
        out["samples"][str(r["sample"])] = entry
    with_peak = low[low["super_diffusive"].astype(bool)] if "super_diffusive" in low else low
    if not with_peak.empty:
        out["highest_peak_d"] = str(with_peak.loc[with_peak["d_peak_cm2_s"].idxmax(), "sample"])
        out["longest_l"] = str(with_peak.loc[with_peak["length_nm"].idxmax(), "sample"])
    out["no_super_diffusive_regime"] = (
        sorted(str(s) for s in low["sample"][~low["super_diffusive"].astype(bool)])
        if "super_diffusive" in low
        else []
    )
    if x_name and x_name in low and not low.empty:
        out["volcano"] = volcano(low[x_name].to_numpy(float), low["length_nm"].to_numpy(float))
    out["auger"] = auger_ordering(frame)
    return out


def volcano(
    x: Sequence[float] | np.ndarray, length: Sequence[float] | np.ndarray
) -> dict[str, Any]:
    """Where L (0 where there is no super-diffusive regime) peaks along x, and whether it
    rises to that maximum and falls after it (a volcano)."""
    xs = np.asarray(x, float)
    ls = np.nan_to_num(np.asarray(length, float), nan=0.0)
    use = np.isfinite(xs)
    xs, ls = xs[use], ls[use]
    if xs.size < 3:
        return {"x_max": math.nan, "is_volcano": False}
    order = np.argsort(xs)
    xs, ls = xs[order], ls[order]
    k = int(np.argmax(ls))
    return {
        "x_max": float(xs[k]),
        "is_volcano": bool(0 < k < xs.size - 1 and ls[0] < ls[k] > ls[-1]),
    }


def auger_ordering(frame: pd.DataFrame) -> dict[str, Any]:
    """Per sample and probe: Auger MSD growth against ⟨N_abs⟩, and whether it increases."""
    good = ok_rows(frame)
    out: dict[str, Any] = {}
    if good.empty:
        return out
    for (sample, probe), g in good.groupby(["sample", "probe_wavelength_nm"], dropna=False):
        g = g[np.isfinite(g["n_abs"]) & np.isfinite(g["auger_growth_nm2"])].sort_values("n_abs")
        if len(g) < 2:
            continue
        growth = g["auger_growth_nm2"].to_numpy(float)
        name = f"{sample} @ {probe:g} nm" if math.isfinite(probe) else str(sample)
        out[name] = {
            "n_abs": [float(v) for v in g["n_abs"]],
            "growth_nm2": [float(v) for v in growth],
            "growth_err_nm2": [float(v) for v in g["auger_growth_err_nm2"]],
            "increases": bool(np.all(np.diff(growth) > 0)),
        }
    return out


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
