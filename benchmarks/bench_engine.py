"""Per-point software overhead of the scan engine versus Bluesky's RunEngine, side by side.

tamrig side: a real scan through ``tamrig.engine.session.start_scan`` on the simulated rig
with zero simulated time (``time_scale = 0``), the demo's 64×64 ROI and the smallest
acquisition a plan allows (2 pump-on/off pairs per point, 2 dark frames), so the cost per
point is software: plan iteration, stage + attenuator moves and pump-shutter open/close
through the device layer, camera start/stop and frame reduction to ΔT/T with per-pixel
errors, the live Gaussian fit (LiveMonitor), one HDF5 row of 8 compressed images + ~50
columns with two flushes (SWMR, completed marker last) and the engine's events.

Bluesky side: ``RunEngine`` running ``list_scan`` over the same number of points with
ophyd's simulated ``motor`` (SynAxis) and ``det`` (SynGauss) and one no-op document
subscriber: per point a motor set + status wait, a trigger + read of the detector, and an
event document. No storage, no image, no fit: strictly less work per point than the
tamrig side does, so the ratio is a conservative one. And Bluesky doing tamrig's work:
six image signals and a callback that stores each event in an SWMR HDF5 file and fits a
Gaussian with curve_fit (``bluesky_callback.py``), against tamrig's whole per-point path.

Reported per point (steady state, from the first to the last point; dark frame, file
creation and run start/stop are excluded on both sides): wall µs and CPU µs (process CPU;
for the parts, CPU of the engine's thread). The tamrig side is split into the per-frame
work -- simulated camera (frame synthesis, i.e. the hardware; its control path of fault
check, frame clock, ids and pump tags counts as device layer) and frames -> ΔT/T (the
accumulator, measured on its own by bench_pipeline.py) -- and the per-point overhead:
live fit, HDF5 write_point and the rest (engine, device layer, events). Ratios: Bluesky's
whole point over tamrig's overhead, and over the engine + device layer alone (the part
that does what the RunEngine does). Both sides alternate ``--repeats`` times in one
process; medians are printed. On a loaded machine the CPU ratios are the steadier ones.

    python benchmarks/bench_engine.py [--points 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tamrig.process import tune  # noqa: E402


class Timer:
    """Wall seconds and calling-thread CPU seconds spent inside wrapped callables, by label."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        self.spent.setdefault(label, 0.0)
        self.cpu.setdefault(label, 0.0)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[label] += time.perf_counter() - t0
                self.cpu[label] += time.thread_time() - c0

        return timed


def bench_plan(points: int, pairs: int) -> Any:
    """The demo plan cut to ``points`` points (2 fluences), ``pairs`` pairs per point."""
    from tamrig.plan import plan_from_dict

    data = tomllib.loads((ROOT / "config" / "scans" / "demo.toml").read_text(encoding="utf-8"))
    per_fluence = max(2, points // 2)
    data["delays"] = {
        "segments": [{"kind": "linear", "start": 0, "stop": 10 * (per_fluence - 1), "step": 10}]
    }
    data["sweeps"] = {"count": 1}
    data["acquisition"].update(pairs_per_point=pairs, block_frames=2 * pairs, dark_frames=2)
    return plan_from_dict(data, source="bench_engine")


def run_tamrig(points: int, pairs: int, folder: Path) -> dict[str, float]:
    """One scan; per-point wall/CPU µs between the first and the last PointDone."""
    from tamrig.acquisition.accumulator import DifferentialAccumulator
    from tamrig.engine.events import PointDone
    from tamrig.engine.session import start_scan
    from tamrig.rig import build_rig

    plan = bench_plan(points, pairs)
    stamps: list[tuple[float, float]] = []

    def on_event(event: object) -> None:
        if isinstance(event, PointDone):
            stamps.append((time.perf_counter(), time.process_time()))

    rig = build_rig(overrides={"time_scale": 0.0})
    rig.connect()
    timer = Timer()
    acc = DifferentialAccumulator
    originals = (acc.add, acc.result)
    acc.add = timer.wrap("reduce_add", acc.add)  # type: ignore[method-assign]
    acc.result = timer.wrap("reduce_result", acc.result)  # type: ignore[method-assign]
    try:
        out = folder / "engine.h5"
        with start_scan(plan, out=out, rig=rig, overwrite=True, subscribers=[on_event]) as scan:
            # Only the frame synthesis is the simulated hardware's: the camera's control
            # path (fault check, frame clock, ids, pump tags) counts as device layer.
            camera = scan.rig.camera
            camera._expose = timer.wrap("camera", camera._expose)  # type: ignore[attr-defined]
            scan.writer.write_point = timer.wrap(  # type: ignore[method-assign]
                "storage", scan.writer.write_point
            )
            monitor = scan.engine.monitor
            if monitor is not None:
                monitor.update = timer.wrap("fit", monitor.update)  # type: ignore[method-assign]
            # The first point also pays for the dark frame: time from its end.
            start_spent: dict[str, float] = {}
            start_cpu: dict[str, float] = {}

            def first_done(event: object) -> None:
                if isinstance(event, PointDone) and not start_spent:
                    start_spent.update(timer.spent)
                    start_cpu.update(timer.cpu)

            scan.engine.subscribe(first_done)
            status = scan.run()
        out.unlink()
    finally:
        acc.add, acc.result = originals  # type: ignore[method-assign]
        rig.shutdown()
    if status != "finished" or len(stamps) < 3:
        raise RuntimeError(f"benchmark scan ended {status!r} after {len(stamps)} points")
    n = len(stamps) - 1
    wall = (stamps[-1][0] - stamps[0][0]) / n * 1e6
    cpu = (stamps[-1][1] - stamps[0][1]) / n * 1e6
    parts = {k: (v - start_spent.get(k, 0.0)) / n * 1e6 for k, v in timer.spent.items()}
    cpus = {k: (v - start_cpu.get(k, 0.0)) / n * 1e6 for k, v in timer.cpu.items()}
    for d in (parts, cpus):
        d["reduce"] = d.get("reduce_add", 0.0) + d.get("reduce_result", 0.0)
    per_frame = parts.get("camera", 0.0) + parts.get("reduce", 0.0)
    fit, storage = parts.get("fit", 0.0), parts.get("storage", 0.0)
    cpu_frame = cpus.get("camera", 0.0) + cpus.get("reduce", 0.0)
    cpu_fit, cpu_storage = cpus.get("fit", 0.0), cpus.get("storage", 0.0)
    return {
        "camera_cpu": cpus.get("camera", 0.0),
        "reduce_cpu": cpus.get("reduce", 0.0),
        "reduce_add_cpu": cpus.get("reduce_add", 0.0),
        "reduce_result_cpu": cpus.get("reduce_result", 0.0),
        "fit_cpu": cpu_fit,
        "storage_cpu": cpu_storage,
        "engine_cpu": cpu - cpu_frame - cpu_fit - cpu_storage,
        "overhead_cpu": cpu - cpu_frame,
        "points": float(len(stamps)),
        "wall_us": wall,
        "cpu_us": cpu,
        "camera_us": parts.get("camera", 0.0),
        "reduce_us": parts.get("reduce", 0.0),
        "fit_us": fit,
        "storage_us": storage,
        "rest_us": wall - per_frame - fit - storage,
        "overhead_us": wall - per_frame,
        "engine_us": wall - per_frame - fit - storage,
    }


def run_bluesky(points: int) -> dict[str, float]:
    """``list_scan`` of ophyd's simulated motor and detector over ``points`` positions."""
    from bluesky import RunEngine
    from bluesky.plans import list_scan
    from ophyd.sim import det, motor

    engine = RunEngine({})
    stamps: list[tuple[float, float]] = []

    def on_document(name: str, doc: dict[str, Any]) -> None:
        if name == "event":
            stamps.append((time.perf_counter(), time.process_time()))

    engine.subscribe(on_document)
    engine(list_scan([det], motor, [float(i) for i in range(points)]))
    n = len(stamps) - 1
    return {
        "points": float(len(stamps)),
        "wall_us": (stamps[-1][0] - stamps[0][0]) / n * 1e6,
        "cpu_us": (stamps[-1][1] - stamps[0][1]) / n * 1e6,
    }


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def measure(points: int = 200, repeats: int = 3, pairs: int = 50) -> dict[str, float]:
    """The three sides in turn ``repeats`` times; medians and the ratios."""
    try:
        import bluesky  # noqa: F401
        import ophyd  # noqa: F401
    except ModuleNotFoundError:
        raise SystemExit("needs the 'bench' extra: pip install 'tamrig[bench]'") from None
    import bluesky_callback

    ours, theirs, theirs_cb = [], [], []
    with tempfile.TemporaryDirectory(prefix="tamrig-bench-") as tmp:
        for r in range(repeats):
            sides = [
                lambda: ours.append(run_tamrig(points, pairs, Path(tmp))),
                lambda: theirs.append(run_bluesky(points)),
                lambda: theirs_cb.append(bluesky_callback.run(points, Path(tmp))),
            ]
            for k in range(3):  # a different side first in each repeat
                sides[(r + k) % 3]()
    a, b, c = median(ours), median(theirs), median(theirs_cb)
    return {
        **{f"tamrig_{k}": v for k, v in a.items()},
        **{f"bluesky_{k}": v for k, v in b.items()},
        **{f"bluesky_cb_{k}": v for k, v in c.items()},
        "ratio_overhead": b["wall_us"] / a["overhead_us"],
        "ratio_engine": b["wall_us"] / a["engine_us"],
        "ratio_overhead_cpu": b["cpu_us"] / a["overhead_cpu"],
        "ratio_engine_cpu": b["cpu_us"] / a["engine_cpu"],
        "ratio_full_cpu": c["cpu_us"] / a["overhead_cpu"],
        "ratio_full_wall": c["wall_us"] / a["overhead_us"],
    }


def main() -> None:
    tune()  # as the tamrig command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=50, help="pump on/off pairs per point")
    args = parser.parse_args()
    r = measure(args.points, args.repeats, args.pairs)
    print(f"{int(r['tamrig_points'])} points per run, median of {args.repeats} runs (µs/point)")
    print(f"{'':40} {'wall':>9} {'CPU':>9}")
    print(f"{'tamrig, whole point':40} {r['tamrig_wall_us']:9.0f} {r['tamrig_cpu_us']:9.0f}")
    for key, label in (
        ("camera_us", "  simulated camera (frame synthesis)"),
        ("reduce_us", "  frames -> ΔT/T (accumulator)"),
        ("fit_us", "  live Gaussian fit"),
        ("storage_us", "  HDF5 write_point"),
        ("engine_us", "  engine + device layer + events"),
        ("overhead_us", "  per-point overhead (fit+HDF5+engine)"),
    ):
        cpu_key = "tamrig_" + key.replace("_us", "_cpu")
        print(f"{label:40} {r['tamrig_' + key]:9.0f} {r[cpu_key]:9.0f}")
    print(
        f"{'Bluesky RunEngine + ophyd.sim':40} {r['bluesky_wall_us']:9.0f} "
        f"{r['bluesky_cpu_us']:9.0f}"
    )
    print(
        f"{'Bluesky + HDF5 (SWMR, gzip) + curve_fit':40} {r['bluesky_cb_wall_us']:9.0f} "
        f"{r['bluesky_cb_cpu_us']:9.0f}"
    )
    print(
        f"full path: Bluesky + store-and-fit callback / tamrig (engine + live fit + HDF5): "
        f"{r['ratio_full_cpu']:.1f}x CPU, {r['ratio_full_wall']:.1f}x wall (target >= 5x CPU)"
    )
    print(
        f"Bluesky per point / tamrig per-point overhead (live fit + HDF5 + engine): "
        f"{r['ratio_overhead']:.1f}x wall, {r['ratio_overhead_cpu']:.1f}x CPU"
    )
    print(
        f"Bluesky per point / tamrig engine + device layer alone: {r['ratio_engine']:.1f}x "
        f"wall, {r['ratio_engine_cpu']:.1f}x CPU (target >= 10x)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
