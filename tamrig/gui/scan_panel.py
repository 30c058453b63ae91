"""The scan side of the window: builder + run control, and what an engine event changes.

Kept apart from the main window so the window stays about layout and devices; this object
owns the running :class:`ScanSession` and turns its events into view updates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QFileDialog, QScrollArea, QVBoxLayout, QWidget

from tamrig.analysis.monitor import LiveMonitor
from tamrig.devices import FrameBlock
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
from tamrig.errors import InputError
from tamrig.gui.camera_tap import FramePlayback, tap_camera
from tamrig.gui.run_control import RunControl
from tamrig.gui.scan_builder import ScanBuilder
from tamrig.gui.scan_session import ScanSession

if TYPE_CHECKING:
    from tamrig.gui.main_window import MainWindow

SAFE_NOTE = "rig in safe state (pump shutter closed)"


class ScanPanel(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.builder = ScanBuilder()
        self.run_control = RunControl()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.builder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.run_control)
        layout.addWidget(scroll, 1)
        self.session: ScanSession | None = None
        #: extra ScanEngine options (retries, back-off) for the next scan
        self.engine_options: dict[str, Any] = {}
        self.events: list[Any] = []
        self.last_path: Path | None = None
        self.playback = FramePlayback()
        self.playback_timer = QTimer(self)
        self.playback_timer.setInterval(40)
        self.playback_timer.timeout.connect(self._show_next_frame)
        self._tap = ExitStack()
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

    # -- control ---------------------------------------------------------------------------
    def default_output(self, name: str) -> Path:
        folder = Path(self.window_.settings.last_data_dir() or Path.cwd())
        return folder / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.h5"

    def choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Data file", self.run_control.output.text(), "Scan data (*.h5)"
        )
        if path:
            self.run_control.output.setText(path)

    def start(self) -> bool:
        """Check the plan, stop the live view, hand the rig to a new scan session."""
        plan = self.builder.check()
        if plan is None:
            self.run_control.set_state("idle", "the plan has errors (marked in red)")
            return False
        text = self.run_control.output.text().strip()
        out = Path(text) if text else self.default_output(plan.name)
        self.run_control.output.setText(str(out))
        win = self.window_
        win.stop_live_blocking()
        session = ScanSession(win.access, plan, out, engine_options=self.engine_options)
        session.engine_event.connect(self.on_event)
        session.rejected.connect(self._on_rejected)
        session.ended.connect(self._on_ended)
        self.session = session
        self.events.clear()
        self.last_path = out
        win.banner.hide()
        win.analysis.clear()
        win.set_scan_running(True)
        self.playback.clear()
        win.live_dtt.reset()
        win.live_dtt.light = True  # never compete with the engine's accumulator
        win.live_dtt.enabled = True  # running ΔT/T of the point being acquired
        self._tap.enter_context(tap_camera(win.rig.camera, self._on_block))
        self.playback_timer.start()
        self.run_control.set_state("starting")
        session.start()
        return True

    def pause(self) -> None:
        if self.session is not None:
            self.run_control.set_state("pausing", "after the current point")
            self.session.pause()

    def resume(self) -> None:
        if self.session is not None:
            self.window_.banner.hide()
            self.session.resume()

    def abort(self) -> None:
        if self.session is not None:
            self.run_control.set_state("stopping", "aborting")
            self.session.abort()

    def stop_and_wait(self, timeout_ms: int = 60_000) -> None:
        """Abort a running scan and wait for it (window closing)."""
        session = self.session
        if session is not None and session.running:
            session.abort()
            session.wait(timeout_ms)
        self._tap.close()

    # -- events (GUI thread) ---------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        self.events.append(event)
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _on_started(self, ev: ScanStarted) -> None:
        resumed = f", {ev.completed_points} already stored" if ev.resumed else ""
        self.run_control.set_state("running", f"{ev.plan_name}: {ev.total_points} points{resumed}")
        self.run_control.set_progress(ev.completed_points / max(ev.total_points, 1), None)

    def _on_point(self, ev: PointDone) -> None:
        r = ev.record
        self.run_control.set_progress(ev.progress, ev.eta_s)
        self.run_control.point.setText(
            f"{ev.done}/{ev.total} · sweep {ev.sweep + 1}/{ev.n_sweeps} · "
            f"{r.delay_fs:g} fs · {ev.series}"
        )
        sigma = f" · σ = {r.fit.sigma_nm:.1f} ± {r.fit.sigma_err_nm:.1f} nm" if r.fit else ""
        win = self.window_
        fit = r.fit if r.fit is not None and r.fit.converged else None
        win.live_dtt.reset()  # the next point's running ΔT/T starts from zero
        win.dtt_view.show_dtt(r.image.dtt, fit, f"point {r.index}: {r.delay_fs:g} fs{sigma}")
        win.show_scan_point(r)
        if r.transport is not None:
            win.analysis.add_point(ev.series, r.transport, key=r.index)

    def _on_sweep(self, ev: SweepDone) -> None:
        self.window_.status_bar.showMessage(f"sweep {ev.sweep + 1} of {ev.n_sweeps} done", 5000)

    def _on_paused(self, ev: Paused) -> None:
        self.run_control.set_state("paused", ev.reason)

    def _on_resumed(self, ev: Resumed) -> None:
        self.run_control.set_state("running")

    def _on_fault(self, ev: Fault) -> None:
        if ev.fatal:
            self.window_.banner.show_fault(
                ev.device, ev.message, f"{SAFE_NOTE} — resume retries the point, or abort"
            )
        else:
            self.window_.status_bar.showMessage(
                f"{ev.device}: {ev.message} — retrying ({ev.attempt} of {ev.max_attempts})", 8000
            )

    def _on_notice(self, ev: Notice) -> None:
        self.window_.status_bar.showMessage(f"{ev.kind}: {ev.message}", 15000)

    def _on_aborted(self, ev: Aborted) -> None:
        self.run_control.set_state("stopping", ev.reason)

    def _on_finished(self, ev: Finished) -> None:
        session = self.session
        monitor = session.scan.engine.monitor if session and session.scan else None
        if isinstance(monitor, LiveMonitor):  # engine done: every series at its final σ₀
            for series in monitor.series():
                self.window_.analysis.set_series(series, monitor.transport(series))

    def _on_rejected(self, exc: InputError) -> None:
        self.builder.show_plan_error(exc)

    def _on_ended(self, error: str, report: str) -> None:
        self.playback_timer.stop()
        self._tap.close()
        win = self.window_
        win.live_dtt.enabled = False
        win.live_dtt.light = False
        win.set_scan_running(False)
        status = next((e.status for e in reversed(self.events) if isinstance(e, Finished)), None)
        if error and not win.banner.isVisible():
            device = error.split(":", 1)[0] if ":" in error else "scan"
            win.banner.show_fault(device, error, report)
        detail = f"{status or 'not started'} · {report}"
        self.run_control.set_state("idle", detail)
        if status is not None and self.last_path is not None:
            win.settings.remember_data_dir(self.last_path.parent)
            win.status_bar.showMessage(f"scan {status}: data in {self.last_path}", 30000)

    def _on_block(self, block: FrameBlock, frame_rate_hz: float) -> None:
        """In the engine's thread: copy a few frames for display, relay the block (cheap)."""
        self.playback.offer(block, frame_rate_hz)
        self.window_.camera_worker.push_block(block)

    def _show_next_frame(self) -> None:
        item = self.playback.pop()
        if item is not None:
            frame_id, image = item
            self.window_.camera_view.show_frame(image, f"scan · frame {frame_id}")
