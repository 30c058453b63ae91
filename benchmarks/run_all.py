"""Run every benchmark and print one summary table against the targets of the project.

Each benchmark module's ``measure()`` runs with its defaults (``--quick`` shortens them:
fewer draws, points and repeats, for a smoke run); the details each script prints when run
on its own are not repeated here. Prints the machine (CPU, cores, load, disk folder) and the
date first, as the README's figures quote them. Nothing is asserted; "met" is informative.

    python benchmarks/run_all.py [--quick] [--dir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench_dutycycle  # noqa: E402
import bench_engine  # noqa: E402
import bench_fit  # noqa: E402
import bench_memory  # noqa: E402
import bench_monitor  # noqa: E402
import bench_pipeline  # noqa: E402
import bench_startup  # noqa: E402
import bench_storage  # noqa: E402

from tamrig.process import tune  # noqa: E402

Row = tuple[str, str, str, bool | None]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        mem = f", {kib / 2**20:.0f} GiB RAM"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, "
        f"load average {load:.1f} at start"
    )


def pipeline_rows(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for r in bench_pipeline.measure(seconds=0.7 if quick else 2.0):
        s = int(r["size"])
        met = (r["fps"] >= 10_000) if s == 256 else None
        rows.append(
            (
                f"frame pipeline {s}x{s}",
                f"{r['fps']:,.0f} frames/s ({r['fps_cpu']:,.0f}/CPU s); "
                f"copy {r['ratio']:.1f}x faster",
                ">= 10,000 frames/s" if s == 256 else "",
                met,
            )
        )
    return rows


def engine_rows(quick: bool) -> list[Row]:
    r = bench_engine.measure(points=60 if quick else 200, repeats=1 if quick else 3)
    return [
        (
            "per point, tamrig (wall/CPU µs)",
            f"overhead {r['tamrig_overhead_us']:,.0f}/{r['tamrig_overhead_cpu']:,.0f}: "
            f"fit {r['tamrig_fit_us']:,.0f}/{r['tamrig_fit_cpu']:,.0f}, "
            f"HDF5 {r['tamrig_storage_us']:,.0f}/{r['tamrig_storage_cpu']:,.0f}, "
            f"engine {r['tamrig_engine_us']:,.0f}/{r['tamrig_engine_cpu']:,.0f}",
            "",
            None,
        ),
        (
            "per point, Bluesky (wall/CPU µs)",
            f"{r['bluesky_wall_us']:,.0f}/{r['bluesky_cpu_us']:,.0f}",
            "",
            None,
        ),
        (
            "per point, Bluesky + store-and-fit callback (wall/CPU µs)",
            f"{r['bluesky_cb_wall_us']:,.0f}/{r['bluesky_cb_cpu_us']:,.0f}",
            "",
            None,
        ),
        (
            "full path: Bluesky + callback / tamrig (CPU)",
            f"{r['ratio_full_cpu']:.1f}x",
            ">= 5x",
            r["ratio_full_cpu"] >= 5,
        ),
        (
            "engine alone: bare Bluesky / tamrig (CPU)",
            f"{r['ratio_engine_cpu']:.1f}x ({r['ratio_engine']:.1f}x wall)",
            ">= 10x",
            r["ratio_engine_cpu"] >= 10,
        ),
    ]


def monitor_rows(quick: bool) -> list[Row]:
    plans = ("bench",) if quick else ("bench", "demo", "paper")
    rows: list[Row] = []
    for name, r in bench_monitor.measure(plans, repeats=1 if quick else 3).items():
        rows.append(
            (
                f"live monitor per point, {name} plan (CPU ms)",
                f"mean {r['update_mean']:.2f} (image fit {r['image_mean']:.2f}), "
                f"p99 {r['update_p99']:.1f}, max {r['update_max']:.1f}",
                "mean <= 0.7",
                r["update_mean"] <= 0.7,
            )
        )
    return rows


def dutycycle_rows(quick: bool) -> list[Row]:
    rows: list[Row] = []
    lengths = [0.2] if quick else [0.2, 1.0, 5.0]
    for r in bench_dutycycle.measure(lengths, 6 if quick else 12):
        limit = r["limit_limit_s"]
        rows.append(
            (
                f"dead time, {r['point_s']:g} s points (real time)",
                f"{r['dead_s'] * 1e3:.1f} ms vs limit {limit * 1e3:.1f} ms; "
                f"duty cycle {r['duty']:.1%}",
                "<= limit + 5 ms",
                r["dead_s"] <= limit + 0.005,
            )
        )
    return rows


def fit_rows(quick: bool) -> list[Row]:
    r = bench_fit.measure(draws=60 if quick else 300)
    rows: list[Row] = []
    for s in (64, 128):
        k = f"{s}_tamrig_"
        rows.append(
            (
                f"Gaussian fit {s}x{s}",
                f"{r[k + 'ms']:.2f} ms, sd/CRB {r[k + 'sd_over_crb']:.2f} "
                f"(curve_fit {r[f'{s}_curve_fit_sd_over_crb']:.2f}), "
                f"{r[f'{s}_speedup']:.1f}x curve_fit",
                ">= 5x",
                r[f"{s}_speedup"] >= 5,
            )
        )
    return rows


def storage_rows(quick: bool, folder: Path | None) -> list[Row]:
    r = bench_storage.measure(folder, repeats=3 if quick else 5, frames=500 if quick else 1000)
    with tempfile.TemporaryDirectory(prefix="tamrig-bench-") as tmp:
        p = bench_storage.measure_points(folder or Path(tmp), 80 if quick else 150)
    return [
        (
            "HDF5 write_point, simulated 64² scan replayed (CPU per point)",
            f"{p['write_point_cpu_ms']:.2f} ms (format 1: {p['write_point_v1_cpu_ms']:.2f} ms)",
            "",
            None,
        ),
        (
            "HDF5 raw-frame recording",
            f"{r['h5_mb_s']:,.0f} MB/s vs plain {r['plain_mb_s']:,.0f} MB/s: "
            f"{r['fraction']:.0%} (paired median)",
            ">= 80 %",
            r["fraction"] >= 0.8,
        ),
        (
            "HDF5 write_point",
            ", ".join(
                f"{k.split('_')[2]}²: {v:.1f} ms" for k, v in r.items() if k.startswith("write_")
            ),
            "",
            None,
        ),
    ]


def memory_rows(quick: bool) -> list[Row]:
    frames = (10_000, 100_000) if quick else (10_000, 1_000_000)
    r = bench_memory.measure(frames)
    return [
        (
            f"peak RSS {frames[0]:.0e} vs {frames[1]:.0e} frames",
            f"{r['small_peak_mib']:.1f} vs {r['large_peak_mib']:.1f} MiB "
            f"({int(r['size'])}x{int(r['size'])} ROI)",
            "ratio within ±10 %",
            abs(r["ratio"] - 1) <= 0.10,
        )
    ]


def startup_rows(quick: bool) -> list[Row]:
    r = bench_startup.measure(runs=5 if quick else 11)
    heavy = r["heavy"]
    return [
        (
            "tamrig --help",
            f"{r['median_s']:.3f} s median; heavy imports: {', '.join(heavy) or 'none'}",  # type: ignore[arg-type]
            "< 0.5 s, lazy",
            r["median_s"] < 0.5 and not heavy,  # type: ignore[operator]
        )
    ]


def main() -> None:
    tune()  # as the tamrig command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the disk tests")
    args = parser.parse_args()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"disk tests in {args.dir or tempfile.gettempdir()}")
    sections: list[tuple[str, Callable[[], list[Row]]]] = [
        ("pipeline", lambda: pipeline_rows(args.quick)),
        ("engine", lambda: engine_rows(args.quick)),
        ("monitor", lambda: monitor_rows(args.quick)),
        ("dutycycle", lambda: dutycycle_rows(args.quick)),
        ("fit", lambda: fit_rows(args.quick)),
        ("storage", lambda: storage_rows(args.quick, args.dir)),
        ("memory", lambda: memory_rows(args.quick)),
        ("startup", lambda: startup_rows(args.quick)),
    ]
    rows: list[Row] = []
    for name, section in sections:
        t0 = time.perf_counter()
        got: list[Any] = section()
        rows += got
        print(f"  {name}: {time.perf_counter() - t0:.0f} s", flush=True)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print(f"{'benchmark':<{w0}}  {'result':<{w1}}  {'target':<18}  met")
    print("-" * (w0 + w1 + 27))
    for label, result, target, met in rows:
        mark = "" if met is None else ("yes" if met else "NO")
        print(f"{label:<{w0}}  {result:<{w1}}  {target:<18}  {mark}")


if __name__ == "__main__":
    main()
