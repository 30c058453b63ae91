"""CPU per point of the live monitor (LiveMonitor.update): mean, median, p99 and maximum.

The live fit runs on the writer thread between two acquisitions, so beside its mean (the
CPU a scan pays) its worst points matter: a refit that takes tens of milliseconds is dead
time on a rig when the next point waits for the writer. Three scans on the simulated rig
with zero simulated time: bench_engine.py's (10 fs steps from 0 to 990 fs, 3 fluences,
one sweep, 50 pairs per point), the demo plan (config/scans/demo.toml: 20 fs steps through
time zero, 3 fluences, 2 sweeps + reference points) and the paper plan
(config/scans/paper-fluence-series.toml: the 112-point default grid, 3 fluences, 4 sweeps;
``--pairs`` per point instead of the plan's 7000, so it runs in about a minute).

Each scan is run once while the images and calls the engine makes (with its ``settle``
flag at the end of each run of a curve) are recorded; the calls are then replayed through
a fresh monitor ``--repeats`` times and each call's thread CPU time is taken, so the
figures are the monitor's own and do not depend on what else the scan does. Per point:
the Gaussian image fits as the monitor makes them (started from the curve's previous
spot where it can, with the image's own start values where that is not kept), and the
whole update (image fit + refits of time zero and σ₀). Also counted: how many refits of
each kind a series got, and how many image fits started from the previous spot.

    python benchmarks/bench_monitor.py [--plans bench,demo,paper] [--pairs 50] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tamrig.process import tune  # noqa: E402

PLANS = {"demo": "demo.toml", "paper": "paper-fluence-series.toml"}
Call = tuple[float, str, Any, bool]


def plan_for(name: str, pairs: int) -> Any:
    from tamrig.plan import plan_from_dict

    if name == "bench":
        import bench_engine

        return bench_engine.bench_plan(200, pairs)
    data = tomllib.loads((ROOT / "config" / "scans" / PLANS[name]).read_text(encoding="utf-8"))
    data["acquisition"].update(
        pairs_per_point=pairs, block_frames=min(2 * pairs, 500), dark_frames=2
    )
    return plan_from_dict(data, source=name)


def record(name: str, pairs: int) -> tuple[float, list[Call]]:
    """Run the plan (zero simulated time); the monitor's calls and the pixel size."""
    from tamrig.engine.session import start_scan
    from tamrig.rig import build_rig

    rig = build_rig(overrides={"time_scale": 0.0})
    rig.connect()
    calls: list[Call] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tamrig-bench-") as tmp:
            out = Path(tmp) / "monitor.h5"
            with start_scan(plan_for(name, pairs), out=out, rig=rig, overwrite=True) as scan:
                monitor = scan.engine.monitor
                assert monitor is not None
                update = monitor.update

                def recording(**kw: Any) -> Any:
                    calls.append((kw["delay_fs"], kw["series"], kw["image"], kw["settle"]))
                    return update(**kw)

                monitor.update = recording  # type: ignore[method-assign]
                status = scan.run()
    finally:
        rig.shutdown()
    if status != "finished":
        raise RuntimeError(f"{name}: the scan ended {status!r}")
    return rig.settings.pixel_size_nm, calls


def replay(pixel_nm: float, calls: list[Call]) -> dict[str, Any]:
    """Per-call thread CPU (ms) of the image fits and of the whole update; the image fits
    are timed inside the update, as the monitor makes them (from the previous spot where
    it starts there, else from the image's own start values)."""
    from tamrig.analysis import monitor as live

    image_ms, update_ms = [], []
    in_update = [0.0]
    monitor = live.LiveMonitor(pixel_nm)
    refits = {"rise": 0, "sigma0": 0}
    started = {"from the previous spot": 0, "kept": 0}
    originals = (live.fit_time_zero, live.estimate_sigma0, live.fit_gaussian)

    def counting(kind: str, fn: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            refits[kind] += 1
            return fn(*args, **kwargs)

        return counted

    def timed_fit(*args: Any, **kwargs: Any) -> Any:
        c0 = time.thread_time()
        fit = originals[2](*args, **kwargs)
        in_update[0] += time.thread_time() - c0
        if kwargs.get("start") is not None:
            started["from the previous spot"] += 1
            started["kept"] += monitor._starts_next(fit)
        return fit

    live.fit_time_zero = counting("rise", originals[0])  # type: ignore[assignment]
    live.estimate_sigma0 = counting("sigma0", originals[1])  # type: ignore[assignment]
    live.fit_gaussian = timed_fit  # type: ignore[assignment]
    try:
        for delay, series, image, settle in calls:
            in_update[0] = 0.0
            c0 = time.thread_time()
            monitor.update(delay_fs=delay, series=series, image=image, settle=settle)
            update_ms.append((time.thread_time() - c0) * 1e3)
            image_ms.append(in_update[0] * 1e3)
    finally:
        live.fit_time_zero, live.estimate_sigma0, live.fit_gaussian = originals  # type: ignore[assignment]
    sigma0 = {}
    for series in monitor.series():
        s0 = monitor.sigma0(series)
        if s0 is not None:
            sigma0[series] = (s0.value_nm, s0.err_nm, s0.n_points)
    return {
        "image": np.array(image_ms),
        "update": np.array(update_ms),
        "refits": refits,
        "started": started,
        "series": len(monitor.series()),
        "settles": sum(c[3] for c in calls),
        "sigma0": sigma0,
    }


def summary(ms: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(ms.mean()),
        "p50": float(np.median(ms)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
    }


def measure(
    plans: tuple[str, ...] = ("bench", "demo", "paper"), pairs: int = 50, repeats: int = 3
) -> dict[str, dict[str, Any]]:
    """Per plan: medians over ``repeats`` replays of mean/p50/p99/max (ms per point)."""
    out: dict[str, dict[str, Any]] = {}
    for name in plans:
        pixel_nm, calls = record(name, pairs)
        runs = [replay(pixel_nm, calls) for _ in range(repeats)]
        row: dict[str, Any] = {"points": len(calls), "pairs": pairs}
        for part in ("image", "update"):
            stats = [summary(r[part]) for r in runs]
            for key in stats[0]:
                row[f"{part}_{key}"] = statistics.median(s[key] for s in stats)
        row.update(
            {k: runs[0][k] for k in ("refits", "started", "series", "settles", "sigma0")},
        )
        out[name] = row
    return out


def main() -> None:
    tune()  # as the tamrig command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", default="bench,demo,paper")
    parser.add_argument("--pairs", type=int, default=50, help="pump on/off pairs per point")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = measure(tuple(args.plans.split(",")), args.pairs, args.repeats)
    print("CPU ms per point (thread time), median of the replays")
    print(f"{'scan':28} {'points':>6} {'':8} {'mean':>7} {'p50':>7} {'p99':>7} {'max':>7}")
    for name, r in results.items():
        label = f"{name} ({r['series']} curves)"
        for part, what in (("image", "image fit"), ("update", "update")):
            print(
                f"{label:28} {r['points']:6d} {what:8} {r[part + '_mean']:7.2f} "
                f"{r[part + '_p50']:7.2f} {r[part + '_p99']:7.2f} {r[part + '_max']:7.2f}"
            )
            label = ""
        refits, started = r["refits"], r["started"]
        print(
            f"{'':28} refits: rise {refits['rise']}, σ₀ {refits['sigma0']} "
            f"({r['settles']} settles at run ends); image fits from the previous spot "
            f"{started['from the previous spot']}, kept {started['kept']}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
