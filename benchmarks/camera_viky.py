"""The GenICam driver on the viky.cti test producer: streaming throughput, and what a scan
point pays to drop the frames taken while the stage moved.

Throughput: frames/s and drops for a few seconds of streaming. Per point: after a block of
frames (the point) and an idle gap (the stage move), the wall time from dropping the stale
frames to holding the first fresh one, two ways, interleaved point by point in one process:
``discard`` (``Camera.discard_pending()``, the engine's call; the driver stays armed) and
``re-arm`` (``stop()`` + ``start()``, what any camera supports). Both include waiting for the
first frame exposed after the call; medians and quartiles of ``--points`` points each.

Usage: python benchmarks/camera_viky.py [--width 800] [--seconds 3] [--buffers 32]
       [--points 40] [--gap-ms 30] [--point-frames 40]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.genicam_camera import GenICamCamera, GenICamSettings
from tamrig.devices import Roi
from tamrig.process import tune


def throughput(cam: GenICamCamera, seconds: float, block_frames: int) -> str:
    t0 = time.perf_counter()
    cam.start()
    t_start = time.perf_counter() - t0
    frames = dropped = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        block = cam.read(block_frames, timeout_s=5.0)
        frames += len(block)
        dropped += block.dropped
    elapsed = time.perf_counter() - t0
    t1 = time.perf_counter()
    cam.stop()
    t_stop = time.perf_counter() - t1
    return (
        f"{frames} frames in {elapsed:.2f} s = {frames / elapsed:.1f} fps, dropped {dropped}; "
        f"start {t_start * 1e3:.0f} ms, stop {t_stop * 1e3:.0f} ms"
    )


def per_point(
    cam: GenICamCamera, points: int, gap_s: float, point_frames: int
) -> dict[str, dict[str, list[float]]]:
    """Wall ms from the call to the first fresh frame in hand, and the call alone."""
    got: dict[str, dict[str, list[float]]] = {
        way: {"first_frame_ms": [], "call_ms": [], "dropped": [], "queued": [], "skipped": []}
        for way in ("discard", "re-arm")
    }
    cam.start()
    try:
        for i in range(2 * points):
            way = ("discard", "re-arm")[i % 2]
            cam.read(point_frames, timeout_s=5.0)  # the point's frames
            time.sleep(gap_s)  # the stage moves; the camera keeps delivering
            before = cam.status()
            skipped_before = before["discarded_frames"]
            t0 = time.perf_counter()
            if way == "discard":
                cam.discard_pending()
            else:
                cam.stop()
                cam.start()
            t1 = time.perf_counter()
            block = cam.read(1, timeout_s=5.0)
            t2 = time.perf_counter()
            got[way]["call_ms"].append((t1 - t0) * 1e3)
            got[way]["first_frame_ms"].append((t2 - t0) * 1e3)
            got[way]["dropped"].append(float(block.dropped))
            got[way]["queued"].append(float(before["producer_queue"] or 0))
            if way == "discard":  # frames left out: the ring's, the queued, the guard frames
                got[way]["skipped"].append(cam.status()["discarded_frames"] - skipped_before)
    finally:
        cam.stop()
    return got


def quartiles(values: list[float]) -> str:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return f"{med:6.1f} ms (quartiles {q1:.1f}-{q3:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--buffers", type=int, default=32)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--points", type=int, default=40, help="points per way")
    parser.add_argument("--gap-ms", type=float, default=30.0, help="idle time between points")
    parser.add_argument("--point-frames", type=int, default=40, help="frames read per point")
    args = parser.parse_args()
    tune()
    cam = GenICamCamera(
        "camera",
        GenICamSettings(
            cti="viky.cti",
            pixel_format="Mono8",
            frame_rate_hz=200.0,
            num_buffers=args.buffers,
            roi=(0, 0, args.width, args.width),
        ),
    )
    cam.connect()
    try:
        cam.configure(roi=Roi(0, 0, args.width, args.width))
        period_ms = 1e3 / cam.config().frame_rate_hz
        guard = cam.guard_frames()
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{args.width}x{args.width} Mono8 @ {1e3 / period_ms:.0f} fps; load average {load}")
        print("  streaming:", throughput(cam, args.seconds, args.block))
        got = per_point(cam, args.points, args.gap_ms * 1e-3, args.point_frames)
    finally:
        cam.disconnect()
    print(
        f"  per point ({args.points} each, interleaved; {args.point_frames} frames read, "
        f"{args.gap_ms:.0f} ms idle between points; frame period {period_ms:.1f} ms; a discard "
        f"skips {guard} frames after the last one delivered, so ~{(guard + 0.5) * period_ms:.0f} "
        "ms expected to the first fresh frame when the acquisition thread keeps up):"
    )
    for way, numbers in got.items():
        print(
            f"    {way:8s} call {quartiles(numbers['call_ms'])}; "
            f"call to first fresh frame {quartiles(numbers['first_frame_ms'])}; "
            f"drops reported {int(sum(numbers['dropped']))}; frames waiting in the producer "
            f"at the call {np.mean(numbers['queued']):.1f}"
            + (f", skipped {np.mean(numbers['skipped']):.1f}" if numbers["skipped"] else "")
        )


if __name__ == "__main__":
    main()
