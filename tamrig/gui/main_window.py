"""The operator's main window: safety line, live views, device panels, scan, log.

The window is the only place that knows which view shows what: device workers, the scan
panel and the live-view worker only emit signals or leave the newest data in a slot; the
views are redrawn by one display clock (:mod:`tamrig.gui.redraw`), so no burst of events
can stall the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QMetaObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PyQt6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tamrig.calibration.model import FluenceCalibration
from tamrig.devices import Roi
from tamrig.engine import PointDone
from tamrig.errors import DeviceFault
from tamrig.gui.alignment import LiveDifferential
from tamrig.gui.alignment_view import AlignmentView
from tamrig.gui.analysis_plots import AnalysisPlots
from tamrig.gui.banner import FaultBanner
from tamrig.gui.browser import DataBrowser
from tamrig.gui.camera_worker import CameraWorker
from tamrig.gui.device_worker import Action, DeviceWorker
from tamrig.gui.frames import LatestFrame
from tamrig.gui.liveview import CameraView, DttView
from tamrig.gui.log_panel import LogPanel, QtLogHandler
from tamrig.gui.panels import (
    CameraPanel,
    DevicePanel,
    PowerMeterPanel,
    ShutterPanel,
    StagePanel,
    make_panel,
)
from tamrig.gui.redraw import DISPLAY_HZ, DisplayClock
from tamrig.gui.rigaccess import RigAccess
from tamrig.gui.run_control import format_delay
from tamrig.gui.safety import SafetyLine
from tamrig.gui.scan_panel import ScanPanel
from tamrig.gui.settings import GuiSettings
from tamrig.gui.state import DeviceState, format_si
from tamrig.gui.threads import WorkerThread
from tamrig.gui.timezero_tool import TimeZeroTool
from tamrig.records import GaussianFit
from tamrig.rig import Rig

log = logging.getLogger(__name__)
LOGGERS = ("tamrig", "drivers", "simulators")


def _ask(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(
        parent,
        "tamrig",
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class MainWindow(QMainWindow):
    """Owns the rig for its lifetime: closing the window leaves the rig in its safe state."""

    closed = pyqtSignal()
    #: the operator asked for another rig file (handled by the application controller)
    rig_requested = pyqtSignal(str)

    def __init__(
        self,
        rig: Rig,
        *,
        settings: GuiSettings | None = None,
        poll_interval_ms: int = 250,
        display_hz: float = DISPLAY_HZ,
    ) -> None:
        super().__init__()
        self.rig = rig
        self.settings = settings or GuiSettings()
        self.access = RigAccess(rig)
        # Deleted by Qt's event loop once closed, never in the middle of Python's garbage
        # collection (pyqtgraph items connect Python slots to their destroyed signals).
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"tamrig — {rig.settings.name}")
        self.resize(1366, 768)
        self.last_states: dict[str, DeviceState] = {}
        self._shut_down = False
        #: asks the operator a yes/no question (tests replace it)
        self.confirm: Callable[[str], bool] = lambda q: _ask(self, q)

        self.frames = LatestFrame()
        self.device_worker = DeviceWorker(self.access, poll_interval_ms)
        self.camera_worker = CameraWorker(self.access, self.frames)
        self.device_thread = WorkerThread(self.device_worker, "devices")
        self.camera_thread = WorkerThread(self.camera_worker, "camera")
        self.live_dtt = LiveDifferential(rig.settings.pixel_size_nm)
        self.camera_worker.block_sinks.append(self.live_dtt)
        self.clock = DisplayClock(display_hz, self)

        self.safety = SafetyLine()
        self.banner = FaultBanner()
        self.banner.dismissed.connect(self.safety.clear_fault)
        self.camera_view = CameraView()
        self.dtt_view = DttView(rig.settings.pixel_size_nm, own_cuts=False)
        self.analysis = AnalysisPlots(arrange=False)
        self.live_dtt_box = QCheckBox("live ΔT/T (alignment)")
        self.live_dtt_box.toggled.connect(self.set_live_dtt)
        reset = QPushButton("reset average")
        reset.clicked.connect(self.live_dtt.reset)
        self.dtt_view.controls.addWidget(self.live_dtt_box)
        self.dtt_view.controls.addWidget(reset)
        self.dtt_view.controls.addStretch(1)
        self.fluence = QLabel("fluence: –")
        self.fluence.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._pending_dtt: tuple[Any, GaussianFit | None, str] | None = None
        #: fluence calibration of the last checked or started plan (live fluence read-out)
        self.calibration: FluenceCalibration | None = None
        self._live_after: str | None = None  # restart the live view after this command

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_live_tab(), "Live")
        self.alignment_view = AlignmentView()
        self.alignment_view.roi_requested.connect(self.set_camera_roi)
        self.tabs.addTab(self.alignment_view, "Alignment")
        self.timezero = TimeZeroTool(
            rig.delay_to_mm, str(rig.loaded.path), self.settings.last_data_dir
        )
        self.timezero.confirm = lambda q: self.confirm(q)
        self.timezero.rig_changed.connect(self.rig_requested.emit)
        self.tabs.addTab(self.timezero, "Time zero")
        # the data browser is built when first used: most sessions never open it
        self.data_tab = QWidget()
        QVBoxLayout(self.data_tab).setContentsMargins(0, 0, 0, 0)
        self._browser: DataBrowser | None = None
        self.tabs.addTab(self.data_tab, "Data")
        self.tabs.currentChanged.connect(
            lambda i: self.browser if self.tabs.widget(i) is self.data_tab else None
        )
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        # the safety line spans the whole window, above the docks, and cannot be closed
        safety_bar = QToolBar("Safety")
        safety_bar.setObjectName("safetyBar")
        safety_bar.setMovable(False)
        safety_bar.setFloatable(False)
        safety_bar.toggleViewAction().setEnabled(False)  # type: ignore[union-attr]
        safety_bar.addWidget(self.safety)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, safety_bar)
        self.status_bar = QStatusBar()
        self.setStatusBar(self.status_bar)
        self.panels: dict[str, DevicePanel] = {}
        self.scan_panel = ScanPanel(self.access, self.frames, self.settings)
        self._build_docks()
        self._build_menus()
        self._build_shortcuts()
        self._connect()
        self._restore_layout()
        last_plan = self.settings.last_plan()
        if last_plan and Path(last_plan).is_file():
            self.scan_panel.builder.load(last_plan)
        self.clock.register(self._draw_camera)
        self.clock.register(self._draw_dtt)
        self.clock.register(self.analysis.draw)
        self.clock.start()
        self.device_thread.start()
        self.camera_thread.start()

    # -- construction ----------------------------------------------------------------------
    def _build_live_tab(self) -> QWidget:
        """ΔT/T image and D(t) take the screen; camera, cuts, σ², MSD share a corner."""
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.camera_view, "camera")
        self.side_tabs.addTab(self.dtt_view.cuts_panel, "x/y cuts")
        self.side_tabs.addTab(self.analysis.plots["sigma2"], "σ²")
        self.side_tabs.addTab(self.analysis.plots["msd"], "MSD")
        d_box = QWidget()
        d_layout = QVBoxLayout(d_box)
        d_layout.setContentsMargins(0, 0, 0, 0)
        d_layout.setSpacing(0)
        d_layout.addWidget(self.analysis.legend)
        d_layout.addWidget(self.analysis.plots["diffusivity"], 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(d_box)
        right.addWidget(self.side_tabs)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        left = QWidget()
        l_layout = QVBoxLayout(left)
        l_layout.setContentsMargins(0, 0, 0, 0)
        l_layout.addWidget(self.dtt_view, 1)
        l_layout.addWidget(self.fluence)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        self.live_split = split
        return split

    def _build_docks(self) -> None:
        holder = QWidget()
        column = QVBoxLayout(holder)
        for role, device in self.rig.devices.items():
            panel = make_panel(role, device.family, self.submit, self.set_live)
            if isinstance(panel, StagePanel):
                panel.load_bookmarks(self.settings)
            if isinstance(panel, CameraPanel):
                panel.load_presets(self.settings)
            self.panels[role] = panel
            column.addWidget(panel)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        self.device_dock = self._dock("Devices", "devicesDock", scroll)
        self.scan_dock = self._dock("Scan", "scanDock", self.scan_panel)
        for dock in (self.device_dock, self.scan_dock):
            dock.setMinimumWidth(360)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.tabifyDockWidget(self.device_dock, self.scan_dock)
        self.scan_dock.raise_()
        self.log_panel = LogPanel()
        self.log_dock = self._dock("Log", "logDock", self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.resizeDocks([self.log_dock], [90], Qt.Orientation.Vertical)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    def _build_menus(self) -> None:
        menu_bar = self.menuBar()
        assert menu_bar is not None
        file_menu = menu_bar.addMenu("&File")
        assert file_menu is not None
        file_menu.addAction("Open &rig…", self.choose_rig)
        self.recent_menu = file_menu.addMenu("Recent rigs")
        self._fill_recent_menu()
        open_data = self._action("Open &data file…", self.open_data_file)
        open_data.setShortcut(QKeySequence("Ctrl+O"))
        file_menu.addAction(open_data)
        self.open_data_action = open_data
        file_menu.addAction(self._action("Load &plan…", self.scan_panel.builder.choose_load))
        file_menu.addSeparator()
        file_menu.addAction("&Quit", self.close)
        view_menu = menu_bar.addMenu("&View")
        assert view_menu is not None
        self.view_menu = view_menu
        for dock in (self.device_dock, self.scan_dock, self.log_dock):
            view_menu.addAction(dock.toggleViewAction())

    def _build_shortcuts(self) -> None:
        """Space pauses / resumes, Esc aborts (after a question); text fields keep Space."""
        self.pause_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.pause_shortcut.activated.connect(self.scan_panel.toggle_pause)
        self.abort_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.abort_shortcut.activated.connect(self.confirm_abort)

    def _action(self, text: str, slot: Any) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        return action

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        assert menu is not None
        menu.clear()
        for path in self.settings.recent_rigs():
            menu.addAction(path, lambda p=path: self.rig_requested.emit(p))
        menu.setEnabled(bool(self.settings.recent_rigs()))

    def _connect(self) -> None:
        self.device_worker.states.connect(self.apply_states)
        self.device_worker.command_failed.connect(self.on_command_failed)
        self.device_worker.command_done.connect(self.on_command_done)
        self.camera_worker.live_changed.connect(self.on_live_changed)
        self.camera_worker.failed.connect(lambda m: self.on_command_failed("camera: live", m))
        sp = self.scan_panel
        sp.about_to_start.connect(self.before_scan)
        self.timezero.run_requested.connect(lambda plan, out: sp.run(plan, out))
        sp.ended.connect(self.timezero.scan_ended)
        sp.running_changed.connect(self.set_scan_running)
        sp.point_done.connect(self.on_point)
        sp.series_final.connect(self.analysis.set_series)
        sp.calibration_ready.connect(self.set_calibration)
        sp.fault.connect(self.show_fault)
        sp.message.connect(self.log_message)
        sp.builder.file_used.connect(self.settings.remember_plan)
        self.log_handler = QtLogHandler()
        self.log_handler.relay.record.connect(self.log_panel.add)
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self.log_handler)

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._split_live)

    def _split_live(self) -> None:
        width = max(self.live_split.width(), 2)
        self.live_split.setSizes([width * 11 // 20, width * 9 // 20])

    def _restore_layout(self) -> None:
        geometry, state = self.settings.layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # -- files -----------------------------------------------------------------------------
    def choose_rig(self) -> None:
        start = self.rig.loaded.path
        path, _ = QFileDialog.getOpenFileName(self, "Open rig file", start, "Rig files (*.toml)")
        if path:
            self.rig_requested.emit(path)

    def open_data_file(self) -> None:
        self.browser.start_dir = self.settings.last_data_dir() or ""
        self.tabs.setCurrentWidget(self.data_tab)
        self.browser.choose_file()

    @property
    def browser(self) -> DataBrowser:
        if self._browser is None:
            browser = DataBrowser()
            browser.opened.connect(lambda p: self.settings.remember_data_dir(Path(p).parent))
            layout = self.data_tab.layout()
            assert layout is not None
            layout.addWidget(browser)
            self._browser = browser
        return self._browser

    # -- log, faults -----------------------------------------------------------------------
    @property
    def messages(self) -> list[str]:
        """Every logged message's text, oldest first."""
        return [f"{e.source}: {e.text}" for e in self.log_panel.entries]

    def log_message(self, level: str, text: str, source: str = "scan") -> None:
        self.log_panel.add(level, source, text)
        self.status_bar.showMessage(text, 15000 if level != "info" else 5000)

    def show_fault(self, device: str, message: str, rig_state: str) -> None:
        if self.banner.isVisible() and self.banner.device == device:
            return  # the fault that paused the scan is already shown
        self.banner.show_fault(device, message, rig_state)
        self.safety.set_fault(f"{device}: {message}")

    def confirm_abort(self) -> None:
        """Esc: abort the running scan once the operator confirms."""
        if not self.scan_panel.running:
            return
        if self.confirm("Abort the scan? Completed points stay in the file."):
            self.scan_panel.abort()

    # -- device commands and states -------------------------------------------------------
    def submit(self, label: str, action: Action) -> None:
        """Queue a device command on the device worker."""
        self.device_worker.request.emit(label, action)

    def set_live(self, on: bool) -> None:
        (self.camera_worker.start_requested if on else self.camera_worker.stop_requested).emit()

    def apply_states(self, states: dict[str, DeviceState]) -> None:
        previous = self.last_states
        self.last_states = states
        for role, state in states.items():
            panel = self.panels.get(role)
            if panel is not None:
                panel.apply(state)
            old = previous.get(role)
            error = state.read_error
            if error and (old is None or old.read_error != error):
                self.log_panel.add("error", role, error)
        camera = states.get("camera")
        acquiring = bool(camera and camera.values.get("acquiring"))
        for panel in self.panels.values():
            if isinstance(panel, ShutterPanel):
                panel.set_camera_acquiring(acquiring)
        if camera is not None and "pixel_format" in camera.values:
            saturation = saturation_counts(camera.values)
            self.camera_view.saturation = saturation
            sensor = tuple(int(v) for v in camera.values["sensor_shape"])
            roi = Roi(*(int(v) for v in camera.values["roi"]))
            self.alignment_view.set_camera((sensor[0], sensor[1]), roi, saturation)
        self.safety.apply_states(states)
        meter = states.get("power_meter")
        if meter is not None and "power_w" in meter.values:
            self.show_fluence(float(meter.values["power_w"]))

    def _panel_for(self, label: str) -> DevicePanel | None:
        return self.panels.get(label.split(":", 1)[0])

    def _restart_live(self, label: str) -> None:
        if label == self._live_after:
            self._live_after = None
            self.set_live(True)

    def on_command_failed(self, label: str, message: str) -> None:
        self.log_message("error", f"{label} failed: {message}", label.split(":", 1)[0])
        self._restart_live(label)
        panel = self._panel_for(label)
        if panel is not None:
            panel.command_finished(f"{label.split(': ', 1)[-1]} failed: {message}")

    def on_command_done(self, label: str, value: Any) -> None:
        self.status_bar.showMessage(f"{label}: done", 4000)
        self._restart_live(label)
        panel = self._panel_for(label)
        if panel is not None:
            panel.command_finished(None)

    def set_calibration(self, calibration: FluenceCalibration) -> None:
        self.calibration = calibration

    def show_fluence(self, power_w: float) -> None:
        """Power meter reading -> peak pump fluence and ⟨N_abs⟩ through the calibration."""
        calibration = self.calibration
        if calibration is None:
            self.fluence.setText(
                f"pump power {format_si(power_w, 'W', 4)} · no fluence calibration "
                "(check a plan on the rig)"
            )
            return
        fluence = calibration.fluence_for_power(power_w)
        n_abs = calibration.n_abs_for_fluence(fluence)
        n_text = f" · ⟨N_abs⟩ {n_abs:.3g}" if n_abs == n_abs else ""
        self.fluence.setText(
            f"pump power {format_si(power_w, 'W', 4)} → fluence {fluence:.4g} µJ/cm²{n_text}"
        )

    # -- live views ------------------------------------------------------------------------
    def _draw_camera(self) -> None:
        frame = self.frames.take()
        if frame is not None and self.tabs.currentWidget() is self.alignment_view:
            self.alignment_view.show_frame(frame.image)
        if frame is not None:
            self.camera_view.show_frame(
                frame.image,
                f"{frame.source} · frame {frame.frame_id} · {frame.frames_seen} frames read · "
                f"{self.camera_view.frames_drawn + 1} drawn",
            )

    def _draw_dtt(self) -> None:
        pending, self._pending_dtt = self._pending_dtt, None
        if pending is not None:
            self.dtt_view.show_dtt(*pending)
        live = self.live_dtt.take()
        if live is None or self.scan_panel.running:
            return
        if live.message:
            self.dtt_view.show_dtt(live.dtt, None, live.message)
            return
        fit = live.fit
        self.alignment_view.show_fit(fit, self.rig.settings.pixel_size_nm)
        sigma = f"σ = {fit.sigma_nm:.1f} ± {fit.sigma_err_nm:.1f} nm" if fit else "no fit"
        self.dtt_view.show_dtt(
            live.dtt, fit, f"live ΔT/T · {live.n_on}+{live.n_off} frames · {sigma}"
        )

    def set_live_dtt(self, on: bool) -> None:
        self.live_dtt.reset()
        self.live_dtt.enabled = on

    def set_camera_roi(self, roi: Roi) -> None:
        """Apply a camera ROI: the live view stops (settings only while stopped), the camera
        takes the ROI, the live view starts again if it was running."""
        if self.scan_panel.running:
            self.log_message("warning", "the camera ROI cannot change during a scan", "camera")
            return
        was_live = self.camera_worker.live
        if was_live:
            QMetaObject.invokeMethod(
                self.camera_worker, "stop_live", Qt.ConnectionType.BlockingQueuedConnection
            )
        label = f"camera: ROI {roi.width}×{roi.height} at ({roi.x}, {roi.y})"
        self._live_after = label if was_live else None
        self.camera_view.reset_levels()
        self.alignment_view.reset_levels()
        self.live_dtt.reset()
        self.submit(label, lambda rig: rig.camera.configure(roi=roi))

    def on_point(self, ev: PointDone) -> None:
        """A stored point: its ΔT/T (drawn on the next tick), power, fluence, transport."""
        r = ev.record
        # before time zero the pump has not arrived: a fitted "spot" there is noise
        fit = r.fit if r.fit is not None and r.fit.converged and r.delay_fs > 0 else None
        sigma = f" · σ = {fit.sigma_nm:.1f} ± {fit.sigma_err_nm:.1f} nm" if fit else ""
        when = format_delay(r.delay_fs)
        self._pending_dtt = (r.image.dtt, fit, f"point {r.index}: {when}{sigma}")
        if r.power_w is not None and (panel := self.power_panel) is not None:
            panel.add_reading(r.power_w)
        if r.fluence_measured_uj_cm2 == r.fluence_measured_uj_cm2:
            n = r.n_abs_measured
            self.fluence.setText(
                f"fluence {r.fluence_measured_uj_cm2:.4g} µJ/cm² measured "
                f"(target {r.fluence_uj_cm2:.4g})"
                + (f" · ⟨N_abs⟩ {n:.3g} ({r.n_abs:.3g})" if n == n else "")
            )
        if r.transport is not None:
            self.analysis.add_point(ev.series, r.transport, key=r.index)

    def before_scan(self) -> None:
        """The scan takes the rig: the live view stops (pump closes first) and waits."""
        self.live_dtt_box.setChecked(False)
        if self.camera_thread.thread.isRunning():
            QMetaObject.invokeMethod(
                self.camera_worker, "stop_live", Qt.ConnectionType.BlockingQueuedConnection
            )
        self.banner.hide()
        self.safety.clear_fault()
        self.analysis.clear()
        self.live_dtt.take()

    def stop_live_blocking(self) -> None:
        self.before_scan()

    def set_scan_running(self, running: bool) -> None:
        """Lock the device panels while a scan owns the rig (they keep showing read-backs)."""
        for panel in self.panels.values():
            panel.set_locked(running)
        self.live_dtt_box.setEnabled(not running)
        if not running:
            self.device_worker.request.emit("rig: refresh", lambda rig: None)

    def on_live_changed(self, on: bool) -> None:
        panel = self.panels.get("camera")
        if isinstance(panel, CameraPanel):
            panel.show_live(on)
        if not on:
            self.camera_view.info.setText("camera idle")

    @property
    def power_panel(self) -> PowerMeterPanel | None:
        panel = self.panels.get("power_meter")
        return panel if isinstance(panel, PowerMeterPanel) else None

    # -- shutdown --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the workers, then leave the rig in its safe state and disconnect it."""
        if self._shut_down:
            return
        self._shut_down = True
        self.clock.stop()
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self.log_handler)
        self.scan_panel.stop_and_wait()
        if self._browser is not None:
            self._browser.close_file()
        self.camera_thread.stop()
        self.device_thread.stop()
        with self.access.holding():
            try:
                self.rig.shutdown()
            except DeviceFault as exc:
                log.critical("rig shutdown: %s", exc)

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.settings.save_layout(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.shutdown()
        self.closed.emit()
        super().closeEvent(event)


def saturation_counts(camera_values: dict[str, Any]) -> float | None:
    """Full-scale counts of the camera's pixel format (None if unknown)."""
    bits = {"Mono8": 8, "Mono10": 10, "Mono12": 12, "Mono14": 14, "Mono16": 16}
    n = bits.get(str(camera_values.get("pixel_format")))
    summed = int(camera_values.get("accumulate", 1) or 1)
    return None if n is None else float(2**n - 1) * summed
