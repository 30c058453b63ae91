"""Dead time per point and duty cycle of real scans on the simulated rig in real time.

The simulated rig runs at ``time_scale = 1`` with its documented time model
(docs/simulator.md, "Time model"): stage 100 mm/s + 20 ms settling, shutters 5 ms, camera arming
30 ms, power meter 3 ms per averaged sample. The camera is set to 5 ms frames without
on-camera accumulation, so a point of T seconds is T / 10 ms pump-on/off pairs.

Per point, the camera's own frame timestamps give when it integrated: from the start of a
point's first frame to the end of its last. Dead time is the gap between one point's last
frame and the next point's first; the duty cycle is integration / (integration + dead
time). The physical limit of the dead time is what no software can hide: the stage's travel
for the delay step plus its settling, and the pump shutter opening and closing around the
integration. Printed per point length (0.2 s, 1 s, 5 s): medians over the points.

    python benchmarks/bench_dutycycle.py [--points 12] [--lengths 0.2 1 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tamrig.process import tune  # noqa: E402

FRAME_PERIOD_S = 0.005
DELAY_STEP_FS = 200.0


def plan_for(point_s: float, points: int) -> Any:
    """``points`` delays ``DELAY_STEP_FS`` apart, one fluence, ``point_s`` of integration."""
    from tamrig.plan import plan_from_dict

    pairs = max(2, round(point_s / (2 * FRAME_PERIOD_S)))
    return plan_from_dict(
        {
            "name": f"duty-{point_s:g}s",
            "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
            "delays": {
                "segments": [
                    {
                        "kind": "linear",
                        "start": 0,
                        "stop": DELAY_STEP_FS * (points - 1),
                        "step": DELAY_STEP_FS,
                    }
                ]
            },
            "fluence": {"unit": "n_abs", "values": [0.09]},
            "acquisition": {"pairs_per_point": pairs, "block_frames": 40, "dark_frames": 20},
        },
        source="bench_dutycycle",
    )


def physical_limit_s(rig: Any, step_fs: float) -> dict[str, float]:
    """Stage travel + settling for one delay step, and the pump shutter's two transits."""
    stage = rig.stage.settings
    travel_mm = abs(rig.delay_to_mm(step_fs) - rig.delay_to_mm(0.0))
    shutter = rig.pump_shutter.settings.transit_s
    parts = {
        "travel": travel_mm / stage.velocity_mm_s,
        "settle": stage.settle_s,
        "shutter": 2 * shutter,
    }
    parts["limit"] = sum(parts.values())
    return parts


def _timed(fn: Any, spent: list[float]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    return timed


def run(point_s: float, points: int, folder: Path) -> dict[str, float]:
    """One real-time scan; dead time and duty cycle from the camera's frame timestamps."""
    from tamrig.engine.events import BlockAcquired
    from tamrig.engine.session import start_scan
    from tamrig.rig import build_rig

    rig = build_rig(overrides={"time_scale": 1.0, "camera_accumulate": 1})
    rig.connect()
    try:
        period = rig.camera.frame_period_s()
        if abs(period - FRAME_PERIOD_S) > 1e-9:
            raise RuntimeError(f"the simulated camera's frame period is {period} s")
        spans: dict[int, list[float]] = {}
        waits: list[float] = []  # real seconds spent in the shutter and stage waits
        for device, name in (
            (rig.pump_shutter, "open"),
            (rig.pump_shutter, "close"),
            (rig.stage, "wait_until_stopped"),
        ):
            setattr(device, name, _timed(getattr(device, name), waits))

        def on_event(event: object) -> None:
            if isinstance(event, BlockAcquired):
                t = event.block.timestamp_s
                first = float(t[0]) - FRAME_PERIOD_S
                span = spans.setdefault(event.index, [first, float(t[-1])])
                span[1] = float(t[-1])

        plan = plan_for(point_s, points)
        out = folder / f"duty-{point_s:g}.h5"
        cpu0 = time.process_time()
        with start_scan(plan, out=out, rig=rig, overwrite=True, subscribers=[on_event]) as scan:
            status = scan.run()
        cpu = time.process_time() - cpu0
        out.unlink()
        limit = physical_limit_s(rig, DELAY_STEP_FS)
    finally:
        rig.shutdown()
    if status != "finished":
        raise RuntimeError(f"benchmark scan ended {status!r}")
    ordered = [spans[i] for i in sorted(spans)]
    integration = [end - begin for begin, end in ordered]
    dead = [b[0] - a[1] for a, b in itertools.pairwise(ordered)]
    total = ordered[-1][1] - ordered[0][0]
    return {
        "point_s": point_s,
        "integration_s": statistics.median(integration),
        "dead_s": statistics.median(dead),
        "dead_max_s": max(dead),
        "duty": sum(integration) / total,
        # the device waits as the machine delivered them (a loaded machine oversleeps)
        "waits_s": sum(waits) / len(ordered),
        "cpu_s": cpu / len(ordered),
        **{f"limit_{k}_s": v for k, v in limit.items()},
    }


def measure(lengths: list[float], points: int) -> list[dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="tamrig-duty-") as tmp:
        return [
            run(length, points if length < 2 else max(4, points // 3), Path(tmp))
            for length in lengths
        ]


def main() -> None:
    tune()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=12, help="points per scan (5 s: a third)")
    parser.add_argument("--lengths", type=float, nargs="+", default=[0.2, 1.0, 5.0])
    args = parser.parse_args()
    rows = measure(args.lengths, args.points)
    print("simulated rig in real time; medians over the points of each scan (ms)")
    print(
        f"{'point':>7} {'integr.':>8} {'dead':>7} {'max':>7} {'limit':>7} "
        f"{'(move+settle+shutter)':>22} {'excess':>7} {'waits':>7} {'duty':>7} "
        f"{'limit duty':>10}"
    )
    for r in rows:
        limit = r["limit_limit_s"]
        parts = f"{r['limit_travel_s'] * 1e3:.2f}+{r['limit_settle_s'] * 1e3:.0f}"
        parts += f"+{r['limit_shutter_s'] * 1e3:.0f}"
        ideal = r["integration_s"] / (r["integration_s"] + limit)
        print(
            f"{r['point_s']:6.1f}s {r['integration_s'] * 1e3:8.1f} {r['dead_s'] * 1e3:7.1f} "
            f"{r['dead_max_s'] * 1e3:7.1f} {limit * 1e3:7.1f} {parts:>22} "
            f"{(r['dead_s'] - limit) * 1e3:+7.1f} {r['waits_s'] * 1e3:7.1f} {r['duty']:7.1%} "
            f"{ideal:10.1%}"
        )
    print("target: dead time <= limit + 5 ms")
    print(
        "waits: the shutter and stage waits per point as this machine slept them (the limit "
        "is their nominal sum); dead - waits is the software's share"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
