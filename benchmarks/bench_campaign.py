"""Campaign throughput (files per second against Dask workers) and raw-frame reprocessing
(frames per second).

A simulated campaign (the paper's five samples at three fluences, 15 files, reduced size
unless ``--folder`` names real scans) is analysed from scratch (empty cache) in this process
(``--workers 0``: no Dask) and on LocalClusters of 1, 2, ... worker processes; the time to
start a cluster (and import the analysis in each worker) is shown apart. Then a scan
recorded with raw frames is re-formed with default settings and with binning, hot-pixel
repair and outlier rejection.

    python benchmarks/bench_campaign.py [--folder SCANS] [--workers 0 1 2]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulators.campaign import SAMPLES, SMALL, Size, write_campaign
from tamrig.campaign.execution import dask_client
from tamrig.campaign.reprocess import ReprocessSettings, reprocess
from tamrig.campaign.runner import run_campaign
from tamrig.process import tune

#: a raw-frame scan with enough frames to time: 17 points of 200 frames of 64×64
RAW_SIZE = Size(delays=SMALL.delays, pairs_at_018=100, sweeps=1, dark_frames=50)


def campaign_rates(scans: Path, workers: list[int], work: Path) -> list[dict[str, Any]]:
    out = []
    for n in workers:
        report = work / f"report-{n}"
        if n == 0:
            start, t0, c0 = 0.0, time.perf_counter(), time.process_time()
            result = run_campaign([scans], report, draw=False)
            elapsed = time.perf_counter() - t0
            cpu = time.process_time() - c0
        else:
            t_start = time.perf_counter()
            with dask_client(workers=n) as client:
                client.wait_for_workers(n)
                # each worker imports the analysis once (numpy, scipy, h5py): startup cost
                client.run(importlib.import_module, "tamrig.campaign.task")
                start = time.perf_counter() - t_start
                before = client.run(time.process_time)
                t0, c0 = time.perf_counter(), time.process_time()
                result = run_campaign([scans], report, client=client, draw=False)
                elapsed = time.perf_counter() - t0
                after = client.run(time.process_time)
                # the workers' CPU time plus this process's (discovery, hashing, table)
                cpu = sum(after[w] - before[w] for w in after) + time.process_time() - c0
        out.append(
            {
                "workers": n,
                "files": result.n_files,
                "series": result.n_series,
                "seconds": elapsed,
                "files_per_s": result.n_files / elapsed,
                "files_per_cpu_s": result.n_files / cpu,
                "cluster_start_s": start,
            }
        )
    return out


def reprocess_rates(work: Path) -> list[dict[str, Any]]:
    (scan,) = write_campaign(
        work / "raw", samples=SAMPLES[:1], n_abs=(0.18,), size=RAW_SIZE, raw_frames=True
    )
    out = []
    for name, settings in (
        ("default (as recorded)", ReprocessSettings()),
        (
            "bin 2, hot pixels, outlier frames",
            ReprocessSettings(binning=2, hot_pixel_sigma=8.0, outlier_sigma=6.0),
        ),
    ):
        t0 = time.perf_counter()
        result = reprocess(scan, work / "re.h5", settings, overwrite=True)
        elapsed = time.perf_counter() - t0
        frames = result.n_frames + result.n_rejected
        out.append({"settings": name, "frames": frames, "frames_per_s": frames / elapsed})
    return out


def measure(
    folder: Path | None = None, workers: tuple[int, ...] = (0, 1, 2)
) -> dict[str, list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scans = folder
        if scans is None:
            write_campaign(work / "campaign", size=SMALL)
            scans = work / "campaign" / "scans"
        return {
            "campaign": campaign_rates(scans, list(workers), work),
            "reprocess": reprocess_rates(work),
        }


def main() -> None:
    tune()  # as the tamrig command runs
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, help="scan files to analyse (default: simulated)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    r = measure(args.folder, tuple(args.workers))
    load = os.getloadavg()[0]
    print(f"campaign analysis ({os.cpu_count()} cores, load {load:.1f}):")
    for row in r["campaign"]:
        where = "in-process" if row["workers"] == 0 else f"{row['workers']} worker(s)"
        print(
            f"  {where:>12}: {row['files']} files / {row['series']} series in "
            f"{row['seconds']:.1f} s = {row['files_per_s']:.2f} files/s, "
            f"{row['files_per_cpu_s']:.2f} per CPU-second"
            + (f" (cluster start {row['cluster_start_s']:.1f} s)" if row["workers"] else "")
        )
    print("raw-frame reprocessing (64×64 frames):")
    for row in r["reprocess"]:
        print(f"  {row['settings']:>34}: {row['frames_per_s']:,.0f} frames/s ({row['frames']})")


if __name__ == "__main__":
    main()
