"""Throughput of the GenICam driver on the viky.cti test producer: frames/s and drops.

Usage: python benchmarks/camera_viky.py [--width 800] [--seconds 3] [--buffers 32]
"""

from __future__ import annotations

import argparse
import time

from drivers.genicam_camera import GenICamCamera, GenICamSettings
from tamrig.devices import Roi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--buffers", type=int, default=32)
    parser.add_argument("--block", type=int, default=50)
    args = parser.parse_args()
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
        t0 = time.perf_counter()
        cam.start()
        t_start = time.perf_counter() - t0
        frames = dropped = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            block = cam.read(args.block, timeout_s=5.0)
            frames += len(block)
            dropped += block.dropped
        elapsed = time.perf_counter() - t0
        t1 = time.perf_counter()
        cam.stop()
        t_stop = time.perf_counter() - t1
    finally:
        cam.disconnect()
    print(
        f"{args.width}x{args.width} Mono8: {frames} frames in {elapsed:.2f} s = "
        f"{frames / elapsed:.1f} fps, dropped {dropped}; start {t_start * 1e3:.0f} ms, "
        f"stop {t_stop * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
