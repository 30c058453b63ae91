"""Throughput of the differential-imaging pipeline: raw frames -> running sums -> ΔT/T.

For each frame size, camera-like 12-bit uint16 frames with pump tags go through
``DifferentialAccumulator.add`` (dark subtraction, per-frame probe normalisation on the image
border, per-tag Σ and Σ² running sums) in camera blocks, and every ``--point`` frames the
point is closed with ``result()`` (ΔT/T and its per-pixel errors) and the sums reset: the
sustained work of a scan. The blocks cycle through a pool of distinct frames larger than the
CPU caches, so frames arrive from main memory as a camera's would.

Prints, with the accumulator on one core and on all (``--threads``), frames/s (wall clock,
and per CPU second: on a busy machine the wall figure is lower by however much of the
cores the process got) and the ratio to a plain numpy copy of the
same bytes from the same pool (the floor for any pass over every pixel). Target: >= 10,000
frames/s at 256×256. Numbers only; nothing is asserted.

    python benchmarks/bench_pipeline.py [--seconds 2] [--block 64] [--point 2000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tamrig.acquisition.accumulator import DifferentialAccumulator, border_mask, max_threads
from tamrig.devices import FrameBlock
from tamrig.process import tune

SIZES = (128, 256, 512, 1024)
POOL_BYTES = 96 * 2**20  # three times the last-level cache of the reference machine


def rate(step: Callable[[], int], seconds: float) -> tuple[float, float]:
    """Frames per wall second and per CPU second of ``step`` (returns frames; >= seconds)."""
    step()  # warm-up: buffers, baseline, worker threads
    frames = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        frames += step()
    cpu = time.process_time() - cpu_start
    return frames / elapsed, frames / cpu


def block_pool(size: int, n: int, rng: np.random.Generator) -> list[FrameBlock]:
    """Distinct camera-like blocks (probe level ~2500 counts, shot noise) filling POOL_BYTES."""
    count = max(2, POOL_BYTES // (n * size * size * 2))
    pool = []
    for k in range(count):
        data = rng.integers(2470, 2530, (n, size, size), dtype=np.uint16)
        ids = np.arange(k * n, (k + 1) * n, dtype=np.int64)
        pool.append(FrameBlock(data, ids, ids / 1000.0, ids % 2 == 0))
    return pool


def measure_size(
    size: int, block: int, point: int, seconds: float, threads: int | None = None
) -> dict[str, float]:
    """Pipeline and copy rates for one square frame size (``threads``: accumulator's)."""
    rng = np.random.default_rng(size)
    n = max(2, block * 256 * 256 // (size * size))  # same bytes per block at every size
    pool = block_pool(size, n, rng)
    acc = DifferentialAccumulator(
        (size, size),
        np.full((size, size), 100.0),
        norm_mask=border_mask((size, size)),
        threads=threads,
    )
    blocks = itertools.cycle(pool)
    per_point = max(1, point // n)
    state = {"in_point": 0}

    def pipeline() -> int:
        blk = next(blocks)
        assert blk.pump_on is not None
        acc.add(blk, blk.pump_on)
        state["in_point"] += 1
        if state["in_point"] >= per_point:
            acc.result()
            acc.reset()
            state["in_point"] = 0
        return n

    copies = itertools.cycle(pool)

    def copy() -> int:
        next(copies).data.copy()
        return n

    wall, cpu = rate(pipeline, seconds)
    copy_wall, _ = rate(copy, seconds / 2)
    return {
        "size": size,
        "threads": acc.threads,
        "block": n,
        "fps": wall,
        "fps_cpu": cpu,
        "copy_fps": copy_wall,
        "ratio": copy_wall / wall,
        "mb_s": wall * size * size * 2 / 1e6,
    }


def measure(
    sizes: tuple[int, ...] = SIZES,
    block: int = 64,
    point: int = 2000,
    seconds: float = 2.0,
    threads: int | None = None,
) -> list[dict[str, float]]:
    """One row per size; ``threads`` None = the accumulator's default (every core)."""
    return [measure_size(s, block, point, seconds, threads) for s in sizes]


def main() -> None:
    tune()  # as the tamrig command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--block", type=int, default=64, help="frames per block at 256x256")
    parser.add_argument("--point", type=int, default=2000, help="frames per point (result)")
    parser.add_argument(
        "--threads", type=int, nargs="+", default=sorted({1, max_threads()}), help="cores used"
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'frame':>10} {'block':>6} {'thr':>3} {'frames/s':>10} {'per CPU s':>10} {'MB/s':>7} "
        f"{'copy fps':>10} {'copy/pipeline':>13}"
    )
    for size in SIZES:
        for threads in args.threads:
            r = measure_size(size, args.block, args.point, args.seconds, threads)
            print(
                f"{size:>4}x{size:<5} {int(r['block']):>6} {int(r['threads']):>3} "
                f"{r['fps']:>10,.0f} {r['fps_cpu']:>10,.0f} {r['mb_s']:>7,.0f} "
                f"{r['copy_fps']:>10,.0f} {r['ratio']:>13.1f}"
            )


if __name__ == "__main__":
    main()
