"""``tamrig campaign DIR|GLOB… --report DIR``: analyse a whole campaign of scan files.

Files are grouped into series by sample, probe wavelength and fluence (from their
metadata), analysed in parallel on Dask (local worker processes, or ``--scheduler`` for a
running dask.distributed cluster), and summarised in a table (CSV, Parquet), trends.json
and the cross-sample figures. Re-running skips series whose files and settings are
unchanged; a damaged or unfinished file is a row with its error, not a failed run.
"""

from __future__ import annotations

import argparse
import math
from functools import partial
from typing import Any

from tamrig.errors import EXIT_OK, InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="DIR|GLOB|FILE", help="scan files, folders or glob patterns"
    )
    parser.add_argument("--report", metavar="DIR", required=True, help="write the report here")
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="a running dask scheduler, e.g. tcp://host:8786"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: one per core; 0: no Dask, in this process)",
    )
    parser.add_argument(
        "--x",
        metavar="PROPERTY",
        help="sample property for the cross-sample x axis (default: perovskite_fraction)",
    )
    parser.add_argument("--dot-pitch-nm", type=float, default=3.0, help="for 'number of dots'")
    parser.add_argument("--temperature-k", type=float, default=None, help="override rig T")
    parser.add_argument(
        "--irf-fwhm",
        type=float,
        default=None,
        metavar="FS",
        help="instrument response where the signal rise does not measure it (default: rig's)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tamrig.campaign.adapter import CampaignSettings
    from tamrig.campaign.execution import dask_client
    from tamrig.campaign.runner import run_campaign

    if args.workers is not None and args.workers < 0:
        raise InputError(f"got {args.workers}", field="--workers", expected="a count >= 0")
    if args.scheduler and args.workers is not None:
        raise InputError(
            "--workers starts local workers", field="--workers", expected="not with --scheduler"
        )
    if not (math.isfinite(args.dot_pitch_nm) and args.dot_pitch_nm > 0):
        raise InputError(f"got {args.dot_pitch_nm}", field="--dot-pitch-nm", expected="> 0 nm")
    if args.temperature_k is not None and not args.temperature_k > 0:
        raise InputError(f"got {args.temperature_k}", field="--temperature-k", expected="> 0 K")
    report = Path(args.report)
    if report.exists() and not report.is_dir():
        raise InputError("is a file", file=report, expected="a folder for the report")
    if args.irf_fwhm is not None and not (math.isfinite(args.irf_fwhm) and args.irf_fwhm > 0):
        raise InputError(f"got {args.irf_fwhm}", field="--irf-fwhm", expected="> 0 fs")
    settings = CampaignSettings(
        irf_fwhm_fs=args.irf_fwhm,
        dot_pitch_nm=args.dot_pitch_nm,
        temperature_k=args.temperature_k,
    )
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]campaign"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} series done"),
        TextColumn("{task.fields[running]} running"),
        TextColumn("[red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet,
    )
    task_id = progress.add_task("campaign", total=0, running=0, failed=0)

    def plan(n_todo: int, n_cached: int) -> None:
        progress.update(task_id, total=n_todo + n_cached, completed=n_cached)
        if n_cached:
            progress.console.print(f"{n_cached} series unchanged since the last run: reused")

    def update(done: int, running: int, failed: int) -> None:
        progress.update(task_id, completed=done, running=running, failed=failed)

    local = args.workers == 0 and not args.scheduler
    with progress:
        result = run_campaign(
            args.paths,
            report,
            settings=settings,
            # workers start only if a series needs analysing (not on an all-cached re-run)
            cluster=None if local else partial(dask_client, args.scheduler, args.workers),
            x_property=args.x,
            on_progress=update,
            on_plan=plan,
        )
    _print_summary(result)
    return EXIT_OK


def _fmt(value: Any, err: Any, digits: int = 1) -> str:
    try:
        v, e = float(value), float(err)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f} ± {e:.{digits}f}" if math.isfinite(e) else f"{v:.{digits}f}"


def _print_summary(result: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=200)
    frame = result.table
    table = Table(title="campaign: one row per series (sample × probe × fluence)")
    for name in (
        "sample",
        "probe",
        "fluence",
        "peak D (cm²/s)",
        "t_peak (fs)",
        "L (nm)",
        "Auger ΔMSD (nm²)",
        "D_hop (cm²/s)",
        "status",
    ):
        table.add_column(name, overflow="fold")
    for _, r in frame.iterrows():
        ok = r["status"] == "ok"
        table.add_row(
            str(r["sample"]) or "?",
            f"{r['probe_wavelength_nm']:g} nm" if math.isfinite(r["probe_wavelength_nm"]) else "–",
            str(r["fluence_label"]) or "–",
            _fmt(r.get("d_peak_cm2_s"), r.get("d_peak_err_cm2_s")),
            _fmt(r.get("t_peak_fs"), r.get("t_peak_err_fs"), 0),
            _fmt(r.get("length_nm"), r.get("length_err_nm")),
            _fmt(r.get("auger_growth_nm2"), r.get("auger_growth_err_nm2"), 0),
            _fmt(r.get("d_hop_cm2_s"), r.get("d_hop_err_cm2_s"), 4),
            str(r.get("regime", "")) if ok else f"[red]error[/red]: {r['error']}",
        )
    console.print(table)
    t = result.trends
    if "highest_peak_d" in t:
        console.print(f"highest peak D: {t['highest_peak_d']}; longest L: {t['longest_l']}")
    if t.get("no_super_diffusive_regime"):
        console.print("no super-diffusive regime: " + ", ".join(t["no_super_diffusive_regime"]))
    if "volcano" in t:
        v = t["volcano"]
        shape = "a volcano" if v["is_volcano"] else "not a volcano"
        console.print(f"L against {t['x_property']}: maximum at {v['x_max']:g} ({shape})")
    for name, a in t.get("auger", {}).items():
        word = "increases" if a["increases"] else "does NOT increase"
        console.print(f"Auger growth {word} with N_abs: {name}")
    for note in result.notes:
        console.print(f"note: {escape(note)}")
    console.print(
        f"{result.n_files} files, {result.n_series} series: {result.n_analysed} analysed, "
        f"{result.n_cached} reused, {result.n_failed} failed; report in {len(result.files)} files"
    )
