"""``tamrig gui [--rig RIG.toml]``: the operator window (no --rig: the simulated rig)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rig", help="rig file (default: the simulated rig)")


def run(args: argparse.Namespace) -> int:
    from tamrig.gui.app import run_gui

    return run_gui(args.rig)
