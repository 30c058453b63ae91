"""Overnight-style soak: many sweeps of a small scan at simulated time scale 0.

Memory (resident set size) and the data file's size are sampled after every sweep. After a
warm-up the process must not keep growing (the live monitor and the writer hold only what a
point needs), and the file must grow by the same amount per sweep (linear in points, nothing
else accumulating). The figures are printed (``-rA`` / ``-s``).
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest
from harness_engine import write_plan, write_rig

from tamrig.engine import SweepDone
from tamrig.engine.session import start_scan
from tamrig.rig import build_rig
from tamrig.storage import open_scan

SWEEPS = 40
WARM_UP = 8  # samples (one per finished curve of a sweep)


def rss_bytes() -> int:
    """Resident set size of this process (psutil when installed, else /proc)."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    pytest.skip("no way to read the resident set size on this platform")


@pytest.mark.slow
def test_soak_memory_flat_and_file_linear(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, sweeps=SWEEPS)
    out = tmp_path / "soak.h5"
    rss: list[int] = []
    size: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, SweepDone):
            gc.collect()
            rss.append(rss_bytes())
            size.append(out.stat().st_size)

    with (
        build_rig(write_rig(tmp_path)) as rig,
        start_scan(plan, out=out, rig=rig, subscribers=[on_event]) as scan,
    ):
        assert scan.run() == "finished"
        total = len(scan.resolved.points)
    with open_scan(out) as f:
        assert len(f.indices()) == total
        image_bytes = f.dtt(0).nbytes
    per_sample = total / len(rss)  # points between two samples

    steady_rss = np.array(rss[WARM_UP:], dtype=float)
    steady_size = np.array(size[WARM_UP:], dtype=float)
    samples = np.arange(steady_rss.size, dtype=float)
    rss_per_point = float(np.polyfit(samples, steady_rss, 1)[0]) / per_sample
    growth = np.diff(steady_size)
    file_per_point = float(np.median(growth)) / per_sample
    print(
        f"\nsoak: {SWEEPS} sweeps, {total} points; RSS {rss[0] / 2**20:.1f} MiB at the first "
        f"sample, {rss[WARM_UP] / 2**20:.1f} MiB after warm-up, {rss[-1] / 2**20:.1f} MiB at "
        f"the end (trend {rss_per_point / 2**10:+.2f} KiB/point); file {size[-1] / 2**20:.2f} "
        f"MiB, {file_per_point / 2**10:.1f} KiB/point (one ΔT/T image: "
        f"{image_bytes / 2**10:.1f} KiB)"
    )
    # memory: a leak of one image per point would trend at image_bytes per point
    assert rss_per_point < 0.5 * image_bytes, rss
    assert rss[-1] - rss[WARM_UP] < 20 * 2**20, rss
    # file: grows with every curve by the same amount, linear in points
    assert (growth > 0).all(), size
    steady = np.abs(growth - np.median(growth)) <= 0.05 * np.median(growth)
    assert steady.mean() > 0.9, growth  # a rare step where HDF5 grows an index is fine
    assert size[-1] - size[WARM_UP] == pytest.approx(
        np.median(growth) * (len(size) - 1 - WARM_UP), rel=0.2
    )
