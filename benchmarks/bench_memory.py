"""Peak memory of a long acquisition: RSS must not grow with the number of frames.

Each run is a fresh subprocess that pushes N camera-like uint16 frames with pump tags
through ``DifferentialAccumulator`` (the running sums a point is reduced with) in blocks of
``--block`` frames and then forms ΔT/T, reporting its peak RSS (VmHWM) and the RSS
before the first frame (interpreter + numpy + tamrig). The frames come from a pool of
``--pool`` distinct random frames cycled with fresh frame ids, so generating them costs
nothing and any growth is the pipeline's. A small ROI (``--size``, by default the demo's
64×64) keeps 10⁶ frames to seconds; the accumulator's state does not depend on N, so the
ROI only sets the constant. Prints both peaks and their ratio (target: within ±10 %).

    python benchmarks/bench_memory.py [--frames 10000 1000000] [--size 32]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_mib() -> float:
    """This process's peak RSS. /proc's VmHWM belongs to the current program image;
    ru_maxrss would also carry the peak of the parent the process was forked from."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(frames: int, size: int, block: int, pool: int) -> dict[str, float]:
    """The measured run (in its own process)."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from tamrig.acquisition.accumulator import DifferentialAccumulator, border_mask
    from tamrig.devices import FrameBlock

    rng = np.random.default_rng(3)
    data = rng.integers(2480, 2520, (pool, size, size), dtype=np.uint16)  # no float temp
    tags = np.arange(block) % 2 == 0
    acc = DifferentialAccumulator(
        (size, size), np.full((size, size), 100.0), norm_mask=border_mask((size, size))
    )
    before = peak_mib()
    start = time.perf_counter()
    done = 0
    while done < frames:
        k = min(block, frames - done)
        first = done % pool
        if first + k > pool:
            first = 0
        ids = np.arange(done, done + k, dtype=np.int64)
        blk = FrameBlock(data[first : first + k], ids, ids / 1000.0, tags[:k])
        acc.add(blk, tags[:k])
        done += k
    image = acc.result()
    seconds = time.perf_counter() - start
    assert image.n_on + image.n_off == frames
    peak = peak_mib()
    return {
        "frames": frames,
        "seconds": seconds,
        "before_mib": before,
        "peak_mib": peak,
    }


def run(frames: int, size: int, block: int, pool: int) -> dict[str, float]:
    """``child`` in a fresh interpreter, so each peak is its own."""
    cmd = [sys.executable, __file__, "--child", str(frames), "--size", str(size)]
    cmd += ["--block", str(block), "--pool", str(pool)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(
    frames: tuple[int, int] = (10_000, 1_000_000), size: int = 64, block: int = 200
) -> dict[str, float]:
    small, large = (run(n, size, block, 1000) for n in frames)
    return {
        "size": size,
        "small_frames": small["frames"],
        "small_peak_mib": small["peak_mib"],
        "small_before_mib": small["before_mib"],
        "large_frames": large["frames"],
        "large_peak_mib": large["peak_mib"],
        "large_before_mib": large["before_mib"],
        "large_fps": large["frames"] / large["seconds"],
        "ratio": large["peak_mib"] / small["peak_mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs=2, default=[10_000, 1_000_000])
    parser.add_argument("--size", type=int, default=64, help="square ROI (pixels)")
    parser.add_argument("--block", type=int, default=200, help="frames per camera block")
    parser.add_argument("--pool", type=int, default=1000, help="distinct frames cycled")
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.size, args.block, args.pool)))
        return
    r = measure((args.frames[0], args.frames[1]), args.size, args.block)
    print(f"ROI {args.size}x{args.size}, blocks of {args.block} frames, fresh process per run")
    for key in ("small", "large"):
        print(
            f"{int(r[key + '_frames']):>9,} frames: peak RSS {r[key + '_peak_mib']:7.1f} MiB "
            f"(before the first frame {r[key + '_before_mib']:.1f} MiB)"
        )
    print(f"{int(r['large_frames']):,} frames at {r['large_fps']:,.0f} frames/s")
    print(f"peak ratio {r['ratio']:.3f} (target within 0.90-1.10)")


if __name__ == "__main__":
    main()
