"""Scan plans: TOML -> validated model -> pre-flight against a rig -> ordered points."""

from __future__ import annotations

from tamrig.plan.axes import (
    DelayAxis,
    FluenceAxis,
    LinearSegment,
    ListSegment,
    LogSegment,
    ProbeAxis,
    default_grid_fs,
)
from tamrig.plan.fluence import FluenceCalibrationLike, FluenceStep, resolve_fluence
from tamrig.plan.model import Acquisition, Sample, ScanPlan, Sweeps, load_plan, plan_from_dict
from tamrig.plan.points import ScanPoint, delay_order, scan_points
from tamrig.plan.preflight import ResolvedPlan, expected_bytes, validate_for
from tamrig.resources import SCANS_DIR

__all__ = [
    "SCANS_DIR",
    "Acquisition",
    "DelayAxis",
    "FluenceAxis",
    "FluenceCalibrationLike",
    "FluenceStep",
    "LinearSegment",
    "ListSegment",
    "LogSegment",
    "ProbeAxis",
    "ResolvedPlan",
    "Sample",
    "ScanPlan",
    "ScanPoint",
    "Sweeps",
    "default_grid_fs",
    "delay_order",
    "expected_bytes",
    "load_plan",
    "plan_from_dict",
    "resolve_fluence",
    "scan_points",
    "validate_for",
]
