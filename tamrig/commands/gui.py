"""``tamrig gui [--rig RIG.toml] [--time-scale X]``: the operator window (no --rig: the
simulated rig). ``--time-scale 1`` runs the simulated rig in real time, so a scan can be
shown at the pace it would have at the real instrument."""

from __future__ import annotations

import argparse
import math
from typing import Any

from tamrig.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rig", help="rig file (default: the simulated rig)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        metavar="X",
        help="simulated rig only: real seconds per simulated second (0 = instantaneous, "
        "1 = real time; default: the rig file's)",
    )


def run(args: argparse.Namespace) -> int:
    from tamrig.gui.app import run_gui

    overrides: dict[str, Any] | None = None
    if args.time_scale is not None:
        if not math.isfinite(args.time_scale) or args.time_scale < 0:
            raise InputError(
                f"--time-scale {args.time_scale:g} is not allowed",
                field="--time-scale",
                expected="a number >= 0 (0 = instantaneous, 1 = real time)",
            )
        overrides = {"time_scale": args.time_scale}
    return run_gui(args.rig, overrides=overrides)
