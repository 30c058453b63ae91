"""Throughput of the differential-imaging pipeline (DifferentialAccumulator.add).

Prints frames/s at several frame sizes and the ratio to a plain numpy copy of the same bytes
(the floor any pipeline touching every pixel must pay). Numbers only; nothing is asserted.
Run: ``python benchmarks/bench_pipeline.py [--seconds S] [--block N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from tamrig.acquisition import DifferentialAccumulator, border_mask, max_threads
from tamrig.devices import FrameBlock

SIZES = (128, 256, 512, 1024)


def rate(step: Callable[[], object], frames_per_call: int, seconds: float) -> tuple[float, float]:
    """Frames per wall-clock second and per CPU second of ``step`` (run >= ``seconds``).

    The CPU-time figure is what the code costs; on a machine busy with other work the
    wall-clock figure is lower by however much of a core the process got.
    """
    step()  # warm-up: buffers, baseline, BLAS threads
    calls = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        step()
        calls += 1
    cpu = time.process_time() - cpu_start
    return calls * frames_per_call / elapsed, calls * frames_per_call / cpu


def synthetic_block(size: int, n: int, rng: np.random.Generator) -> FrameBlock:
    """Camera-like 12-bit frames: a probe level with shot noise around 2500 counts."""
    data = rng.normal(2500.0, 8.0, (n, size, size)).astype(np.uint16)
    return FrameBlock(
        data=data,
        frame_id=np.arange(n, dtype=np.int64),
        timestamp_s=np.arange(n) / 1000.0,
        pump_on=np.arange(n) % 2 == 0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    parser.add_argument("--block", type=int, default=64, help="frames per block at 256x256")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    print(
        f"{'frame':>10} {'block':>6} {'fps 1 thread':>13} {'fps 2 threads':>14} "
        f"{'(per cpu s)':>12} {'copy fps':>12} {'ratio':>7}"
    )
    for size in SIZES:
        # Same bytes per block at every size (block of 64 frames at 256x256 = 8 MiB).
        n = max(2, args.block * 256 * 256 // (size * size))
        block = synthetic_block(size, n, rng)
        dark = np.full((size, size), 100.0)
        tags = block.pump_on
        assert tags is not None
        rates = []
        for threads in (1, 2):
            acc = DifferentialAccumulator(
                (size, size),
                dark,
                normalise=True,
                norm_mask=border_mask((size, size)),
                threads=min(threads, max_threads()),
            )
            rates.append(rate(partial(acc.add, block, tags), n, args.seconds))
        (one, _), (two, two_cpu) = rates
        copy, _ = rate(block.data.copy, n, args.seconds)
        best = max(one, two)
        print(
            f"{size:>4}x{size:<5} {n:>6} {one:>13,.0f} {two:>14,.0f} {two_cpu:>12,.0f} "
            f"{copy:>12,.0f} {copy / best:>7.1f}"
        )


if __name__ == "__main__":
    main()
