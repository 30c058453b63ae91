"""``tamrig reprocess FILE.h5 --out NEW.h5``: re-form ΔT/T from a scan's recorded raw frames.

Another ROI, pixel binning, hot-pixel repair, outlier-frame rejection or drift correction
(the ROI follows the spot); the result is a new scan file, analysed like any other, whose
metadata name the source file and these settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tamrig.errors import EXIT_OK, InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.h5", help="scan recorded with raw frames")
    parser.add_argument("--out", required=True, metavar="NEW.h5", help="the new scan file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument(
        "--roi", type=int, nargs=4, metavar=("Y", "X", "H", "W"), help="pixels of the frame"
    )
    parser.add_argument("--bin", type=int, default=1, help="sum N×N pixels into one")
    parser.add_argument(
        "--hot-pixels", type=float, metavar="K", help="repair pixels whose dark level is K σ off"
    )
    parser.add_argument(
        "--outliers", type=float, metavar="K", help="drop frames whose level is K σ off"
    )
    parser.add_argument("--drift", action="store_true", help="ROI follows the fitted spot")
    parser.add_argument("--chunk-frames", type=int, default=256, help="frames read at a time")


def run(args: argparse.Namespace) -> int:
    from tamrig.campaign.reprocess import ReprocessSettings, reprocess

    source, out = Path(args.file), Path(args.out)
    if not source.is_file():
        raise InputError("no such file", file=source, expected="a scan file with raw frames")
    if out.resolve() == source.resolve():
        raise InputError("is the source file", field="--out", expected="a new file name")
    if out.exists() and not args.overwrite:
        raise InputError("exists", file=out, expected="a new file, or --overwrite")
    settings = ReprocessSettings(
        roi=None if args.roi is None else tuple(args.roi),
        binning=args.bin,
        hot_pixel_sigma=args.hot_pixels,
        outlier_sigma=args.outliers,
        drift=args.drift,
        chunk_frames=args.chunk_frames,
    )
    result = reprocess(source, out, settings, overwrite=args.overwrite)
    print(
        f"{result.path}: {result.n_points} points re-formed from {result.n_frames} frames "
        f"({result.n_rejected} rejected as outliers, {result.hot_pixels} hot pixels repaired)"
    )
    return EXIT_OK
