"""``tamrig scan PLAN.toml``: run a scan plan with a live progress bar; ``--resume FILE.h5``.

Exit codes: 0 finished, 2 invalid plan/arguments (the message names the file
and field), 1 hardware fault after retries (safe state reached, data kept, file status
``fault``), 130 interrupted by Ctrl-C / SIGTERM (safe state reached, data kept, file status
``aborted``; continue it with ``--resume``).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from tamrig.errors import EXIT_FAULT, EXIT_INTERRUPTED, EXIT_OK, InputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from tamrig.engine import ScanEvent
    from tamrig.engine.session import Scan
    from tamrig.plan import ResolvedPlan, ScanPlan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", nargs="?", help="scan plan (TOML), e.g. config/scans/demo.toml")
    parser.add_argument("--rig", help="rig file (default: the simulated rig)")
    parser.add_argument("--out", help="data file to write (default: <plan name>-<time>.h5)")
    parser.add_argument(
        "--resume", metavar="FILE.h5", help="continue a killed or aborted scan in its file"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument(
        "--max-retries", type=int, default=3, help="retries of a failing device (default 3)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the plan against the rig and show what it would do: no file, no scan",
    )


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressView:
    """Turns engine events into a rich progress bar (points, sweeps, ETA, live σ)."""

    def __init__(self, progress: Progress, n_sweeps: int) -> None:
        self.progress = progress
        self.n_sweeps = n_sweeps
        self.task: TaskID | None = None

    def __call__(self, event: ScanEvent) -> None:
        from tamrig.engine import (
            Aborted,
            Fault,
            Notice,
            Paused,
            PointDone,
            Resumed,
            ScanStarted,
            SweepDone,
        )

        p = self.progress
        if isinstance(event, ScanStarted):
            self.task = p.add_task(
                event.plan_name,
                total=event.total_points,
                completed=event.completed_points,
                sweep=f"1/{event.n_sweeps}",
                eta=_fmt_eta(None),
                sigma="σ --",
            )
            if event.resumed:
                p.console.print(f"resuming: {event.completed_points} points already stored")
        elif isinstance(event, PointDone) and self.task is not None:
            fit = event.record.fit
            sigma = (
                f"σ {fit.sigma_nm:.0f}±{fit.sigma_err_nm:.0f} nm ({event.series})"
                if fit is not None and math.isfinite(fit.sigma_nm)
                else f"σ -- ({event.series})"
            )
            p.update(
                self.task,
                completed=event.done,
                sweep=f"{event.sweep + 1}/{event.n_sweeps}",
                eta=_fmt_eta(event.eta_s),
                sigma=sigma,
            )
        elif isinstance(event, SweepDone):
            p.console.print(f"sweep {event.sweep + 1}/{event.n_sweeps} done")
        elif isinstance(event, Fault):
            state = "giving up" if event.fatal else "retrying"
            p.console.print(
                f"[red]fault[/red] {event.device}: {event.message} "
                f"(attempt {event.attempt}/{event.max_attempts}, {state})"
            )
        elif isinstance(event, Notice):
            p.console.print(f"[yellow]{event.kind}[/yellow]: {event.message}")
        elif isinstance(event, Paused | Resumed | Aborted):
            p.console.print(f"{type(event).__name__.lower()}: {getattr(event, 'reason', '')}")


def _default_out(plan_name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in plan_name)
    return Path(f"{safe}-{stamp}.h5")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tamrig.engine.session import resume_scan, start_scan
    from tamrig.plan import load_plan
    from tamrig.storage.soundness import check_scan_file

    if args.max_retries < 0:
        raise InputError("must be >= 0", field="--max-retries", expected="a count such as 3")
    # Built before the scan exists: from the moment its file exists until the signal
    # handlers below are in place, nothing slow may run (a Ctrl-C there left it "running").
    console = Console(stderr=True)
    progress = scan_progress(console, quiet=args.quiet)
    scan: Scan
    if args.resume:
        if args.plan or args.out or args.overwrite or args.check:
            raise InputError(
                "--resume continues the stored plan into the same file",
                field="--resume",
                expected="no PLAN, --out, --overwrite or --check together with --resume",
            )
        report = check_scan_file(args.resume)  # read-only, before the rig or the file
        if report.complete:
            print(f"{args.resume}: finished, all {report.n_points} points stored; nothing to do")
            return EXIT_OK
        scan = resume_scan(args.resume, rig=args.rig, max_retries=args.max_retries)
    else:
        if not args.plan:
            raise InputError("no scan plan given", field="PLAN", expected="a plan file or --resume")
        plan = load_plan(args.plan)
        out = Path(args.out) if args.out else _default_out(plan.name)
        if args.check:
            return _check(plan, out, args.rig)
        scan = start_scan(
            plan, out=out, rig=args.rig, overwrite=args.overwrite, max_retries=args.max_retries
        )
    # The handlers stay until the file is closed: a late Ctrl-C cannot cut its final status.
    with _signals_abort(scan) as signals, scan:
        scan.subscribe(ProgressView(progress, scan.plan.sweeps.count))
        with progress:
            status = scan.run()
        done = len(scan.writer.completed_indices())
        print(f"{scan.path}: {status}, {done} of {len(scan.resolved.points)} points stored")
        _print_sigma0(scan)
    if signals and status == "aborted":
        print("tamrig scan: interrupted; rig left in its safe state", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if status == "finished" else EXIT_FAULT


def scan_progress(console: Console, *, quiet: bool) -> Progress:
    """The progress bar of a running scan: points, sweep, ETA, elapsed time and the live σ
    (the fields ProgressView updates)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sweep {task.fields[sweep]}"),
        TextColumn("ETA {task.fields[eta]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[sigma]}"),
        console=console,
        disable=quiet,
    )


@contextmanager
def _signals_abort(scan: Scan) -> Iterator[list[int]]:
    """Ctrl-C / SIGTERM while points run: the first stops the scan at its next safe check
    (between frame blocks: pump closed, the completed points kept); a second one interrupts
    at once unless the engine is already ending the scan; later ones are ignored, so no
    press cuts short the clean-up that logs why the scan ended and records the file's final
    status. Yields the signals received.

    An exception raised at an arbitrary instant can also land in a finaliser, where Python
    drops it and the scan would carry on; a flag the engine polls cannot be lost. The
    handler does nothing else that could collide with the code it interrupted: the notice
    is one raw write to stderr (printing through the progress console once re-entered a
    half-finished lazy import there).
    """
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 2:
            return  # already stopping at once; a third press must not cut the clean-up
        if len(received) == 2 and not scan.engine.ending:  # clean-up underway: let it finish
            raise KeyboardInterrupt(f"signal {signum}")
        scan.engine.abort(f"interrupted by {signal.Signals(signum).name}", kind="interrupted")
        with contextlib.suppress(OSError):
            os.write(2, b"stopping after the current frame block (Ctrl-C again: at once)\n")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _check(plan: ScanPlan, out: Path, rig: str | None) -> int:
    """``--check``: the pre-flight of a scan, then what the scan would do and cost."""
    from tamrig.engine.session import check_scan

    resolved, frame_period_s, precision = check_scan(plan, out=out, rig=rig)
    for line in plan_summary(resolved, frame_period_s, out):
        print(line)
    if precision is not None:
        for line in precision.lines():
            print(line)
    else:
        print("  precision: not predicted (the camera's noise model is unknown)")
    print("plan OK for this rig: no file written, no point measured")
    return EXIT_OK


def plan_summary(resolved: ResolvedPlan, frame_period_s: float, out: Path) -> list[str]:
    """Lines describing a checked plan: its grid, frames, camera time and data size."""
    from tamrig.plan.timing import camera_time_s, scan_frames

    plan, points = resolved.plan, resolved.points
    acq = plan.acquisition
    grid = [p.delay_fs for p in points if not p.reference]
    fluences = ", ".join(
        f.label
        + (
            f" ({f.fluence_uj_cm2:.3g} µJ/cm², N_abs {f.n_abs:.3g})"
            if math.isfinite(f.n_abs)
            else ""
        )
        for f in resolved.fluences
    )
    wavelengths = ", ".join("as set" if w is None else f"{w:g} nm" for w in resolved.wavelengths_nm)
    frames = scan_frames(plan, len(points))
    camera_s = camera_time_s(plan, frame_period_s, len(points))
    h, w = resolved.image_shape
    return [
        f"plan {plan.name!r} -> {out}",
        f"  points: {len(points)} ({plan.sweeps.count} sweep(s); "
        f"{len(set(grid))} delays from {_fmt_delay(min(grid))} to {_fmt_delay(max(grid))}; "
        f"{sum(p.reference for p in points)} reference points)",
        f"  fluences: {fluences}",
        f"  probe: {wavelengths}",
        f"  acquisition: {acq.scheme}, {acq.pairs_per_point} pairs per point, "
        f"{acq.dark_frames} dark frames, {h}x{w} ROI",
        f"  camera time: {frames} frames at {1 / frame_period_s:g} Hz = "
        f"{_fmt_eta(camera_s)} (stage moves and software not included)",
        f"  data: up to {resolved.expected_bytes / 2**20:.1f} MiB before compression",
    ]


def _fmt_delay(fs: float) -> str:
    for unit, scale in (("ns", 1e6), ("ps", 1e3)):
        if abs(fs) >= scale:
            return f"{fs / scale:g} {unit}"
    return f"{fs:g} fs"


def _print_sigma0(scan: Scan) -> None:
    """One line per curve: the live σ₀ (the reference width every MSD is taken from)."""
    from tamrig.analysis.monitor import LiveMonitor

    monitor = scan.engine.monitor
    if not isinstance(monitor, LiveMonitor):
        return
    monitor.settle()  # a stopped scan leaves points since the last refit
    for series in monitor.series():
        sigma0 = monitor.sigma0(series)
        tz = monitor.time_zero(series)
        timing = (
            f"t₀ {tz.t0_fs:+.1f} ± {tz.t0_err_fs:.1f} fs, IRF {tz.irf_fwhm_fs:.0f} fs"
            if tz is not None
            else f"rise not resolved, IRF {monitor.irf_fwhm_fs:.0f} fs assumed"
        )
        if sigma0 is not None:
            print(
                f"  {series}: σ₀ = {sigma0.value_nm:.1f} ± {sigma0.err_nm:.1f} nm "
                f"(σ(τ) model, {sigma0.n_points} widths; {timing})"
            )
