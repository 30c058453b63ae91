"""The scan side of the window: builder + run control, and the scan's events as signals.

It owns the running :class:`ScanSession` and says what happened through its signals; the
main window decides which views show it. It keeps counts and the last few events, never
the points themselves (their images would grow memory for the whole scan).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFileDialog, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from tamrig.analysis.monitor import LiveMonitor
from tamrig.commands.scan import plan_summary
from tamrig.engine import (
    Aborted,
    Fault,
    Finished,
    Notice,
    Paused,
    PointDone,
    Resumed,
    ScanStarted,
    SweepDone,
)
from tamrig.engine.session import calibration_for, check_scan, resume_scan, start_scan
from tamrig.errors import InputError, TamrigError
from tamrig.gui.frames import LatestFrame
from tamrig.gui.queue_panel import QueuePanel
from tamrig.gui.rigaccess import RigAccess
from tamrig.gui.run_control import RunControl, format_delay
from tamrig.gui.scan_builder import ScanBuilder
from tamrig.gui.scan_session import ScanSession
from tamrig.gui.settings import GuiSettings
from tamrig.plan import ScanPlan
from tamrig.plan.timing import camera_time_s

SAFE_NOTE = "rig in safe state (pump shutter closed)"


class ScanPanel(QWidget):
    #: a scan is about to take the rig (the live view must stop first: direct connection)
    about_to_start = pyqtSignal()
    #: the scan owns the rig (True) / gave it back (False)
    running_changed = pyqtSignal(bool)
    #: PointDone of every stored point
    point_done = pyqtSignal(object)
    #: (series, list of TransportPoint) at the end: every series at its final σ₀
    series_final = pyqtSignal(str, object)
    #: (device, message, rig state) of a fault that needs the operator
    fault = pyqtSignal(str, str, str)
    #: (level, text) for the log and the status bar: "info" | "warning" | "error"
    message = pyqtSignal(str, str)
    #: the fluence calibration of the checked / running plan (live fluence read-out)
    calibration_ready = pyqtSignal(object)
    #: the run is over and the rig is back: (status or "" if it never started, error text)
    ended = pyqtSignal(str, str)
    #: pre-flight result, delivered from its thread: (lines, error text, calibration)
    _preflight_done = pyqtSignal(object, str, object)

    def __init__(
        self,
        access: RigAccess,
        frames: LatestFrame,
        settings: GuiSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.access = access
        self.frames = frames
        self.settings = settings
        self.builder = ScanBuilder(presets=settings)
        self.builder.refresh_presets()
        self.builder.preflight_requested.connect(self.preflight)
        self._preflight_done.connect(self._on_preflight)
        self.estimate: list[str] = []
        self.preflight_error = ""
        self.preflights = 0
        self._plan_error: InputError | None = None
        self.preflight_running = False
        self.run_control = RunControl()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.builder)
        self.queue_panel = QueuePanel()
        self.pages = QTabWidget()
        self.pages.addTab(scroll, "Plan")
        self.pages.addTab(self.queue_panel, "Queue")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.run_control)
        layout.addWidget(self.pages, 1)
        self.session: ScanSession | None = None
        #: extra ScanEngine options (retries, back-off) for the next scan
        self.engine_options: dict[str, Any] = {}
        #: events of this scan by kind, and the last few (no PointDone: they hold images)
        self.counts: Counter[str] = Counter()
        self.recent: deque[Any] = deque(maxlen=64)
        self.status: str | None = None
        self.last_path: Path | None = None
        qp = self.queue_panel
        qp.add_button.clicked.connect(self.queue_form_plan)
        qp.run_requested.connect(self._run_queued)
        self.ended.connect(qp.scan_ended)
        if settings is not None:
            qp.folder_changed.connect(settings.remember_queue_dir)
            if folder := settings.queue_dir():
                qp.open_folder(folder)
        rc = self.run_control
        rc.start_clicked.connect(self.start)
        rc.pause_clicked.connect(self.pause)
        rc.resume_clicked.connect(self.resume)
        rc.abort_clicked.connect(self.abort)
        rc.browse.clicked.connect(self.choose_output)
        self.handlers: dict[type, Callable[[Any], None]] = {
            ScanStarted: self._on_started,
            PointDone: self._on_point,
            SweepDone: self._on_sweep,
            Paused: self._on_paused,
            Resumed: self._on_resumed,
            Fault: self._on_fault,
            Notice: self._on_notice,
            Aborted: self._on_aborted,
            Finished: self._on_finished,
        }

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.running

    def last(self, kind: type) -> Any:
        """The newest kept event of ``kind`` (None if none)."""
        return next((e for e in reversed(self.recent) if isinstance(e, kind)), None)

    # -- control ---------------------------------------------------------------------------
    def default_output(self, name: str) -> Path:
        last = self.settings.last_data_dir() if self.settings is not None else None
        folder = Path(last or Path.cwd())
        return folder / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.h5"

    def choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Data file", self.run_control.output.text(), "Scan data (*.h5)"
        )
        if path:
            self.run_control.output.setText(path)

    def start(self) -> bool:
        """Check the plan, stop the live view, hand the rig to a new scan session."""
        if self.running:
            return False
        if self.preflight_running:
            self.run_control.set_state("idle", "the pre-flight check is still running")
            return False
        plan = self.builder.check()
        if plan is None:
            self.run_control.set_state("idle", "the plan has errors (marked in red)")
            return False
        text = self.run_control.output.text().strip()
        out = Path(text) if text else self.default_output(plan.name)
        return self.run(plan, out)

    def run(self, plan: ScanPlan, out: Path, *, resume: bool = False) -> bool:
        """Run ``plan`` into ``out`` (``resume``: continue the scan already in ``out``)."""
        if self.running:
            return False
        self.run_control.output.setText(str(out))
        self.about_to_start.emit()
        prepare: Callable[..., Any] = start_scan
        if resume:

            def prepare(plan: ScanPlan, *, out: Path, rig: Any, **options: Any) -> Any:
                options.pop("overwrite", None)
                return resume_scan(out, rig=rig, **options)

        session = ScanSession(
            self.access,
            plan,
            out,
            engine_options=self.engine_options,
            frames=self.frames,
            prepare=prepare,
        )
        session.engine_event.connect(self.on_event)
        session.rejected.connect(self._on_rejected)
        session.ended.connect(self._on_ended)
        self.session = session
        self.counts.clear()
        self.recent.clear()
        self.status = None
        self.last_path = out
        self.frames.clear()
        self.running_changed.emit(True)
        self.run_control.set_state("starting")
        verb = "resuming" if resume else "starting"
        self.message.emit("info", f"scan {plan.name} {verb} → {out}")
        session.start()
        return True

    # -- queue -----------------------------------------------------------------------------
    def queue_form_plan(self) -> bool:
        """Add the form's plan (if it checks out) to the queue."""
        if self.builder.check() is None:
            return False
        return self.queue_panel.add_plan(self.builder.plan_dict()) is not None

    def _run_queued(self, plan: ScanPlan, out: Path, resume: bool) -> None:
        if not self.run(plan, out, resume=resume):
            self.queue_panel.scan_ended("", "the rig is busy")

    # -- pre-flight ----------------------------------------------------------------------------
    def output_for(self, plan: ScanPlan) -> Path:
        text = self.run_control.output.text().strip()
        return Path(text) if text else self.default_output(plan.name)

    def preflight(self, plan: ScanPlan) -> None:
        """The same checks and estimate as ``tamrig scan --check``, in a thread of its own
        (a simulated rig may sweep its attenuator for a calibration first)."""
        if self.running or self.preflight_running:
            self.builder.summary.setText("the rig is busy: check again when it is free")
            return
        out = self.output_for(plan)
        self.builder.summary.setText("checking the plan on the rig…")

        def run() -> None:
            lines: list[str] = []
            error, calibration = "", None
            try:

                def check(rig: Any) -> tuple[Any, float, Any, Any]:
                    resolved, period, precision = check_scan(plan, out=out, rig=rig)
                    return resolved, period, precision, calibration_for(plan, rig)

                resolved, period, precision, calibration = self.access.call(
                    check, what="pre-flight check"
                )
                lines = plan_summary(resolved, period, out)
                lines += precision.lines() if precision is not None else []
                seconds = camera_time_s(plan, period, len(resolved.points))
                if seconds == seconds:
                    end = time.strftime("%H:%M", time.localtime(time.time() + seconds))
                    lines.append(f"  ends: not before {end} if started now")
            except InputError as exc:
                error = str(exc)
                self._plan_error = exc
            except TamrigError as exc:
                error = str(exc)
            try:
                self._preflight_done.emit(lines, error, calibration)
            except RuntimeError:  # the window closed while the rig was being checked
                pass

        self._plan_error = None
        self.preflight_running = True
        threading.Thread(target=run, name="preflight", daemon=True).start()

    def _on_preflight(self, lines: list[str], error: str, calibration: Any) -> None:
        self.preflight_running = False
        self.preflights += 1
        self.estimate = lines
        self.preflight_error = error
        if error:
            if self._plan_error is not None:
                self.builder.show_plan_error(self._plan_error)
            self.builder.summary.setText(f"pre-flight refused: {error}")
            self.builder.summary.setStyleSheet("color: #b01c1c")
            self.message.emit("error", f"pre-flight: {error}")
            return
        self.builder.summary.setStyleSheet("")
        self.builder.summary.setText("\n".join(line.strip() for line in lines))
        self.message.emit(
            "info", "pre-flight OK: " + " · ".join(line.strip() for line in lines[1:3])
        )
        if calibration is not None:
            self.calibration_ready.emit(calibration)

    def pause(self) -> None:
        if self.session is not None and self.run_control.state == "running":
            self.run_control.set_state("pausing", "after the current point")
            self.session.pause()

    def resume(self) -> None:
        if self.session is not None and self.run_control.state == "paused":
            self.session.resume()

    def toggle_pause(self) -> None:
        """Space bar: pause a running scan, resume a paused one."""
        if self.run_control.state == "running":
            self.pause()
        elif self.run_control.state == "paused":
            self.resume()

    def abort(self) -> None:
        if self.session is not None and self.session.running:
            self.run_control.set_state("stopping", "aborting")
            self.session.abort()

    def stop_and_wait(self, timeout_ms: int = 60_000) -> None:
        """Abort a running scan and wait for it (window closing)."""
        session = self.session
        if session is not None and session.running:
            session.abort()
            session.wait(timeout_ms)

    # -- events (GUI thread) ---------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        self.counts[type(event).__name__] += 1
        if not isinstance(event, PointDone):
            self.recent.append(event)
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _on_started(self, ev: ScanStarted) -> None:
        scan = self.session.scan if self.session is not None else None
        if scan is not None and scan.engine.calibration is not None:
            self.calibration_ready.emit(scan.engine.calibration)
        resumed = f", {ev.completed_points} already stored" if ev.resumed else ""
        self.run_control.set_state("running", f"{ev.plan_name}: {ev.total_points} points{resumed}")
        self.run_control.set_progress(ev.completed_points / max(ev.total_points, 1), None)

    def _on_point(self, ev: PointDone) -> None:
        r = ev.record
        self.run_control.set_progress(ev.progress, ev.eta_s)
        self.run_control.point.setText(
            f"{ev.done}/{ev.total} · sweep {ev.sweep + 1}/{ev.n_sweeps} · "
            f"{format_delay(r.delay_fs)} · {ev.series}"
        )
        self.point_done.emit(ev)

    def _on_sweep(self, ev: SweepDone) -> None:
        self.message.emit("info", f"sweep {ev.sweep + 1} of {ev.n_sweeps} done")

    def _on_paused(self, ev: Paused) -> None:
        self.run_control.set_state("paused", ev.reason)
        self.message.emit("info", f"paused: {ev.reason}")

    def _on_resumed(self, ev: Resumed) -> None:
        self.run_control.set_state("running")
        self.message.emit("info", "resumed")

    def _on_fault(self, ev: Fault) -> None:
        if ev.fatal:
            self.message.emit("error", f"{ev.device}: {ev.message} (retries exhausted)")
            self.fault.emit(
                ev.device, ev.message, f"{SAFE_NOTE} — resume retries the point, or abort"
            )
        else:
            self.message.emit(
                "warning",
                f"{ev.device}: {ev.message} — retrying ({ev.attempt} of {ev.max_attempts})",
            )

    def _on_notice(self, ev: Notice) -> None:
        self.message.emit("warning", f"{ev.kind}: {ev.message}")

    def _on_aborted(self, ev: Aborted) -> None:
        self.run_control.set_state("stopping", ev.reason)
        self.run_control.set_progress(ev.done / max(ev.total, 1), None)

    def _on_finished(self, ev: Finished) -> None:
        self.status = ev.status
        self.run_control.set_progress(ev.done / max(ev.total, 1), None)
        session = self.session
        monitor = session.scan.engine.monitor if session and session.scan else None
        if isinstance(monitor, LiveMonitor):  # engine done: every series at its final σ₀
            monitor.settle()  # (a stopped scan leaves points since the last refit)
            for series in monitor.series():
                self.series_final.emit(series, monitor.transport(series))

    def _on_rejected(self, exc: InputError) -> None:
        self.builder.show_plan_error(exc)
        self.message.emit("error", f"plan refused by the rig: {exc}")

    def _on_ended(self, error: str, report: str) -> None:
        self.running_changed.emit(False)
        status = self.status
        if error:
            device = error.split(":", 1)[0] if ":" in error else "scan"
            self.fault.emit(device, error, report)
        self.run_control.set_state("idle", f"{status or 'not started'} · {report}")
        self.run_control.eta.setText("–")
        if status is not None and self.last_path is not None:
            self.message.emit("info", f"scan {status}: data in {self.last_path} · {report}")
        self.ended.emit(status or "", error)
