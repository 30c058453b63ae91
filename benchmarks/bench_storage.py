"""Scan-file write costs: write_point per point, image compression per stack, raw frames.

1. write_point, the points of a real scan: the PointRecords of a zero-time scan on the
   simulated rig (the demo's 64² ROI, 50 pump-on/off pairs per point) are replayed through
   ScanWriter into the current file format and into format 1 (every per-point column a
   dataset of its own, every image stack deflated), alternating; CPU per point (the
   calling thread's) is the steady figure on a loaded machine.
2. Per image stack of those records: what shuffle + gzip level 1 makes of an image (size /
   raw) and its CPU, next to a stored (level-0) stream and a plain copy; and how the
   current format stores the stack.
3. write_point at 64², 256² and 512² with synthetic images (wall and CPU).
4. Raw-frame recording throughput versus a plain sequential write of the same bytes:
   camera-sized uint16 frames through ScanWriter.write_frames (flushed once every
   ``--frames-per-point`` frames, as the per-point flush of a scan does) and the same bytes
   with plain ``file.write`` to the same folder; the order alternates between runs. Both
   timings include an fsync, so they measure the disk, not the page cache (target:
   >= 80 %).

    python benchmarks/bench_storage.py [--dir DIR] [--size 800] [--frames 1000] [--block 20]
        [--points 150]
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tamrig.devices.camera import FrameBlock
from tamrig.process import tune
from tamrig.records import DifferentialImage, GaussianFit, PointRecord
from tamrig.storage import ScanMetadata, ScanWriter, chunks
from tamrig.storage import layout as L
from tamrig.storage.rows import point_row


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


def bench_points(path: Path, shape: tuple[int, int], n_points: int) -> tuple[list[float], float]:
    """Seconds per write_point (eight float32 images, the point's columns, two flushes) and
    the median CPU seconds per point; synthetic images: a probe spot with noise."""
    rng = np.random.default_rng(1)
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    probe = 2000.0 * np.exp(-((x - w / 2) ** 2 + (y - h / 2) ** 2) / (2 * (w / 4) ** 2))
    on, off = (probe + rng.normal(0, 5, shape) for _ in range(2))
    errors = [np.abs(rng.normal(1, 0.1, shape)) for _ in range(2)]
    dtt = rng.normal(0, 1e-4, shape)
    image = DifferentialImage(
        dtt=dtt,
        dtt_err=np.abs(rng.normal(1e-4, 1e-5, shape)),
        on_mean=on,
        off_mean=off,
        on_err=errors[0],
        off_err=errors[1],
        n_on=100,
        n_off=100,
    )
    fit = GaussianFit(250.0, 1.0, 10.0, 10.0, 1e-3, 0.0)
    times, cpu = [], []
    with ScanWriter.create(path, _metadata(shape, n_points)) as writer:
        for i in range(n_points):
            record = PointRecord(i, (0, 0, 0, i), 0.0, 0.0, "b", 1.0, 0.01, 0.0, 800.0, image, fit)
            t0, c0 = time.perf_counter(), time.thread_time()
            writer.write_point(record)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    path.unlink()
    return times, float(np.median(cpu))


def simulated_records(points: int) -> tuple[ScanMetadata, list[PointRecord]]:
    """The PointRecords a zero-time scan on the simulated rig hands to its writer."""
    from bench_engine import bench_plan

    from tamrig.engine.session import start_scan
    from tamrig.rig import build_rig

    records: list[PointRecord] = []
    rig = build_rig(overrides={"time_scale": 0.0})
    rig.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="tamrig-bench-") as folder:
            out = Path(folder) / "sim.h5"
            with start_scan(bench_plan(points, 50), out=out, rig=rig, overwrite=True) as scan:
                write = scan.writer.write_point

                def keep(record: PointRecord) -> None:
                    records.append(record)
                    write(record)

                scan.writer.write_point = keep  # type: ignore[method-assign]
                metadata = scan.writer.metadata
                scan.run()
    finally:
        rig.shutdown()
    return metadata, records


def replay_cpu(folder: Path, md: ScanMetadata, records: list[PointRecord], version: int) -> float:
    """Mean CPU ms per write_point replaying ``records`` into a file of format ``version``
    (the first ten points, which pay for the dark frame and warm-up, left out)."""
    path = folder / f"replay-v{version}.h5"
    cpu = []
    with ScanWriter.create(path, md, overwrite=True, format_version=version) as writer:
        for record in records:
            c0 = time.thread_time()
            writer.write_point(record)
            cpu.append(time.thread_time() - c0)
    path.unlink()
    return float(np.mean(cpu[10:])) * 1e3


def compression_table(records: list[PointRecord], md: ScanMetadata) -> list[dict[str, object]]:
    """Per image stack: gzip-1 (with shuffle) size / raw, its CPU µs per image, a stored
    level-0 stream's and a plain copy's, and how the current format stores the stack."""
    rows = [point_row(r, md) for r in records[10:110]]

    def cpu_us(fn: object, images: list[np.ndarray]) -> float:
        best = np.inf
        for _ in range(3):
            c0 = time.thread_time()
            for image in images:
                fn(image)  # type: ignore[operator]
            best = min(best, time.thread_time() - c0)
        return float(best / len(images) * 1e6)

    out = []
    for path, _, _ in L.IMAGE_STACKS:
        images = [np.ascontiguousarray(r.images[path], dtype=L.IMAGE_DTYPE) for r in rows]
        raw = images[0].nbytes
        sizes = [len(chunks.encode(im, 1)) for im in images]
        out.append(
            {
                "stack": path.rsplit("/", 1)[1],
                "ratio": float(np.mean(sizes)) / raw,
                "gzip1_us": cpu_us(lambda im: chunks.encode(im, 1), images),
                "stored_us": cpu_us(lambda im: chunks.encode(im, chunks.STORED), images),
                "copy_us": cpu_us(lambda im: im.tobytes(), images),
                "stored_as": "shuffle + gzip, measured" if path in L.DEFLATED_STACKS else "raw",
            }
        )
    return out


def measure_points(folder: Path, points: int = 150, repeats: int = 3) -> dict[str, object]:
    """write_point CPU per point, format 1 vs the current one, and the compression table."""
    md, records = simulated_records(points)
    v1, v2 = [], []
    for r in range(repeats):
        for version in (1, L.FORMAT_VERSION) if r % 2 == 0 else (L.FORMAT_VERSION, 1):
            (v1 if version == 1 else v2).append(replay_cpu(folder, md, records, version))
    return {
        "points": len(records),
        "write_point_v1_cpu_ms": float(np.median(v1)),
        "write_point_cpu_ms": float(np.median(v2)),
        "stacks": compression_table(records, md),
    }


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
        times, cpu = bench_points(where / "points.h5", (s, s), 20)
        out[f"write_point_{s}_ms"] = float(np.median(times)) * 1e3
        out[f"cpu_point_{s}_ms"] = cpu * 1e3
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
    parser.add_argument("--points", type=int, default=150, help="simulated scan points")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="tamrig-bench-") as folder:
        p = measure_points(args.dir or Path(folder), args.points)
    print(
        f"write_point, {p['points']} points of a simulated 64² scan replayed, CPU per point: "
        f"{p['write_point_cpu_ms']:.2f} ms (format {L.FORMAT_VERSION}: columns in one table, "
        f"noise stacks unfiltered) vs {p['write_point_v1_cpu_ms']:.2f} ms (format 1)"
    )
    print("stack           gzip-1 size/raw  gzip-1 CPU  stored CPU  copy CPU  stored as")
    for row in p["stacks"]:  # type: ignore[attr-defined]
        print(
            f"{row['stack']:15s} {row['ratio']:15.2f} {row['gzip1_us']:8.0f} µs "
            f"{row['stored_us']:8.0f} µs {row['copy_us']:6.0f} µs  {row['stored_as']}"
        )
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
            print(
                f"write_point of a {s}x{s} point (8 images + row, 2 flushes): {value:.1f} ms "
                f"wall, {r[f'cpu_point_{s}_ms']:.1f} ms CPU"
            )


if __name__ == "__main__":
    main()
