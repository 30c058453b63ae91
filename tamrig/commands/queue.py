"""``tamrig queue PLAN… --out-dir DIR``: run several plans in order, each into its own file.

Every plan is checked before anything moves (a bad plan: exit 2, nothing run). The queue
state is ``DIR/queue.json``: run the same command again after an interruption and it skips
the finished plans, resumes the interrupted one in its file and goes on. Exit codes as
``tamrig scan``: 0 all finished, 1 a plan ended in a fault (the queue stops there: the rig
needs the operator), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from tamrig.errors import EXIT_FAULT, EXIT_INTERRUPTED, EXIT_OK, DeviceFault, InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plans", nargs="*", metavar="PLAN", help="scan plans (TOML), in order")
    parser.add_argument("--out-dir", required=True, help="folder for the data files and queue.json")
    parser.add_argument("--rig", help="rig file (default: the simulated rig)")
    parser.add_argument(
        "--max-retries", type=int, default=3, help="retries of a failing device (default 3)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tamrig.commands.scan import ProgressView, _signals_abort, scan_progress
    from tamrig.plan import load_plan
    from tamrig.rig import build_rig
    from tamrig.scanqueue import ScanQueue, open_entry

    if args.max_retries < 0:
        raise InputError("must be >= 0", field="--max-retries", expected="a count such as 3")
    for plan in args.plans:  # every plan checked before the rig is touched
        load_plan(plan)
    queue = ScanQueue(args.out_dir)
    for plan in args.plans:
        queue.add(plan)
    if not queue.entries:
        raise InputError("nothing to run", field="PLAN", expected="one or more plan files")
    console = Console(stderr=True)
    status = "finished"
    signals: list[int] = []
    with build_rig(args.rig) as rig:
        while (entry := queue.next_entry()) is not None:
            console.print(f"[bold]{entry.plan}[/bold] -> {entry.out}")
            queue.mark(entry, "running")
            progress = scan_progress(console, quiet=args.quiet)
            try:
                scan = open_entry(entry, rig, max_retries=args.max_retries)
                with scan:
                    scan.subscribe(ProgressView(progress, scan.plan.sweeps.count))
                    with progress, _signals_abort(scan) as signals:
                        status = scan.run()
            except InputError as exc:  # e.g. the rig refuses this plan: the others still run
                queue.mark(entry, "error", str(exc))
                console.print(f"[red]refused[/red]: {exc}")
                continue
            except DeviceFault as exc:
                queue.mark(entry, "fault", str(exc))
                print(f"tamrig queue: {exc}; queue stopped ({queue.summary()})", file=sys.stderr)
                return EXIT_FAULT
            queue.mark(entry, status)
            if status != "finished":
                break
    print(f"queue {queue.out_dir}: {queue.summary()}")
    for entry in queue.entries:
        print(
            f"  {entry.status:<9} {entry.out}" + (f"  ({entry.message})" if entry.message else "")
        )
    if status == "aborted" and signals:
        return EXIT_INTERRUPTED
    if any(e.status in ("error", "fault") for e in queue.entries) or status != "finished":
        return EXIT_FAULT
    return EXIT_OK
