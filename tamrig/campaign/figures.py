"""The campaign's cross-sample figures (PNG, matplotlib Agg).

- D(t) of every sample at its lowest fluence (one figure per probe wavelength);
- super-diffusive length L and peak D against a sample property (the perovskite fraction
  by default: the volcano);
- 1/τ_super against the recorded energetic disorder, when samples record one;
- Auger-assisted MSD growth against ⟨N_abs⟩, one line per sample.
A figure whose inputs are missing is skipped with a note saying why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tamrig.campaign.table import disorder_property, lowest_fluence, ok_rows

Curves = Mapping[str, Mapping[str, list[float]]]  # cache key -> curves of that series


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def _label(column: str) -> str:
    return column.removeprefix("sample.").replace("_", " ")


def write_figures(
    frame: pd.DataFrame, curves: Curves, folder: Path, x_name: str | None
) -> tuple[list[Path], list[str]]:
    """Every figure the table allows; returns (files written, notes on skipped ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    notes: list[str] = []
    low = lowest_fluence(frame)
    if low.empty:
        return written, ["no series analysed: no figures"]
    for probe, group in low.groupby("probe_wavelength_nm", dropna=False):
        written.append(_diffusivity(group, curves, folder, float(probe)))
    if x_name:
        written.append(_versus_property(low, folder, x_name))
    else:
        notes.append(
            "L and peak D vs a sample property: no numeric property differs between samples"
        )
    disorder = disorder_property(low)
    if disorder:
        written.append(_inverse_tau(low, folder, disorder))
    else:
        notes.append(
            "1/τ_super vs disorder: skipped, no sample records its energetic disorder "
            "(add e.g. sigma_inh_mev to the plan's [sample.metadata])"
        )
    path = _auger(ok_rows(frame), folder)
    if path is None:
        notes.append("Auger growth vs N_abs: skipped, no sample has two fluences with a growth")
    else:
        written.append(path)
    return written, notes


def _colors(n: int) -> list[Any]:
    cmap = _pyplot().get_cmap("viridis")
    return [cmap(x) for x in np.linspace(0.0, 0.85, max(n, 1))]


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    _pyplot().close(fig)
    return path


def _diffusivity(low: pd.DataFrame, curves: Curves, folder: Path, probe: float) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    t_max = 0.0
    for (_, r), color in zip(low.iterrows(), _colors(len(low)), strict=True):
        c = curves.get(str(r["cache_key"]), {})
        if r.get("super_diffusive"):
            what = (
                f"peak {r.get('d_peak_cm2_s'):.0f} cm²/s at {r.get('t_peak_fs', math.nan):.0f} fs"
            )
        else:
            what = "no super-diffusive regime"
        label = f"{r['sample']} ({r['fluence_label']}): {what}"
        if c.get("t_fs"):
            t_max = max(t_max, max(c["t_fs"]))
            ax.errorbar(
                c["t_fs"],
                c["d_cm2_s"],
                yerr=c["d_err_cm2_s"],
                fmt="o",
                ms=3,
                color=color,
                elinewidth=0.6,
                label=label,
            )
        if c.get("smooth_t_fs"):
            t = np.asarray(c["smooth_t_fs"])
            d = np.asarray(c["smooth_d_cm2_s"])
            e = np.asarray(c["smooth_d_err_cm2_s"])
            ax.plot(t, d, "-", color=color, lw=1)
            ax.fill_between(t, d - e, d + e, color=color, alpha=0.15)
    ax.set_xlim(0, 1.05 * t_max if t_max > 0 else 1000.0)
    ax.set_xlabel("delay t (fs)")
    ax.set_ylabel("D(t) = MSD / 2t (cm²/s)")
    where = f"probe {probe:g} nm" if math.isfinite(probe) else "probe as set"
    ax.set_title(f"D(t) of every sample at its lowest fluence ({where})")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
    tag = f"{probe:g}nm" if math.isfinite(probe) else "probe"
    return _save(fig, folder / f"campaign_diffusivity_lowest_fluence_{tag}.png")


def _versus_property(low: pd.DataFrame, folder: Path, x_name: str) -> Path:
    """L and peak D against ``x_name``; a sample without a super-diffusive regime is an
    open marker at zero (the regime is absent, not unmeasured)."""
    plt = _pyplot()
    fig, (ax_l, ax_d) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110)
    x = low[x_name].to_numpy(float)
    found = low["super_diffusive"].astype(bool).to_numpy()
    for ax, value, err, ylabel in (
        (ax_l, "length_nm", "length_err_nm", "super-diffusive length L (nm)"),
        (ax_d, "d_peak_cm2_s", "d_peak_err_cm2_s", "peak D (cm²/s)"),
    ):
        y = low[value].to_numpy(float)
        e = low[err].to_numpy(float)
        ax.errorbar(x[found], y[found], yerr=e[found], fmt="o-", color="C0", label="peak found")
        if (~found).any():
            ax.plot(
                x[~found],
                np.zeros((~found).sum()),
                "o",
                mfc="none",
                color="C3",
                label="no super-diffusive regime",
            )
        for xi, name in zip(x, low["sample"], strict=True):
            ax.annotate(
                str(name),
                (xi, 0),
                textcoords="offset points",
                xytext=(0, 4),
                fontsize=6,
                ha="center",
                rotation=90,
            )
        ax.set_xlabel(_label(x_name))
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(f"super-diffusive transport against {_label(x_name)} (lowest fluence)")
    return _save(fig, folder / f"campaign_transport_vs_{_slug(_label(x_name))}.png")


def _inverse_tau(low: pd.DataFrame, folder: Path, disorder: str) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    use = low["super_diffusive"].astype(bool)
    ax.errorbar(
        low.loc[use, disorder],
        low.loc[use, "inv_tau_super_per_ps"],
        yerr=low.loc[use, "inv_tau_super_err_per_ps"],
        fmt="o",
        color="C0",
    )
    for _, r in low[use].iterrows():
        ax.annotate(str(r["sample"]), (r[disorder], r["inv_tau_super_per_ps"]), fontsize=7)
    ax.set_xlabel(_label(disorder))
    ax.set_ylabel("1/τ_super (1/ps)")
    ax.set_title("persistence of the super-diffusive regime against disorder")
    return _save(fig, folder / f"campaign_inv_tau_vs_{_slug(_label(disorder))}.png")


def _auger(good: pd.DataFrame, folder: Path) -> Path | None:
    if good.empty:
        return None
    groups = [
        (key, g.sort_values("n_abs"))
        for key, g in good.groupby(["sample", "probe_wavelength_nm"], dropna=False)
        if (np.isfinite(g["n_abs"]) & np.isfinite(g["auger_growth_nm2"])).sum() >= 2
    ]
    if not groups:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5), dpi=110)
    for ((sample, probe), g), color in zip(groups, _colors(len(groups)), strict=True):
        label = f"{sample} ({probe:g} nm)" if math.isfinite(probe) else str(sample)
        ax.errorbar(
            g["n_abs"],
            g["auger_growth_nm2"],
            yerr=g["auger_growth_err_nm2"],
            fmt="o-",
            ms=4,
            color=color,
            label=label,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("⟨N_abs⟩")
    ax.set_ylabel("Auger-assisted MSD growth 1–100 ps (nm²)")
    ax.set_title("Auger-assisted spreading against ⟨N_abs⟩")
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, folder / "campaign_auger_vs_n_abs.png")
