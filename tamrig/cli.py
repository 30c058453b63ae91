"""``tamrig`` command line: one sub-command per module in ``tamrig.commands``.

Sub-command modules are imported only when used so ``tamrig --help`` stays fast. Errors map
to the exit codes of docs/architecture.md: 2 invalid input (no traceback), 1 hardware fault (safe
state reached), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from tamrig import __version__
from tamrig.errors import EXIT_INPUT, EXIT_INTERRUPTED, TamrigError
from tamrig.process import tune

#: sub-command -> (module in tamrig.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "devices": ("devices", "list each device of a rig with its identity and state"),
    "scan": ("scan", "run a scan plan (delay x fluence x probe wavelength)"),
    "queue": ("queue", "run several scan plans in order, each into its own file"),
    "analyze": ("analyze", "transport analysis of a data file: MSD, D(t), regimes, figures"),
    "calibrate": ("calibrate", "calibrate the pump attenuator against the power meter"),
    "gui": ("gui", "open the operator window"),
    "campaign": ("campaign", "analyse a campaign of scan files in parallel: table and figures"),
    "reprocess": ("reprocess", "re-form ΔT/T from a scan's raw frames (ROI, binning, outliers)"),
    "recover": ("recover", "let any HDF5 program open scan files whose writer was killed"),
    "init": ("init", "write editable copies of the example rigs and scan plans into a folder"),
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors with exit code 2 and our message style."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"tamrig: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def build_parser(command: str | None = None) -> ArgumentParser:
    parser = ArgumentParser(
        prog="tamrig",
        description="Run a transient absorption microscopy rig: scans, live Gaussian-width "
        "monitor, HDF5 data and transport analysis. Without --rig, the simulated rig is used.",
    )
    parser.add_argument("--version", action="version", version=f"tamrig {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name, (module_name, help_text) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:  # only the chosen command's module is imported
            module = importlib.import_module(f"tamrig.commands.{module_name}")
            module.add_arguments(sp)
    return parser


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if a in COMMANDS), None)
    parser = build_parser(command)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    tune()
    module = importlib.import_module(f"tamrig.commands.{COMMANDS[args.command][0]}")
    try:
        return int(module.run(args))
    except TamrigError as exc:
        print(f"tamrig {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"tamrig {args.command}: interrupted; rig left in its safe state", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        if argv is None:  # a process of its own, about to exit: a late Ctrl-C stops nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)
