"""Deterministic scan records and a writer process for the storage tests.

Run as a script it is the "scan" whose file the tests read, kill or starve of disk:
    python storage_support.py write PATH N [--lockstep] [--raw] [--fsize BYTES]
        [--kill-after-ops K] [--kill-after-s SECONDS] [--resume]
It prints ``done <index>`` after each point is flushed, ``storage-error <msg>`` on a
StorageError (exit 1).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tamrig.devices.camera import FrameBlock  # noqa: E402
from tamrig.records import (  # noqa: E402
    DifferentialImage,
    GaussianFit,
    PointRecord,
    TransportPoint,
)
from tamrig.storage import ScanMetadata  # noqa: E402

SHAPE = (12, 10)
DELAYS = (-100.0, 0.0, 500.0, 2000.0, 10000.0)


def make_metadata(n_points: int = 20, shape: tuple[int, int] = SHAPE) -> ScanMetadata:
    return ScanMetadata(
        program_version="0.1.0",
        rig_path="config/rigs/simulated.toml",
        rig_text='[rig]\nname = "sim"  # ΔT/T rig\n',
        rig={"rig": {"name": "sim"}, "devices": {"stage": {"kind": "sim-stage"}}},
        plan={"name": "unit-test", "delays_fs": list(DELAYS), "repeats": 2},
        devices={
            "stage": {"velocity_mm_s": 5.0, "limits_mm": [0.0, 150.0]},
            "camera": {"exposure_us": 200.0, "roi": {"x": 0, "y": 0}},
        },
        image_shape=shape,
        pixel_size_nm=120.0,
        n_points_planned=n_points,
        calibration={"law": "malus", "max_fluence_uj_cm2": 40.0},
        sample={"name": "PbS QD film", "thickness_nm": 80},
        extra={"operator": "unit test"},
        position_names=("stage_mm", "attenuator_deg"),
    )


def make_record(i: int, md: ScanMetadata, *, fit: bool = True) -> PointRecord:
    """Point ``i``: every number derived from ``i`` so any reader can recompute it."""
    rng = np.random.default_rng(1000 + i)
    h, w = md.image_shape
    y, x = np.mgrid[0:h, 0:w]
    sigma_px = 2.0 + 0.1 * i
    g = 1e-3 * np.exp(-((x - w / 2) ** 2 + (y - h / 2) ** 2) / (2 * sigma_px**2))
    dtt = g + rng.normal(0, 1e-5, (h, w))
    image = DifferentialImage(
        dtt=dtt,
        dtt_err=np.full((h, w), 1e-5),
        on_mean=1000 + rng.normal(0, 1, (h, w)),
        off_mean=1000 + rng.normal(0, 1, (h, w)),
        on_err=np.full((h, w), 0.5),
        off_err=np.full((h, w), 0.5),
        n_on=50,
        n_off=50,
        dark_mean=np.full((h, w), 100.0) if i % 2 == 0 else None,
        dark_err=np.full((h, w), 0.1) if i % 2 == 0 else None,
        dropped_frames=i % 3,
    )
    sigma_nm = sigma_px * md.pixel_size_nm
    gfit = GaussianFit(
        sigma_nm=sigma_nm,
        sigma_err_nm=1.0 + 0.01 * i,
        x0_nm=w / 2 * md.pixel_size_nm,
        y0_nm=h / 2 * md.pixel_size_nm,
        amplitude=1e-3,
        offset=0.0,
        amplitude_err=1e-6,
        converged=i != 3,
        message="ok" if i != 3 else "max iterations",
    )
    sigma0 = 240.0
    msd = sigma_nm**2 - sigma0**2
    delay = DELAYS[i % len(DELAYS)]
    transport = TransportPoint(
        delay_fs=delay,
        sigma_nm=sigma_nm,
        sigma_err_nm=gfit.sigma_err_nm,
        sigma0_nm=sigma0,
        sigma0_err_nm=0.5,
        msd_nm2=msd,
        msd_err_nm2=2 * sigma_nm * gfit.sigma_err_nm,
        diffusivity_cm2_s=msd * 1e-14 / (2 * delay * 1e-15) if delay > 0 else float("nan"),
        diffusivity_err_cm2_s=0.001,
    )
    return PointRecord(
        index=i,
        grid=(i // len(DELAYS), 0, 0, i % len(DELAYS)),
        delay_fs=delay,
        delay_fs_measured=delay + 0.5,
        fluence_label="905nm/N=0.045",
        fluence_uj_cm2=16.1,
        n_abs=0.045,
        attenuator_setting=22.5,
        probe_wavelength_nm=905.0,
        image=image,
        fit=gfit if fit else None,
        transport=transport if fit and i % 5 != 0 else None,
        power_w=1e-4 * (1 + i) if i % 4 else None,
        positions={"stage_mm": 75.0 + i * 0.01, "attenuator_deg": 22.5, "filter_slot": 2.0},
        timestamp=1.7e9 + i,
        series="905nm/N=0.045",
        reference=i == 0,
        fluence_measured_uj_cm2=16.1 * (1 + 0.01 * i) if i % 4 else float("nan"),
    )


def make_frames(i: int, n: int, shape: tuple[int, int] = SHAPE) -> FrameBlock:
    rng = np.random.default_rng(i)
    return FrameBlock(
        data=rng.integers(0, 4096, (n, *shape), dtype=np.uint16),
        frame_id=np.arange(i * n, (i + 1) * n, dtype=np.int64),
        timestamp_s=np.arange(i * n, (i + 1) * n) / 200.0,
        pump_on=(np.arange(n) % 2 == 0),
    )


def _self_kill_after(ops: int) -> None:
    """SIGKILL this process at the ``ops``-th HDF5 resize/write/flush: any phase, exactly."""
    import h5py

    count = {"n": 0}

    def tick() -> None:
        count["n"] += 1
        if count["n"] >= ops:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(cls: type, name: str) -> None:
        original = getattr(cls, name)

        def wrapped(self: object, *args: object, **kwargs: object) -> object:
            tick()
            result = original(self, *args, **kwargs)
            tick()
            return result

        setattr(cls, name, wrapped)

    for name in ("resize", "__setitem__", "write_direct"):
        wrap(h5py.Dataset, name)
    wrap(h5py.File, "flush")
    # Point rows go through the writer's low-level grow-and-write helper.
    from tamrig.storage import writer

    append_row = writer._append_row

    def wrapped_append(*args: Any) -> None:
        tick()
        append_row(*args)
        tick()

    writer._append_row = wrapped_append  # type: ignore[assignment]
    # ... and the scalar columns through their open chunks.
    from tamrig.storage.columns import ColumnChunk

    wrap(ColumnChunk, "append")


def main(argv: list[str]) -> int:
    from tamrig.errors import StorageError
    from tamrig.storage import ScanWriter

    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["write"])
    parser.add_argument("path")
    parser.add_argument("n", type=int)
    parser.add_argument("--lockstep", action="store_true")
    parser.add_argument("--raw", action="store_true")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--fsize", type=int, default=0)
    parser.add_argument("--kill-after-ops", type=int, default=0)
    parser.add_argument("--no-space-check", action="store_true")
    parser.add_argument("--kill-after-s", type=float, default=0.0)
    parser.add_argument("--size", type=int, default=0, help="square image size")
    args = parser.parse_args(argv)
    if args.fsize:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of dying
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, args.fsize))
    if args.kill_after_ops:
        _self_kill_after(args.kill_after_ops)
    if args.kill_after_s:  # a moment that may fall inside HDF5's own C code
        import threading

        killer = threading.Timer(args.kill_after_s, os.kill, (os.getpid(), signal.SIGKILL))
        killer.daemon = True
        killer.start()
    md = make_metadata(args.n, (args.size, args.size) if args.size else SHAPE)
    try:
        if args.resume:
            writer = ScanWriter.resume(args.path)
        else:
            writer = ScanWriter.create(args.path, md, record_raw_frames=args.raw)
        writer.check_space = not args.no_space_check
        print("created", flush=True)
        with writer:
            for i in range(args.n):
                if i in writer.completed_indices():
                    continue
                if args.lockstep and sys.stdin.readline().strip() != "next":
                    break  # lockstep: each point waits for the reader's go-ahead
                if args.raw:
                    writer.write_frames(i, make_frames(i, 4, md.image_shape))
                writer.write_point(make_record(i, md))
                print(f"done {i}", flush=True)
            if args.lockstep:
                sys.stdin.readline()  # and finishing waits for one more go-ahead
    except StorageError as exc:
        print(f"storage-error {exc}", flush=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
