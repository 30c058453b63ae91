"""How many camera frames a plan takes and how long the camera integrates for them.

One formula for every place that shows it (``tamrig scan --check``, the GUI's scan builder,
scripts): a point is ``2 × pairs_per_point`` frames, plus, in the ``shutter`` scheme, the
``settle_frames`` dropped after each of the two shutter changes of every block; the dark
measurement adds ``dark_frames`` once. Stage moves, shutters and software are not in it:
that is the dead time the engine hides or the benchmark reports.
"""

from __future__ import annotations

import math

from tamrig.plan.model import Acquisition, ScanPlan


def frames_per_point(acq: Acquisition) -> int:
    """Camera frames one point reads (kept and dropped)."""
    frames = 2 * acq.pairs_per_point
    if acq.scheme == "shutter":
        blocks = -(-acq.pairs_per_point // acq.block_frames)  # ceil
        frames += 2 * acq.settle_frames * blocks
    return frames


def scan_frames(plan: ScanPlan, n_points: int | None = None) -> int:
    """Frames of the whole scan (``n_points`` defaults to every planned point)."""
    points = plan.n_points() if n_points is None else n_points
    return frames_per_point(plan.acquisition) * points + plan.acquisition.dark_frames


def camera_time_s(plan: ScanPlan, frame_period_s: float, n_points: int | None = None) -> float:
    """Seconds the camera integrates for the scan: its frames times the frame period
    (NaN when the period is unknown)."""
    if not frame_period_s > 0 or not math.isfinite(frame_period_s):
        return math.nan
    return scan_frames(plan, n_points) * frame_period_s
