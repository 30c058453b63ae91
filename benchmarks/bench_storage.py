"""Raw-frame recording throughput versus a plain sequential write of the same bytes.

Records camera-sized uint16 frames through ScanWriter.write_frames (flushed once every
``--frames-per-point`` frames, as the per-point flush of a scan does) and writes the same
bytes with plain ``file.write`` to the same folder; the order alternates between runs.
Both timings include an fsync, so they measure the disk, not the page cache. Prints MB/s
of both and the fraction (target: >= 80 %), plus the rate a camera at full speed needs.

    python benchmarks/bench_storage.py [--dir DIR] [--size 800] [--frames 1000] [--block 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tamrig.devices.camera import FrameBlock
from tamrig.process import tune
from tamrig.records import DifferentialImage, GaussianFit, PointRecord
from tamrig.storage import ScanMetadata, ScanWriter


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _metadata(shape: tuple[int, int], n_points: int) -> ScanMetadata:
    return ScanMetadata(
        program_version="bench",
        rig_path="-",
        rig_text="",
        rig={},
        plan={"name": "bench"},
        devices={},
        image_shape=shape,
        pixel_size_nm=100.0,
        n_points_planned=n_points,
    )


def bench_hdf5(path: Path, blocks: list[FrameBlock], frames_per_point: int) -> float:
    """Frames through the scan writer, flushed (made visible to readers) once per point."""
    shape = blocks[0].data.shape[1:]
    n_frames = sum(len(b) for b in blocks)
    n_points = max(1, n_frames // frames_per_point)
    t0 = time.perf_counter()
    with ScanWriter.create(path, _metadata(shape, n_points), record_raw_frames=True) as writer:
        written, point = 0, 0
        for block in blocks:
            writer.write_frames(point, block)
            written += len(block)
            if written >= (point + 1) * frames_per_point:
                writer.flush()
                point += 1
    _fsync(path)
    return time.perf_counter() - t0


def bench_points(path: Path, shape: tuple[int, int], n_points: int) -> list[float]:
    """Seconds per write_point (eight compressed float32 images, the fit row, two flushes)."""
    rng = np.random.default_rng(1)
    noise = [rng.normal(0, 1e-4, shape) for _ in range(6)]
    image = DifferentialImage(*noise, n_on=100, n_off=100)
    fit = GaussianFit(250.0, 1.0, 10.0, 10.0, 1e-3, 0.0)
    times = []
    with ScanWriter.create(path, _metadata(shape, n_points)) as writer:
        for i in range(n_points):
            record = PointRecord(i, (0, 0, 0, i), 0.0, 0.0, "b", 1.0, 0.01, 0.0, 800.0, image, fit)
            t0 = time.perf_counter()
            writer.write_point(record)
            times.append(time.perf_counter() - t0)
    path.unlink()
    return times


def bench_plain(path: Path, blocks: list[FrameBlock]) -> float:
    t0 = time.perf_counter()
    with path.open("wb") as handle:
        for block in blocks:
            handle.write(block.data.tobytes())
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - t0


def measure(
    folder: Path | None = None,
    size: int = 800,
    frames: int = 1000,
    block: int = 20,
    frames_per_point: int = 200,
    repeats: int = 5,
    point_sizes: tuple[int, ...] = (64, 256, 512),
    verbose: bool = False,
) -> dict[str, float]:
    """Medians of ``repeats`` paired runs, and the median write_point time per image size."""
    rng = np.random.default_rng(0)
    shape = (size, size)
    pool = rng.integers(0, 4096, (block, *shape), dtype=np.uint16)
    blocks = []
    for k in range(frames // block):
        ids = np.arange(k * block, (k + 1) * block, dtype=np.int64)
        blocks.append(FrameBlock(pool, ids, ids / 200.0, ids % 2 == 0))
    mb = sum(b.data.nbytes for b in blocks) / 1e6
    own = folder is None
    where = Path(tempfile.mkdtemp(prefix="tamrig-bench-")) if folder is None else folder
    where.mkdir(parents=True, exist_ok=True)
    if verbose:
        print(f"{len(blocks) * block} frames of {size}x{size} uint16 = {mb:.0f} MB in {where}")
    h5_rates, plain_rates, fractions = [], [], []
    for r in range(repeats):
        h5 = where / f"bench{r}.h5"
        raw = where / f"bench{r}.bin"
        if r % 2:
            t_h5 = bench_hdf5(h5, blocks, frames_per_point)
            t_plain = bench_plain(raw, blocks)
        else:
            t_plain = bench_plain(raw, blocks)
            t_h5 = bench_hdf5(h5, blocks, frames_per_point)
        plain_rates.append(mb / t_plain)
        h5_rates.append(mb / t_h5)
        fractions.append(t_plain / t_h5)
        if verbose:
            print(
                f"run {r}: plain {mb / t_plain:8.1f} MB/s   raw-frame recording "
                f"{mb / t_h5:8.1f} MB/s   ({t_plain / t_h5:.0%})"
            )
        h5.unlink()
        raw.unlink()
    out = {
        "plain_mb_s": float(np.median(plain_rates)),
        "h5_mb_s": float(np.median(h5_rates)),
        "fraction": float(np.median(fractions)),
    }
    for s in point_sizes:
        times = bench_points(where / "points.h5", (s, s), 20)
        out[f"write_point_{s}_ms"] = float(np.median(times)) * 1e3
    if own:
        where.rmdir()
    return out


def main() -> None:
    tune()  # as the tamrig command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="folder on the disk to test")
    parser.add_argument("--size", type=int, default=800, help="square frame size (pixels)")
    parser.add_argument("--frames", type=int, default=1000, help="frames to record")
    parser.add_argument("--block", type=int, default=20, help="frames per camera read")
    parser.add_argument("--frames-per-point", type=int, default=200)
    parser.add_argument("--fps", type=float, default=200.0, help="camera full frame rate")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    r = measure(
        args.dir,
        args.size,
        args.frames,
        args.block,
        args.frames_per_point,
        args.repeats,
        verbose=True,
    )
    need = args.fps * args.size * args.size * 2 / 1e6
    print(f"median: plain {r['plain_mb_s']:.1f} MB/s, raw-frame recording {r['h5_mb_s']:.1f} MB/s")
    print(
        f"fraction of plain sequential write: {r['h5_mb_s'] / r['plain_mb_s']:.0%} of the "
        f"medians, {r['fraction']:.0%} median of paired runs (target >= 80 %)"
    )
    headroom = r["h5_mb_s"] / need
    print(f"camera at {args.fps:.0f} fps needs {need:.1f} MB/s: headroom x{headroom:.1f}")
    for key, value in r.items():
        if key.startswith("write_point_"):
            s = key.split("_")[2]
            print(f"write_point of a {s}x{s} point (8 images + row, 2 flushes): {value:.1f} ms")


if __name__ == "__main__":
    main()
