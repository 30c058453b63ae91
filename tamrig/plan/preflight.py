"""Pre-flight: check a plan against a rig before anything moves.

Every delay inside the stage travel, every fluence reachable and within the rig's
``max_fluence_uj_cm2`` interlock, every wavelength on the selector, the acquisition scheme
supported by the camera, camera time, memory and disk space for the expected data. The
first problem found is raised as a PlanError naming the plan file and field. A device that
fails while being asked (the camera's test read timing out) is a DeviceFault: a hardware
problem, not a wrong plan.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tamrig.errors import InputError
from tamrig.plan.fluence import (
    NO_FLUENCE_AXIS,
    FluenceCalibrationLike,
    FluenceStep,
    resolve_fluence,
)
from tamrig.plan.model import ScanPlan
from tamrig.plan.points import ScanPoint, scan_points
from tamrig.plan.timing import camera_time_s, scan_frames

if TYPE_CHECKING:
    from tamrig.rig import Rig

#: Float32 images stored per point: ΔT/T, its error, on/off means, dark, and their errors.
IMAGES_PER_POINT = 8
IMAGE_BYTES = 4
POINT_OVERHEAD_BYTES = 4096
DISK_MARGIN = 1.2
DISK_RESERVE_BYTES = 64 * 1024**2
#: Camera time one scan may take: a week of frames (stage moves not included).
MAX_CAMERA_TIME_S = 7 * 24 * 3600.0
#: Bytes per pixel a frame block costs while it is read and accumulated (raw frame, its
#: float copy and the running sums), and the share of free memory a block may use.
BLOCK_BYTES_PER_PIXEL = 4 + 8 + 16
MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class ResolvedPlan:
    """A plan checked against one rig: everything the engine needs to run it."""

    plan: ScanPlan
    points: list[ScanPoint]
    fluences: list[FluenceStep]
    wavelengths_nm: list[float | None]
    image_shape: tuple[int, int]
    expected_bytes: int


def expected_bytes(plan: ScanPlan, image_shape: tuple[int, int]) -> int:
    """Data the scan will write, uncompressed (images, fits, raw frames if recorded)."""
    pixels = image_shape[0] * image_shape[1]
    per_point = IMAGES_PER_POINT * IMAGE_BYTES * pixels + POINT_OVERHEAD_BYTES
    if plan.acquisition.record_raw_frames:
        per_point += 2 * plan.acquisition.pairs_per_point * 2 * pixels
    return plan.n_points() * per_point


def _available_memory() -> int:
    """Memory the scan may count on: what the system has free (or a generous guess)."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def _check_time_and_memory(plan: ScanPlan, rig: Rig) -> None:
    acq = plan.acquisition
    config = rig.camera.config()
    period = rig.camera.frame_period_s()
    frames = scan_frames(plan)
    seconds = camera_time_s(plan, period)
    if not seconds <= MAX_CAMERA_TIME_S:
        dark_mostly = 2 * plan.acquisition.dark_frames > frames
        raise plan.error(
            "acquisition.dark_frames" if dark_mostly else plan.largest_factor(),
            f"{frames} frames of {period:g} s are {seconds / 3600:.4g} h of camera time",
            f"a scan of at most {MAX_CAMERA_TIME_S / 86400:g} days: fewer pairs, points or sweeps",
        )
    pixels = config.roi.width * config.roi.height
    free = _available_memory() * MEMORY_SHARE
    block = acq.block_frames * pixels * BLOCK_BYTES_PER_PIXEL
    if block > free:
        raise plan.error(
            "acquisition.block_frames",
            f"a block of {acq.block_frames} frames of {config.roi.width}x{config.roi.height} "
            f"pixels needs {block / 2**20:.0f} MiB, more than the {free / 2**20:.0f} MiB free",
            "fewer frames per block",
        )
    if acq.record_raw_frames:
        held = 2 * acq.pairs_per_point * pixels * 4  # a point's raw frames wait in memory
        if held > free:
            raise plan.error(
                "acquisition.record_raw_frames",
                f"{2 * acq.pairs_per_point} raw frames of a point need {held / 2**20:.0f} MiB "
                f"of memory, more than the {free / 2**20:.0f} MiB free",
                "false, or fewer pairs per point",
            )


def _check_delays(plan: ScanPlan, rig: Rig) -> None:
    lo_mm, hi_mm = rig.stage.limits_mm
    lo_fs, hi_fs = sorted(rig.delay_range_fs())
    for field, values in plan.delays.sources():
        for value in values:
            if not lo_fs <= value <= hi_fs:
                raise plan.error(
                    field,
                    f"delay {value:g} fs needs the stage at {rig.delay_to_mm(value):.3f} mm, "
                    f"outside its travel [{lo_mm:g}, {hi_mm:g}] mm",
                    f"delays within [{lo_fs:.0f}, {hi_fs:.0f}] fs on this rig",
                )


def _check_wavelengths(plan: ScanPlan, rig: Rig) -> list[float | None]:
    if plan.probe is None:
        return [None]
    selector = rig.wavelength_selector
    if selector is None:
        raise plan.error("probe.wavelengths_nm", "this rig has no probe-wavelength selector")
    available = selector.available_nm()
    for i, wl in enumerate(plan.probe.wavelengths_nm):
        if not any(abs(a - wl) <= 0.5 for a in available):
            raise plan.error(
                f"probe.wavelengths_nm[{i}]",
                f"{wl:g} nm is not available on this rig",
                f"one of {sorted(available)} nm",
            )
    return list(plan.probe.wavelengths_nm)


def _check_fluences(
    plan: ScanPlan, rig: Rig, calibration: FluenceCalibrationLike | None
) -> list[FluenceStep]:
    axis = plan.fluence
    if axis is None:
        return [NO_FLUENCE_AXIS]
    attenuator = rig.attenuator
    if attenuator is None:
        raise plan.error("fluence", "this rig has no pump attenuator")
    if calibration is None:
        raise plan.error(
            "fluence.unit",
            "no fluence calibration for this rig, so fluences cannot be set or checked "
            "against the max_fluence interlock",
            "a calibration (run `tamrig calibrate fluence`)",
        )
    limit = rig.settings.max_fluence_uj_cm2
    lo, hi = calibration.reachable_fluence()
    s_lo, s_hi = attenuator.setting_range
    steps = []
    for i, value in enumerate(axis.values):
        field = f"fluence.values[{i}]"
        if axis.unit == "uJ/cm2" and not lo <= value <= hi:
            raise plan.error(
                field,
                f"{value:g} uJ/cm2 is not reachable",
                f"a fluence within [{lo:.3g}, {hi:.3g}] uJ/cm2",
            )
        try:
            step = resolve_fluence(axis, i, calibration)
        except InputError as exc:  # the calibration's own reachability / interlock checks
            raise plan.error(field, f"{value:g} {axis.unit}: {exc.detail}", exc.expected) from None
        except (ValueError, ArithmeticError) as exc:
            raise plan.error(field, f"{value:g} {axis.unit} cannot be resolved: {exc}") from None
        if step.setting is not None and not s_lo <= step.setting <= s_hi:
            raise plan.error(
                field,
                f"needs attenuator setting {step.setting:g}, outside its range",
                f"settings within [{s_lo:g}, {s_hi:g}]",
            )
        if not math.isfinite(step.fluence_uj_cm2) or step.fluence_uj_cm2 > limit * (1 + 1e-9):
            raise plan.error(
                field,
                f"{value:g} {axis.unit} is {step.fluence_uj_cm2:.4g} uJ/cm2, above the rig's "
                f"max_fluence_uj_cm2 interlock",
                f"at most {limit:g} uJ/cm2",
            )
        if axis.unit == "n_abs" and not lo <= step.fluence_uj_cm2 <= hi * (1 + 1e-9):
            raise plan.error(
                field,
                f"N_abs {value:g} needs {step.fluence_uj_cm2:.4g} uJ/cm2, not reachable",
                f"a fluence within [{lo:.3g}, {hi:.3g}] uJ/cm2",
            )
        steps.append(step)
    return steps


def _check_acquisition(plan: ScanPlan, rig: Rig) -> None:
    acq = plan.acquisition
    if acq.dark_frames and rig.probe_shutter is None:
        raise plan.error(
            "acquisition.dark_frames", "a dark measurement needs a probe shutter", "0 on this rig"
        )
    if acq.dark_frames == 1:
        raise plan.error("acquisition.dark_frames", "one dark frame gives no error", "0 or >= 2")
    if acq.scheme == "chopper":
        camera = rig.camera
        camera.start()
        try:  # a DeviceFault here is the camera's, and reaches the user as one
            tagged = camera.read(2).pump_on is not None
        finally:
            camera.stop()
        if not tagged:
            raise plan.error(
                "acquisition.scheme",
                "the camera delivers no per-frame pump-state tag (chopper reference)",
                "'shutter' on this rig",
            )


def _check_disk(plan: ScanPlan, out_path: str | Path | None, need: int) -> None:
    if out_path is None:
        return
    folder = Path(out_path).resolve().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free < need * DISK_MARGIN + DISK_RESERVE_BYTES:
        raise plan.error(
            "acquisition",
            f"the scan needs about {need / 1e6:.1f} MB but {folder} has {free / 1e6:.1f} MB free",
            "fewer points, no raw frames, or another --out folder",
        )


def check_rig(plan: ScanPlan, rig: Rig, *, out_path: str | Path | None = None) -> None:
    """The checks that need no fluence calibration (delays, wavelengths, camera, disk)."""
    plan.check_size()
    _check_delays(plan, rig)
    _check_wavelengths(plan, rig)
    _check_time_and_memory(plan, rig)
    _check_acquisition(plan, rig)
    roi = rig.camera.config().roi
    _check_disk(plan, out_path, expected_bytes(plan, (roi.height, roi.width)))


def resolve_checked(
    plan: ScanPlan, rig: Rig, *, calibration: FluenceCalibrationLike | None = None
) -> ResolvedPlan:
    """The rest of pre-flight once :func:`check_rig` has passed: fluences against the
    calibration and the interlock, then the points. No device is touched."""
    wavelengths: list[float | None] = (
        [None] if plan.probe is None else list(plan.probe.wavelengths_nm)
    )
    fluences = _check_fluences(plan, rig, calibration)
    roi = rig.camera.config().roi
    shape = (roi.height, roi.width)
    return ResolvedPlan(
        plan, scan_points(plan), fluences, wavelengths, shape, expected_bytes(plan, shape)
    )


def validate_for(
    plan: ScanPlan,
    rig: Rig,
    *,
    calibration: FluenceCalibrationLike | None = None,
    out_path: str | Path | None = None,
) -> ResolvedPlan:
    """Check ``plan`` against a connected ``rig``; PlanError naming the field on failure.

    Only the camera is exercised (a two-frame test read); no motor moves.
    """
    check_rig(plan, rig, out_path=out_path)
    return resolve_checked(plan, rig, calibration=calibration)
