"""The operator's main window: device panels, live views, scan builder/run control, analysis."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QMetaObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QShowEvent
from PyQt6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tamrig.errors import DeviceFault
from tamrig.gui.analysis_plots import AnalysisPlots
from tamrig.gui.banner import FaultBanner
from tamrig.gui.browser import DataBrowser
from tamrig.gui.camera_worker import CameraWorker, LiveFrame
from tamrig.gui.device_worker import Action, DeviceWorker
from tamrig.gui.live_dtt import LiveDifferential, LiveDtt
from tamrig.gui.liveview import CameraView, DttView
from tamrig.gui.panels import (
    CameraPanel,
    DevicePanel,
    PowerMeterPanel,
    ShutterPanel,
    StagePanel,
    make_panel,
)
from tamrig.gui.rigaccess import RigAccess
from tamrig.gui.scan_panel import ScanPanel
from tamrig.gui.settings import GuiSettings
from tamrig.gui.state import DeviceState
from tamrig.gui.threads import WorkerThread
from tamrig.records import PointRecord
from tamrig.rig import Rig

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Owns the rig for its lifetime: closing the window leaves the rig in its safe state."""

    closed = pyqtSignal()
    #: the operator asked for another rig file (handled by the application controller)
    rig_requested = pyqtSignal(str)

    def __init__(
        self, rig: Rig, *, settings: GuiSettings | None = None, poll_interval_ms: int = 250
    ) -> None:
        super().__init__()
        self.rig = rig
        self.settings = settings or GuiSettings()
        self.access = RigAccess(rig)
        # Deleted by Qt's event loop once closed, never in the middle of Python's garbage
        # collection (pyqtgraph items connect Python slots to their destroyed signals).
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"tamrig — {rig.settings.name}")
        self.resize(1500, 950)
        self.last_states: dict[str, DeviceState] = {}
        self.messages: list[str] = []
        self._shut_down = False

        self.device_worker = DeviceWorker(self.access, poll_interval_ms)
        self.camera_worker = CameraWorker(self.access)
        self.device_thread = WorkerThread(self.device_worker, "devices")
        self.camera_thread = WorkerThread(self.camera_worker, "camera")

        self.banner = FaultBanner()
        self.camera_view = CameraView()
        self.camera_view.on_drawn = self.camera_worker.frame_shown
        self.dtt_view = DttView(rig.settings.pixel_size_nm, own_cuts=False)
        self.live_dtt = LiveDifferential(
            rig.settings.pixel_size_nm, publish=self.camera_worker.dtt_ready.emit, rate_hz=25.0
        )
        self.camera_worker.block_sinks.append(self.live_dtt)
        self.live_dtt_drawn = 0
        self.live_dtt_box = QCheckBox("live ΔT/T (alignment)")
        self.live_dtt_box.toggled.connect(self.set_live_dtt)
        reset = QPushButton("reset average")
        reset.clicked.connect(self.live_dtt.reset)
        self.dtt_view.controls.addWidget(self.live_dtt_box)
        self.dtt_view.controls.addWidget(reset)
        self.tabs = QTabWidget()
        # camera | ΔT/T side by side, the ΔT/T cuts across the full width below them
        images = QSplitter(Qt.Orientation.Horizontal)
        images.addWidget(self.camera_view)
        images.addWidget(self.dtt_view)
        live = QSplitter(Qt.Orientation.Vertical)
        live.addWidget(images)
        live.addWidget(self.dtt_view.cuts_panel)
        live.setStretchFactor(0, 3)
        live.setStretchFactor(1, 2)
        self.live_split = images
        self.tabs.addTab(live, "Live")
        self.analysis = AnalysisPlots()
        self.tabs.addTab(self.analysis, "Analysis")
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
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.status_bar = QStatusBar()
        self.setStatusBar(self.status_bar)
        self.panels: dict[str, DevicePanel] = {}
        self._build_device_dock()
        self.scan_panel = ScanPanel(self)
        scan_dock = QDockWidget("Scan", self)
        scan_dock.setObjectName("scanDock")
        scan_dock.setWidget(self.scan_panel)
        scan_dock.setMinimumWidth(420)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, scan_dock)
        self.scan_dock = scan_dock
        self._build_menus()
        self._connect_workers()
        self._restore_layout()
        last_plan = self.settings.last_plan()
        if last_plan and Path(last_plan).is_file():
            self.scan_panel.builder.load(last_plan)
        self.device_thread.start()
        self.camera_thread.start()

    # -- construction ----------------------------------------------------------------------
    def _build_device_dock(self) -> None:
        holder = QWidget()
        column = QVBoxLayout(holder)
        for role, device in self.rig.devices.items():
            panel = make_panel(role, device.family, self.submit, self.set_live)
            self.panels[role] = panel
            column.addWidget(panel)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        scroll.setMinimumWidth(380)
        dock = QDockWidget("Devices", self)
        dock.setObjectName("devicesDock")
        dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.device_dock = dock

    def _build_menus(self) -> None:
        menu_bar = self.menuBar()
        assert menu_bar is not None
        file_menu = menu_bar.addMenu("&File")
        assert file_menu is not None
        file_menu.addAction("Open &rig…", self.choose_rig)
        self.recent_menu = file_menu.addMenu("Recent rigs")
        self._fill_recent_menu()
        file_menu.addAction("Open &data file…", self.open_data_file)
        file_menu.addSeparator()
        file_menu.addAction("&Quit", self.close)
        view_menu = menu_bar.addMenu("&View")
        assert view_menu is not None
        self.view_menu = view_menu
        view_menu.addAction(self.device_dock.toggleViewAction())
        view_menu.addAction(self.scan_dock.toggleViewAction())
        file_menu.insertAction(
            self.recent_menu.menuAction() if self.recent_menu else None,
            self._action("Load &plan…", self.scan_panel.builder.choose_load),
        )

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

    def _connect_workers(self) -> None:
        self.device_worker.states.connect(self.apply_states)
        self.device_worker.command_failed.connect(self.on_command_failed)
        self.device_worker.command_done.connect(self.on_command_done)
        self.camera_worker.frame.connect(self.on_frame)
        self.camera_worker.dtt_ready.connect(self.on_live_dtt)
        self.camera_worker.live_changed.connect(self.on_live_changed)
        builder = self.scan_panel.builder
        builder.file_used.connect(self.settings.remember_plan)
        self.camera_worker.failed.connect(lambda m: self.on_command_failed("camera: live", m))

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        # camera and ΔT/T views share the Live tab equally, whatever their size hints say
        QTimer.singleShot(0, self._split_live_evenly)

    def _split_live_evenly(self) -> None:
        half = max(self.live_split.width() // 2, 1)
        self.live_split.setSizes([half, half])

    def _restore_layout(self) -> None:
        geometry, state = self.settings.layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # -- device commands and states -------------------------------------------------------
    def submit(self, label: str, action: Action) -> None:
        """Queue a device command on the device worker."""
        self.device_worker.request.emit(label, action)

    def set_live(self, on: bool) -> None:
        (self.camera_worker.start_requested if on else self.camera_worker.stop_requested).emit()

    def apply_states(self, states: dict[str, DeviceState]) -> None:
        self.last_states = states
        for role, state in states.items():
            panel = self.panels.get(role)
            if panel is not None:
                panel.apply(state)
        camera = states.get("camera")
        acquiring = bool(camera and camera.values.get("acquiring"))
        for panel in self.panels.values():
            if isinstance(panel, ShutterPanel):
                panel.set_camera_acquiring(acquiring)

    def _panel_for(self, label: str) -> DevicePanel | None:
        return self.panels.get(label.split(":", 1)[0])

    def on_command_failed(self, label: str, message: str) -> None:
        self.messages.append(f"{label} failed: {message}")
        self.status_bar.showMessage(f"{label} failed: {message}", 15000)
        panel = self._panel_for(label)
        if panel is not None:
            panel.command_finished(f"{label.split(': ', 1)[-1]} failed: {message}")

    def on_command_done(self, label: str, value: Any) -> None:
        self.status_bar.showMessage(f"{label}: done", 4000)
        panel = self._panel_for(label)
        if panel is not None:
            panel.command_finished(None)

    # -- live camera -----------------------------------------------------------------------
    def on_frame(self, frame: LiveFrame) -> None:
        self.camera_view.show_frame(
            frame.image,
            f"frame {frame.frame_id} · read {frame.frames_read} · shown {frame.frames_shown}",
        )

    def set_live_dtt(self, on: bool) -> None:
        self.live_dtt.reset()
        self.live_dtt.enabled = on

    def on_live_dtt(self, live: LiveDtt) -> None:
        if live.message:
            caption = live.message
        else:
            sigma = (
                f"σ = {live.fit.sigma_nm:.1f} ± {live.fit.sigma_err_nm:.1f} nm"
                if live.fit
                else "no fit"
            )
            what = "acquiring" if self.access.scan_active else "live ΔT/T"
            caption = f"{what} · {live.n_on}+{live.n_off} frames · {sigma}"
        self.dtt_view.show_dtt(live.dtt, live.fit, caption)
        self.live_dtt_drawn += 1
        self.live_dtt.shown()

    def stop_live_blocking(self) -> None:
        """Stop the live view (pump closes first) and wait until the camera is released."""
        self.live_dtt_box.setChecked(False)
        if self.camera_thread.thread.isRunning():
            QMetaObject.invokeMethod(
                self.camera_worker, "stop_live", Qt.ConnectionType.BlockingQueuedConnection
            )

    def set_scan_running(self, running: bool) -> None:
        """Lock the device panels while a scan owns the rig; re-read them afterwards."""
        for panel in self.panels.values():
            panel.set_locked(running)
        self.live_dtt_box.setEnabled(not running)
        if not running:
            self.device_worker.request.emit("rig: refresh", lambda rig: None)

    def show_scan_point(self, record: PointRecord) -> None:
        """While the scan owns the rig, the panels show what its points report."""
        stage = self.panels.get("stage")
        if isinstance(stage, StagePanel):
            stage.delay.setText(f"{record.delay_fs_measured:.1f} fs (scan)")
            if "stage_mm" in record.positions:
                stage.position.setText(f"{record.positions['stage_mm']:.6f} mm (scan)")
        if record.power_w is not None and self.power_panel is not None:
            self.power_panel.add_reading(record.power_w)

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
