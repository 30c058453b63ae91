"""Throughput of the simulated camera and the time of a full default scan on the simulated rig.

Prints frames per second (wall clock) for a few ROI sizes and accumulation settings; the
thread CPU and peak allocation of one 100-frame 64² block with the pump on (bench_engine's
point, where the synthesis stands in for the camera hardware and should leave the caches
alone); and the wall time of 112 delays × 70 pump-on/off pairs of 500-exposure frames
(docs/simulator.md's reference noise, 2.5e-5 per pixel) read and reduced to ΔT/T the plain
way.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np

from tamrig.devices import Roi
from tamrig.rig import build_rig


def frames_per_second(size: int, accumulate: int, n_frames: int = 256) -> float:
    with build_rig(overrides={"camera_accumulate": accumulate}) as rig:
        cam = rig.camera
        cam.configure(roi=Roi(256 - size // 2, 256 - size // 2, size, size))
        rig.probe_shutter.open()  # type: ignore[union-attr]
        cam.start()
        rig.open_pump()
        start = time.perf_counter()
        for _ in range(n_frames // 64):
            cam.read(64)
        elapsed = time.perf_counter() - start
        rig.close_pump()
        cam.stop()
    return n_frames / elapsed


def block_cost(accumulate: int, repeats: int = 15) -> tuple[float, float]:
    """Median thread CPU (ms) and peak allocation (MB) of one 100-frame 64² block."""
    with build_rig(overrides={"camera_accumulate": accumulate}) as rig:
        cam = rig.camera
        rig.probe_shutter.open()  # type: ignore[union-attr]
        rig.set_delay_fs(300.0)
        cam.start()
        rig.open_pump()
        cam.read(100)
        cpu = []
        for _ in range(repeats):
            start = time.thread_time()
            cam.read(100)
            cpu.append(time.thread_time() - start)
        tracemalloc.start()
        cam.read(100)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rig.close_pump()
        cam.stop()
    return statistics.median(cpu) * 1e3, peak / 1e6


def default_scan_seconds() -> float:
    delays = np.concatenate(
        [
            [-1000.0, -800.0, -600.0, -400.0],
            np.arange(-200.0, 981.0, 20.0),
            np.arange(1500.0, 10001.0, 500.0),
            np.geomspace(10e3, 2e6, 31)[1:],
        ]
    )
    start = time.perf_counter()
    with build_rig(overrides={"camera_accumulate": 500}) as rig:
        cam = rig.camera
        cam.start()
        dark = cam.read(32).data.mean(axis=0)
        rig.probe_shutter.open()  # type: ignore[union-attr]
        for delay in delays:
            rig.set_delay_fs(float(delay))
            rig.open_pump()
            block = cam.read(140)
            rig.close_pump()
            assert block.pump_on is not None
            frames = block.data - dark
            on, off = frames[block.pump_on].mean(0), frames[~block.pump_on].mean(0)
            _ = on / off - 1.0
        cam.stop()
    return time.perf_counter() - start


def main() -> None:
    for size in (64, 128, 512):
        for accumulate in (1, 500):
            fps = frames_per_second(size, accumulate)
            print(f"ROI {size:3d}x{size:<3d} accumulate {accumulate:3d}: {fps:8.0f} frames/s")
    for accumulate in (1, 200):
        cpu_ms, peak_mb = block_cost(accumulate)
        print(
            f"100 frames 64x64, pump on, accumulate {accumulate:3d}: "
            f"{cpu_ms:.2f} ms CPU, peak allocation {peak_mb:.1f} MB"
        )
    print(f"default scan, 112 delays x 70 pairs (K = 500): {default_scan_seconds():.2f} s")


if __name__ == "__main__":
    main()
