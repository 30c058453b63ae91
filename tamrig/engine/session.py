"""Scripted scans: rig + plan + calibration + HDF5 file + live monitor around a ScanEngine.

The CLI and the GUI are thin layers over this module; a script uses it directly::

    from tamrig.engine.session import run_scan
    status = run_scan("config/scans/demo.toml", out="demo.h5", subscribers=[print])

or, to pause/abort from another thread, ``with start_scan(...) as scan: scan.run()`` and call
``scan.engine.pause()`` / ``abort()``. ``resume_scan(FILE.h5)`` continues a killed or
aborted scan from its first incomplete point, with the plan, rig and calibration stored in
the file.
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import numpy as np
from pydantic import ValidationError

from tamrig import __version__
from tamrig.analysis.drift import FIELDS as DRIFT_FIELDS
from tamrig.analysis.drift import ReferenceTracker
from tamrig.analysis.monitor import LiveMonitor
from tamrig.calibration import (
    FluenceCalibration,
    SampleAbsorption,
    nominal_calibration,
    pump_sigma_nm,
)
from tamrig.engine.engine import POSITION_NAMES, FaultPolicy, ScanEngine, Subscriber
from tamrig.engine.protocols import Monitor
from tamrig.errors import InputError, PlanError, StorageError
from tamrig.plan import ResolvedPlan, ScanPlan, load_plan, plan_from_dict
from tamrig.plan.precision import PlanPrecision, predict_precision
from tamrig.plan.preflight import check_rig, resolve_checked
from tamrig.records import DifferentialImage
from tamrig.rig import Rig, build_rig
from tamrig.storage import ScanMetadata, ScanWriter, open_scan
from tamrig.storage.soundness import check_new_output

log = logging.getLogger(__name__)


def calibration_for(plan: ScanPlan, rig: Rig) -> FluenceCalibration | None:
    """The fluence calibration a plan needs on this rig (None without a fluence axis).

    Pump spot σ from the rig file, else the plan's ``sample.pump_sigma_nm``; the
    cross-section from the plan's sample (needed for ⟨N_abs⟩).
    """
    axis = plan.fluence
    if axis is None:
        return None
    try:
        sigma = pump_sigma_nm(rig.settings, plan.sample.pump_sigma_nm)
    except InputError:
        raise plan.error(
            "sample.pump_sigma_nm",
            "the pump spot size is unknown (the rig file has no rig.pump_sigma_nm)",
            "the pump spot σ in nm, e.g. σ₀ measured at zero delay",
        ) from None
    absorption = plan.sample.absorption_fields()
    cross_section = None
    if absorption:
        try:
            cross_section = SampleAbsorption(**absorption).cross_section_at(
                rig.settings.pump_wavelength_nm
            )
        except ValidationError as exc:
            reason = exc.errors(include_url=False)[0]["msg"]
            raise plan.error("sample", f"invalid absorption settings: {reason}") from None
    elif axis.unit == "n_abs":
        raise plan.error(
            "sample.cross_section_cm2",
            "fluences in N_abs need the sample's absorption cross-section",
            "cross_section_cm2 (or pbs_diameter_nm / pbs_exciton_nm)",
        )
    return nominal_calibration(rig, pump_sigma_nm=sigma, cross_section_cm2=cross_section)


def make_monitor(pixel_size_nm: float) -> Monitor:
    """The live Gaussian-width monitor (σ, σ₀, MSD, D per series)."""
    return LiveMonitor(pixel_size_nm)


def scan_metadata(
    plan: ScanPlan, rig: Rig, resolved: ResolvedPlan, calibration: FluenceCalibration | None
) -> ScanMetadata:
    """Everything the file stores about the scan before its first point."""
    return ScanMetadata(
        program_version=__version__,
        rig_path=rig.loaded.path,
        rig_text=rig.loaded.text,
        rig=rig.loaded.config.model_dump(mode="json"),
        plan=plan.model_dump(mode="json"),
        devices=rig.snapshot(),
        image_shape=resolved.image_shape,
        pixel_size_nm=rig.settings.pixel_size_nm,
        n_points_planned=len(resolved.points),
        calibration=None if calibration is None else calibration.model_dump(mode="json"),
        sample=plan.sample.model_dump(mode="json"),
        extra={
            "plan_file": plan.source or "",
            "delays_fs": plan.delays_fs(),
            "reference_delay_fs": plan.delays.reference_fs,
            "fluence_labels": [f.label for f in resolved.fluences],
            "wavelengths_nm": [math.nan if w is None else w for w in resolved.wavelengths_nm],
            "expected_bytes": resolved.expected_bytes,
        },
        position_names=POSITION_NAMES,
    )


class Scan:
    """A scan ready to run: rig connected, plan checked, file open, engine built.

    Use as a context manager; leaving it closes the file and, when the scan built the rig
    itself, shuts the rig down (safe state first).
    """

    def __init__(
        self,
        engine: ScanEngine,
        writer: ScanWriter,
        resolved: ResolvedPlan,
        *,
        owns_rig: bool,
    ) -> None:
        self.engine = engine
        self.writer = writer
        self.resolved = resolved
        self.path = writer.path
        self._owns_rig = owns_rig

    @property
    def rig(self) -> Rig:
        return self.engine.rig

    @property
    def plan(self) -> ScanPlan:
        return self.engine.plan

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Deliver every event to ``fn``; call the returned function to stop."""
        return self.engine.subscribe(fn)

    def run(self) -> str:
        return self.engine.run()

    def close(self) -> None:
        """Close the file -- with a final status even if the engine was cut short (a second
        Ctrl-C while it recorded the end) -- then shut down a rig this scan built."""
        try:
            _close_file(self.writer)
        finally:
            if self._owns_rig:
                self.rig.shutdown()

    def __enter__(self) -> Scan:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _connect(rig: Rig | str | Path | None) -> tuple[Rig, bool]:
    if isinstance(rig, Rig):
        return rig, False
    built = build_rig(rig)
    built.connect()
    return built, True


def preflight(
    plan: ScanPlan,
    rig: Rig,
    *,
    out: str | Path | None,
    calibration: FluenceCalibration | None = None,
    stored: bool = False,
) -> tuple[ResolvedPlan, FluenceCalibration | None]:
    """The scan's pre-flight, run once per start: the rig checks (delays, wavelengths, a
    camera test read, disk), then the fluence calibration (``stored``: the one given, as a
    resumed file holds it; else the rig's nominal one) and the fluences against it."""
    check_rig(plan, rig, out_path=out)
    if not stored:
        calibration = calibration_for(plan, rig)
    return resolve_checked(plan, rig, calibration=calibration), calibration


def _assemble(
    plan: ScanPlan,
    rig: Rig | str | Path | None,
    open_writer: Callable[[Rig], tuple[ScanWriter, ResolvedPlan, FluenceCalibration | None]],
    *,
    subscribers: Iterable[Subscriber],
    fault_policy: FaultPolicy,
    live_fit: bool,
    engine_options: dict[str, Any],
) -> Scan:
    """What a started and a resumed scan share: connect, pre-flight and open the file
    (``open_writer``), the live monitor, the engine, the subscribers; on any failure the
    half-built scan is released (file closed, a rig connected here shut down)."""
    the_rig, owns = _connect(rig)
    writer: ScanWriter | None = None
    try:
        writer, resolved, calibration = open_writer(the_rig)
        monitor = make_monitor(the_rig.settings.pixel_size_nm) if live_fit else None
        if monitor is not None and writer.completed_indices():
            _replay(writer.path, monitor)
        engine = ScanEngine(
            the_rig,
            plan,
            writer,
            monitor,
            calibration=calibration,
            resolved=resolved,
            fault_policy=fault_policy,
            **engine_options,
        )
    except BaseException:
        _release(writer, the_rig if owns else None)
        raise
    for fn in subscribers:
        engine.subscribe(fn)
    return Scan(engine, writer, resolved, owns_rig=owns)


def start_scan(
    plan: ScanPlan | str | Path,
    *,
    out: str | Path,
    rig: Rig | str | Path | None = None,
    overwrite: bool = False,
    subscribers: Iterable[Subscriber] = (),
    fault_policy: FaultPolicy = "stop",
    live_fit: bool = True,
    **engine_options: Any,
) -> Scan:
    """Check ``plan`` on the rig, create the data file and build the engine (nothing runs).

    Every plan problem is a PlanError naming the field, raised before any motor moves and
    before the file is created.
    """
    the_plan = plan if isinstance(plan, ScanPlan) else load_plan(plan)
    check_new_output(out, overwrite=overwrite)

    def create(
        the_rig: Rig,
    ) -> tuple[ScanWriter, ResolvedPlan, FluenceCalibration | None]:
        resolved, calibration = preflight(the_plan, the_rig, out=out)
        metadata = scan_metadata(the_plan, the_rig, resolved, calibration)
        writer = ScanWriter.create(
            out,
            metadata,
            overwrite=overwrite,
            record_raw_frames=the_plan.acquisition.record_raw_frames,
        )
        return writer, resolved, calibration

    return _assemble(
        the_plan,
        rig,
        create,
        subscribers=subscribers,
        fault_policy=fault_policy,
        live_fit=live_fit,
        engine_options=engine_options,
    )


def _release(writer: ScanWriter | None, rig: Rig | None) -> None:
    """Undo a half-built scan: close its file, shut down a rig this module connected."""
    try:
        if writer is not None:
            _close_file(writer)
    finally:
        if rig is not None:
            rig.shutdown()


def _close_file(writer: ScanWriter) -> None:
    """Close a scan file, stamping it 'aborted' if nothing gave it a final status (a
    Ctrl-C during start-up, or a second one while the engine recorded the end)."""
    try:
        if not writer.finished:
            try:
                writer.finish("aborted")
            except StorageError as exc:
                log.error("could not record the end of the scan in the file: %s", exc)
    finally:
        writer.close()


class ScanCheck(NamedTuple):
    """What ``--check`` learns from the rig without running a point."""

    resolved: ResolvedPlan
    frame_period_s: float
    precision: PlanPrecision | None  # None: the camera has no noise model


def check_scan(
    plan: ScanPlan | str | Path,
    *,
    out: str | Path | None = None,
    rig: Rig | str | Path | None = None,
) -> ScanCheck:
    """Every check :func:`start_scan` makes, without creating a file or running a point.

    Returns the resolved plan, the camera's frame period in s (for a time estimate, see
    :mod:`tamrig.plan.timing`) and, when the camera knows its noise, the precision the plan
    will reach. The delay stage and shutters stay where they are; a simulated rig without a
    saved calibration sweeps its attenuator for a nominal one, as a scan would.
    """
    if not isinstance(plan, ScanPlan):
        plan = load_plan(plan)
    the_rig, owns = _connect(rig)
    try:
        resolved, _ = preflight(plan, the_rig, out=out)
        frame_period_s = float(the_rig.camera.frame_period_s())
        noise = the_rig.camera.noise()
        settings = the_rig.settings
    finally:
        if owns:
            the_rig.shutdown()
    precision = None
    if noise is not None:
        precision = predict_precision(
            resolved,
            noise,
            settings.pixel_size_nm,
            sigma0_nm=settings.pump_sigma_nm or plan.sample.pump_sigma_nm,
            expected_dtt=plan.sample.expected_dtt,
        )
    return ScanCheck(resolved, frame_period_s, precision)


def _replay(path: Path, monitor: Monitor) -> int:
    """Feed the completed points of a file to a fresh live monitor (σ₀ per series)."""
    with open_scan(path) as scan:
        table = scan.points()
        delays = dict(zip(table["index"].tolist(), table["delay_fs_measured"].tolist()))
        names = dict(zip(table["index"].tolist(), table["series"].tolist()))
        # the frame counts give the pixel errors' degrees of freedom the fit's weights need
        frames = dict(
            zip(table["index"].tolist(), zip(table["n_on"].tolist(), table["n_off"].tolist()))
        )
        count = 0
        order = [i for i in scan.indices() if str(names[i])]
        for index, following in zip(order, [*order[1:], None]):
            series = str(names[index])
            dtt = scan.dtt(index)
            nan = np.full(dtt.shape, np.nan)
            n_on, n_off = frames[index]
            image = DifferentialImage(dtt, scan.dtt_err(index), nan, nan, nan, nan, n_on, n_off)
            # each run of a series ends settled, as the scan left it
            settle = following is None or str(names[following]) != series
            monitor.update(delay_fs=float(delays[index]), series=series, image=image, settle=settle)
            count += 1
    return count


def _replay_references(path: Path, tracker: ReferenceTracker) -> None:
    """Give the drift tracker the reference fits already in the file (warnings raised
    before the scan stopped are not repeated)."""
    with open_scan(path) as scan:
        table = scan.points()
    fitted = table["reference"].astype(bool) & table["converged"].astype(bool)
    for row in np.flatnonzero(fitted):
        values = {name: float(table[name][row]) for name in DRIFT_FIELDS}
        tracker.add_values(str(table["series"][row]), values)


def resume_scan(
    path: str | Path,
    *,
    rig: Rig | str | Path | None = None,
    subscribers: Iterable[Subscriber] = (),
    fault_policy: FaultPolicy = "stop",
    live_fit: bool = True,
    **engine_options: Any,
) -> Scan:
    """Reopen a killed or aborted scan file and build an engine for its missing points.

    Plan, rig file and calibration come from the file; ``rig`` overrides the rig (e.g. the
    same set-up after its file moved). The engine skips every completed point.
    """
    path = Path(path)
    writer = ScanWriter.resume(path)
    metadata = writer.metadata
    try:
        plan = plan_from_dict(metadata.plan, source=f"{path} (stored plan)")
    except BaseException:
        writer.close()
        raise

    def reopen(the_rig: Rig) -> tuple[ScanWriter, ResolvedPlan, FluenceCalibration | None]:
        calibration = (
            None
            if metadata.calibration is None
            else FluenceCalibration.model_validate(metadata.calibration)
        )
        resolved, _ = preflight(plan, the_rig, out=path, calibration=calibration, stored=True)
        if len(resolved.points) != metadata.n_points_planned:
            raise PlanError(
                f"the stored plan expands to {len(resolved.points)} points, the file planned "
                f"{metadata.n_points_planned}",
                file=path,
                field="plan",
            )
        return writer, resolved, calibration

    try:
        with contextlib.ExitStack() as stack:
            # a stored copy of the rig file lives until the rig is built and connected
            the_rig = (
                rig if rig is not None else stack.enter_context(_stored_rig_file(path, metadata))
            )
            scan = _assemble(
                plan,
                the_rig,
                reopen,
                subscribers=subscribers,
                fault_policy=fault_policy,
                live_fit=live_fit,
                engine_options=engine_options,
            )
    except BaseException:
        writer.close()  # idempotent: _assemble may have closed it already
        raise
    try:
        _replay_references(path, scan.engine.reference)
    except BaseException:
        scan.close()
        raise
    return scan


@contextlib.contextmanager
def _stored_rig_file(path: Path, metadata: ScanMetadata) -> Iterator[Path]:
    """The rig file the scan ran with: the original if unchanged, else a copy of its text in
    a temporary folder that is removed once the rig is built and connected."""
    original = Path(metadata.rig_path)
    if original.is_file() and original.read_text(encoding="utf-8") == metadata.rig_text:
        yield original
        return
    log.warning("rig file %s changed or is gone; using the copy stored in %s", original, path)
    with tempfile.TemporaryDirectory(prefix="tamrig-rig-") as folder:
        copy = Path(folder) / f"{path.stem}-rig.toml"
        copy.write_text(metadata.rig_text, encoding="utf-8")
        yield copy


def run_scan(
    plan: ScanPlan | str | Path,
    *,
    out: str | Path,
    rig: Rig | str | Path | None = None,
    overwrite: bool = False,
    subscribers: Iterable[Subscriber] = (),
    **options: Any,
) -> str:
    """Run a whole scan and return its final status (see :func:`start_scan`)."""
    with start_scan(
        plan, out=out, rig=rig, overwrite=overwrite, subscribers=subscribers, **options
    ) as scan:
        return scan.run()
